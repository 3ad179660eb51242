package reconcile

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/outcome"
)

// unknown is Clickatell's 404 about a message it does not know.
func unknown(id string) *clickatell.Result {
	return &clickatell.Result{ID: id, Outcome: outcome.NotFound, Code: "161", Description: "Resource does not exist", HTTPStatus: 404}
}

// indexOf returns the plan index of a testID's string form.
func indexOf(t *testing.T, id string) int {
	t.Helper()
	n, err := strconv.ParseUint(id[16:], 16, 64)
	if err != nil || testID(int(n)-1).String() != id {
		t.Fatalf("not a test ID: %s", id)
	}
	return int(n) - 1
}

// answers returns a stopper answering message i with answer(i), counting
// the calls.
func answers(t *testing.T, calls *atomic.Int64, answer func(i int, id string) (*clickatell.Result, error)) Stopper {
	return stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		calls.Add(1)
		return answer(indexOf(t, id), id)
	})
}

// diagnostics collects the summaries and details of diagnostic events.
type diagnostics struct {
	mu      sync.Mutex
	out     []string
	warning *UnknownIDsWarning // the last one's, if any
}

func (d *diagnostics) on(ev Event) {
	if ev.Type == EventDiagnostic {
		d.mu.Lock()
		d.out = append(d.out, ev.Diagnostic.Summary+": "+ev.Diagnostic.Detail)
		errors.As(ev.Diagnostic.Err, &d.warning)
		d.mu.Unlock()
	}
}

func (d *diagnostics) String() string { return strings.Join(d.out, "\n") }

// allUnknown answers that every message is unknown.
func allUnknown(_ int, id string) (*clickatell.Result, error) { return unknown(id), nil }

// unknownFirst answers that the first n messages are unknown and cancels
// the others.
func unknownFirst(n int) func(i int, id string) (*clickatell.Result, error) {
	return func(i int, id string) (*clickatell.Result, error) {
		if i < n {
			return unknown(id), nil
		}
		return cancelled(id), nil
	}
}

func guardOpts(parallelism int) ApplyOptions {
	o := fastOpts()
	o.Parallelism = parallelism
	return o
}

// runGuarded is Apply of the plan's first n messages, answered by st,
// with guardOpts(parallelism) changed by edit (if not nil), collecting
// every diagnostic.
func runGuarded(n, parallelism int, st Stopper, edit func(*ApplyOptions)) (*memBackend, *diagnostics, *ApplyResult, error) {
	b, d := newMemBackend(), &diagnostics{}
	opts := guardOpts(parallelism)
	if edit != nil {
		edit(&opts)
	}
	opts.OnEvent = d.on
	res, err := Apply(context.Background(), testPlan(n), b, st, opts)
	return b, d, res, err
}

// TestApply_UnknownGuardTripsAtWindow: with one call at a time, the
// window's 25th unknown answer stops the run: exactly 25 calls, nothing
// recorded, an *UnknownIDsError with the counts; 24 unknown answers and a
// 25th that is not unknown record all of them.
func TestApply_UnknownGuardTripsAtWindow(t *testing.T) {
	t.Run("trips", func(t *testing.T) {
		var calls atomic.Int64
		st := answers(t, &calls, allUnknown)
		b := newMemBackend()
		var sum *SummaryEvent
		opts := guardOpts(1)
		opts.OnEvent = func(ev Event) {
			if ev.Type == EventSummary {
				sum = ev.Summary
			}
		}
		res, err := Apply(context.Background(), testPlan(200), b, st, opts)
		var ue *UnknownIDsError
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want *UnknownIDsError", err)
		}
		if *ue != (UnknownIDsError{Answers: 25, Parallelism: 1, Remaining: 200}) {
			t.Errorf("error fields %+v", *ue)
		}
		if calls.Load() != 25 {
			t.Errorf("%d calls, want exactly 25", calls.Load())
		}
		if b.st.Len() != 0 || len(b.commits) != 0 {
			t.Errorf("state holds %d messages after %d commits, want none", b.st.Len(), len(b.commits))
		}
		if res.NotFound != 0 || res.Remaining() != 200 || res.Interrupted {
			t.Errorf("result %+v (interrupted %v): want nothing settled, not interrupted", res.Counts, res.Interrupted)
		}
		if sum == nil || !strings.Contains(sum.Stopped, "first 25 answers all said the message ID is unknown") || !strings.Contains(sum.Stopped, "200 messages not yet cancelled") {
			t.Errorf("summary %+v", sum)
		}
	})
	t.Run("24 unknown, then cancelled", func(t *testing.T) {
		var calls atomic.Int64
		st := answers(t, &calls, unknownFirst(24))
		b := newMemBackend()
		res, err := Apply(context.Background(), testPlan(100), b, st, guardOpts(1))
		if err != nil {
			t.Fatal(err)
		}
		if res.NotFound != 24 || res.Cancelled != 76 || b.st.Len() != 100 {
			t.Errorf("counts %+v, %d in state: want 24 not found and 76 cancelled, all recorded", res.Counts, b.st.Len())
		}
		if got := b.st.Get(testID(0)); got.Outcome != outcome.NotFound || got.Status != "" || got.Description != "Resource does not exist" {
			t.Errorf("first held answer recorded as %+v", got)
		}
	})
	t.Run("window is twice the parallelism above 25", func(t *testing.T) {
		var calls atomic.Int64
		st := answers(t, &calls, allUnknown)
		b := newMemBackend()
		_, err := Apply(context.Background(), testPlan(500), b, st, guardOpts(20))
		var ue *UnknownIDsError
		if !errors.As(err, &ue) || ue.Answers != 40 || ue.Parallelism != 20 || ue.Remaining != 500 {
			t.Fatalf("err = %#v, want an *UnknownIDsError after 40 answers", err)
		}
		if n := calls.Load(); n < 40 || n > 40+20 {
			t.Errorf("%d calls, want 40 plus at most those in flight", n)
		}
		if b.st.Len() != 0 {
			t.Errorf("state holds %d messages, want none", b.st.Len())
		}
	})
}

// TestApply_UnknownGuardHeldUntilCleared: unknown answers are not written
// at checkpoints while every answer is unknown (fake time: ten checkpoints
// pass); the first other answer releases them all, and from then on the
// guard is off (30 more unknown answers are recorded).
func TestApply_UnknownGuardHeldUntilCleared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newMemBackend()
		var commitsBefore int = -1
		var calls atomic.Int64
		st := answers(t, &calls, func(i int, id string) (*clickatell.Result, error) {
			time.Sleep(time.Second)
			switch {
			case i < 10:
				return unknown(id), nil
			case i == 10:
				b.mu.Lock()
				commitsBefore = len(b.commits)
				b.mu.Unlock()
				return cancelled(id), nil
			}
			return unknown(id), nil
		})
		res, err := Apply(context.Background(), testPlan(40), b, st, guardOpts(1))
		if err != nil {
			t.Fatal(err)
		}
		if commitsBefore != 0 {
			t.Errorf("%d commits before the first answer that was not unknown, want 0: held answers were written", commitsBefore)
		}
		if res.NotFound != 39 || res.Cancelled != 1 || b.st.Len() != 40 {
			t.Errorf("counts %+v, %d in state: want 39 not found and 1 cancelled, all recorded", res.Counts, b.st.Len())
		}
		if len(b.commits) < 2 {
			t.Errorf("%d commits, want checkpoints during the 30 s after the guard cleared", len(b.commits))
		}
	})
}

// TestApply_UnknownGuardInFlightAfterTrip: when the guard trips, the calls
// in flight finish; their unknown answers are not recorded, their other
// answers are. No call starts after the trip but those already handed to a
// worker.
func TestApply_UnknownGuardInFlightAfterTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int64
		st := answers(t, &calls, func(i int, id string) (*clickatell.Result, error) {
			// Four at a time, a second each: the 25th answer comes with
			// those of messages 24 to 26 at 7 s; message 27, slower, is
			// still in flight then and is cancelled.
			if i == 27 {
				time.Sleep(3 * time.Second)
				return cancelled(id), nil
			}
			time.Sleep(time.Second)
			return unknown(id), nil
		})
		b := newMemBackend()
		res, err := Apply(context.Background(), testPlan(100), b, st, guardOpts(4))
		var ue *UnknownIDsError
		if !errors.As(err, &ue) || ue.Answers != 25 || ue.Remaining != 99 {
			t.Fatalf("err = %#v, want an *UnknownIDsError after 25 answers, 99 left", err)
		}
		if b.st.Len() != 1 || b.st.Get(testID(27)).Outcome != outcome.Cancelled {
			t.Errorf("state %v: want only message 27, cancelled", maps.Collect(b.st.All()))
		}
		if res.Cancelled != 1 || res.NotFound != 0 {
			t.Errorf("counts %+v", res.Counts)
		}
		if n := calls.Load(); n > 28+4 {
			t.Errorf("%d calls: new calls went out after the trip", n)
		}
	})
}

// TestApply_UnknownGuardFailuresNeitherTripNorClear: a failed call is not
// an answer about its message: 20 unknown answers, 10 failures, then 5
// unknown answers trip the guard at the 25th answer (35 calls), and the
// failures are still reported.
func TestApply_UnknownGuardFailuresNeitherTripNorClear(t *testing.T) {
	var calls atomic.Int64
	st := answers(t, &calls, func(i int, id string) (*clickatell.Result, error) {
		if i >= 20 && i < 30 {
			return nil, errors.New("boom")
		}
		return unknown(id), nil
	})
	b := newMemBackend()
	res, err := Apply(context.Background(), testPlan(100), b, st, guardOpts(1))
	var ue *UnknownIDsError
	if !errors.As(err, &ue) || ue.Answers != 25 {
		t.Fatalf("err = %v, want an *UnknownIDsError", err)
	}
	if calls.Load() != 35 || res.Failed != 10 || b.st.Len() != 0 {
		t.Errorf("%d calls, counts %+v, %d in state: want 35 calls, 10 failed, nothing recorded", calls.Load(), res.Counts, b.st.Len())
	}
}

// TestApply_UnknownGuardStopsDuringWindow: an interrupt, a fatal answer or
// a failed final write during the window never records the held unknown
// answers, and never loses the answers that were recorded.
func TestApply_UnknownGuardStopsDuringWindow(t *testing.T) {
	t.Run("interrupt", func(t *testing.T) {
		interrupt := make(chan struct{})
		var once sync.Once
		var calls atomic.Int64
		st := answers(t, &calls, func(i int, id string) (*clickatell.Result, error) {
			if i == 9 {
				once.Do(func() { close(interrupt) })
			}
			return unknown(id), nil
		})
		b, d, res, err := runGuarded(100, 1, st, func(o *ApplyOptions) { o.Interrupt = interrupt })
		if err != nil {
			t.Fatal(err)
		}
		if !res.Interrupted || res.NotFound != 0 || b.st.Len() != 0 {
			t.Errorf("result %+v (interrupted %v), %d in state: want interrupted, nothing recorded", res.Counts, res.Interrupted, b.st.Len())
		}
		if !strings.Contains(d.String(), "10 messages answered as unknown to Clickatell were not recorded") {
			t.Errorf("diagnostics:\n%s", d.String())
		}
	})
	t.Run("fatal", func(t *testing.T) {
		var calls atomic.Int64
		st := answers(t, &calls, func(i int, id string) (*clickatell.Result, error) {
			if i == 10 {
				return nil, &clickatell.APIError{HTTPStatus: 401, Code: "001", Description: "Authentication failed"}
			}
			return unknown(id), nil
		})
		b := newMemBackend()
		_, err := Apply(context.Background(), testPlan(100), b, st, guardOpts(1))
		var fe *FatalError
		if !errors.As(err, &fe) {
			t.Fatalf("err = %v, want *FatalError", err)
		}
		if b.st.Len() != 0 {
			t.Errorf("state holds %d messages, want none", b.st.Len())
		}
	})
	t.Run("final write fails after release", func(t *testing.T) {
		var calls atomic.Int64
		st := answers(t, &calls, unknownFirst(5))
		b := newMemBackend()
		b.fail = func(int) error { return errors.New("disk full") }
		_, err := Apply(context.Background(), testPlan(30), b, st, guardOpts(1))
		var se *SaveError
		if !errors.As(err, &se) {
			t.Fatalf("err = %v, want *SaveError", err)
		}
		if se.State.Len() != 30 || se.State.Get(testID(0)).Outcome != outcome.NotFound {
			t.Errorf("unsaved state holds %d messages (first %+v), want all 30, the released ones not_found", se.State.Len(), se.State.Get(testID(0)))
		}
	})
	t.Run("fewer answers than the window, every message tried", func(t *testing.T) {
		// 30 planned (a window of 25), 10 failed: 20 answers, all
		// unknown, recorded and warned about as for a small run.
		var calls atomic.Int64
		st := answers(t, &calls, func(i int, id string) (*clickatell.Result, error) {
			if i%3 == 2 {
				return nil, errors.New("boom")
			}
			return unknown(id), nil
		})
		b, d, res, err := runGuarded(30, 1, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.NotFound != 20 || res.Failed != 10 || b.st.Len() != 20 {
			t.Errorf("counts %+v, %d in state", res.Counts, b.st.Len())
		}
		if !strings.Contains(d.String(), "Every answer of this run said the message ID is unknown") {
			t.Errorf("diagnostics:\n%s", d.String())
		}
	})
}

// TestApply_UnknownSmallRunWarns: a run smaller than the window records
// its unknown answers, and warns when every answer was unknown, naming
// an *UnknownIDsWarning (to which the CLI adds 'state rm -outcome
// not_found'); not when one answer was not unknown.
func TestApply_UnknownSmallRunWarns(t *testing.T) {
	for _, tt := range []struct {
		name     string
		answer   func(i int, id string) (*clickatell.Result, error)
		warn     bool
		notFound int
	}{
		{"all unknown", func(i int, id string) (*clickatell.Result, error) { return unknown(id), nil }, true, 10},
		{"one cancelled", func(i int, id string) (*clickatell.Result, error) {
			if i == 7 {
				return cancelled(id), nil
			}
			return unknown(id), nil
		}, false, 9},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			b, d, res, err := runGuarded(10, 4, answers(t, &calls, tt.answer), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.NotFound != tt.notFound || b.st.Len() != 10 {
				t.Errorf("counts %+v, %d in state: want %d not found, all recorded", res.Counts, b.st.Len(), tt.notFound)
			}
			got := d.String()
			warned := strings.Contains(got, "Every answer of this run said the message ID is unknown to Clickatell (10 messages recorded not found)") &&
				strings.Contains(got, "another account's") && d.warning != nil && d.warning.Recorded == 10
			if warned != tt.warn {
				t.Errorf("warned %v, want %v; diagnostics:\n%s", warned, tt.warn, got)
			}
		})
	}
}

// TestApply_AllowUnknownIDs: with the guard off, every unknown answer is
// recorded not_found, with neither an error nor a warning.
func TestApply_AllowUnknownIDs(t *testing.T) {
	var calls atomic.Int64
	st := answers(t, &calls, allUnknown)
	b, d, res, err := runGuarded(200, 4, st, func(o *ApplyOptions) { o.AllowUnknownIDs = true })
	if err != nil {
		t.Fatal(err)
	}
	if res.NotFound != 200 || b.st.Len() != 200 || calls.Load() != 200 {
		t.Errorf("counts %+v, %d in state, %d calls: want all 200 recorded not found", res.Counts, b.st.Len(), calls.Load())
	}
	if len(d.out) != 0 {
		t.Errorf("diagnostics:\n%s", d.String())
	}
}
