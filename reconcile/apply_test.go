package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/simulator"
	"github.com/recallhq/recall/state"
)

// memBackend keeps state in memory and can be told to fail writes. The
// CLI tests run the same engine against the real file and PostgreSQL
// backends; this one lets the unit tests see every commit.
type memBackend struct {
	mu      sync.Mutex
	st      *state.State
	commits [][]state.Change
	// fail, if set, decides whether commit number n (from 1) fails.
	fail func(n int) error
	// stall, if set, is called (without the mutex) before commit n, with
	// its context: a backend that stops answering blocks here.
	stall func(ctx context.Context, n int) error
	tried atomic.Int64
	// committed, if set, receives the size of each successful commit.
	committed chan int
}

func newMemBackend() *memBackend { return &memBackend{st: state.New()} }

func (b *memBackend) String() string { return "memory" }

func (b *memBackend) Read(context.Context) (*state.State, error) { return b.st, nil }

func (b *memBackend) Commit(ctx context.Context, changes []state.Change) error {
	if n := b.tried.Add(1); b.stall != nil && len(changes) > 0 {
		if err := b.stall(ctx, int(n)); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(changes) == 0 {
		return nil
	}
	b.commits = append(b.commits, changes)
	if b.fail != nil {
		if err := b.fail(len(b.commits)); err != nil {
			return err
		}
	}
	for _, c := range changes {
		if c.Record == nil {
			b.st.Delete(c.ID)
		} else {
			b.st.Set(c.ID, *c.Record)
		}
	}
	b.st.Serial++
	if b.committed != nil {
		b.committed <- len(changes)
	}
	return nil
}

func (b *memBackend) Replace(context.Context, *state.State) error { return errors.New("not supported") }

func (b *memBackend) Lock(context.Context, state.LockRequest) (state.Lock, error) {
	return nil, errors.New("not supported")
}

func (b *memBackend) ForceUnlock(context.Context, string) error { return errors.New("not supported") }

func (b *memBackend) Close() error { return nil }

// stopperFunc adapts a function to Stopper.
type stopperFunc func(ctx context.Context, id string) (*clickatell.Result, error)

func (f stopperFunc) StopMessage(ctx context.Context, id string) (*clickatell.Result, error) {
	return f(ctx, id)
}

func cancelled(id string) *clickatell.Result {
	return &clickatell.Result{ID: id, Outcome: outcome.Cancelled, Status: "006", Description: "User cancelled message delivery", HTTPStatus: 200}
}

// testID returns a well-formed ID numbered n.
func testID(n int) msgid.ID { return msgid.MustParse(fmt.Sprintf("%032x", n+1)) }

// testPlan returns a plan cancelling n messages of group g against an
// empty state.
func testPlan(n int) *Plan {
	p := &Plan{FormatVersion: PlanFormatVersion}
	for i := 0; i < n; i++ {
		p.Changes = append(p.Changes, Change{ID: testID(i), Action: Cancel, Group: "g"})
	}
	p.Summary.Cancel = n
	return p
}

// endings counts the diagnostics and summaries a run reports (OnEvent is
// called from one goroutine) and keeps the summary's Stopped.
type endings struct {
	diags, summaries int
	stopped          string
}

func (e *endings) watch(opts *ApplyOptions) {
	opts.OnEvent = func(ev Event) {
		switch ev.Type {
		case EventDiagnostic:
			e.diags++
		case EventSummary:
			e.summaries++
			e.stopped = ev.Summary.Stopped
		}
	}
}

func fastOpts() ApplyOptions {
	return ApplyOptions{
		Parallelism:    4,
		MaxRetries:     DefaultMaxRetries,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  5 * time.Millisecond,
	}
}

func TestApply_OrderAndOutcomes(t *testing.T) {
	at := func(s string) *time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return &v
	}
	p := &Plan{FormatVersion: PlanFormatVersion, Changes: []Change{
		{ID: testID(0), Action: Cancel, Group: "unscheduled-a"},
		{ID: testID(1), Action: Cancel, Group: "late", ScheduledAt: at("2026-12-01T10:00:00Z")},
		{ID: testID(2), Action: Cancel, Group: "early", ScheduledAt: at("2026-11-28T09:00:00Z")},
		{ID: testID(3), Action: Cancel, Group: "late", ScheduledAt: at("2026-12-01T10:00:00Z")},
		{ID: testID(4), Action: Cancel, Group: "unscheduled-b"},
		{ID: testID(5), Action: Cancel, Group: "early", ScheduledAt: at("2026-11-28T09:00:00Z")},
	}}
	var mu sync.Mutex
	var sent []string
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		mu.Lock()
		sent = append(sent, id)
		mu.Unlock()
		switch id {
		case testID(1).String():
			return &clickatell.Result{ID: id, Outcome: outcome.TooLate, Status: "004", Description: "Received by recipient", HTTPStatus: 200}, nil
		case testID(4).String():
			return &clickatell.Result{ID: id, Outcome: outcome.NotFound, HTTPStatus: 404, Description: "Invalid or missing parameter"}, nil
		}
		return cancelled(id), nil
	})
	b := newMemBackend()
	opts := fastOpts()
	opts.Parallelism = 1
	var events []EventType
	opts.OnEvent = func(ev Event) { events = append(events, ev.Type) }
	now := time.Date(2026, 11, 27, 10, 0, 0, 500, time.UTC)
	opts.Now = func() time.Time { return now }

	res, err := Apply(context.Background(), p, b, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{testID(2).String(), testID(5).String(), testID(1).String(), testID(3).String(), testID(0).String(), testID(4).String()}
	if diff := cmp.Diff(want, sent); diff != "" {
		t.Errorf("calls not in scheduled_at order (-want +got):\n%s", diff)
	}
	wantCounts := Counts{Total: 6, Cancelled: 4, TooLate: 1, NotFound: 1, Calls: 6}
	if diff := cmp.Diff(wantCounts, res.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if res.Complete() {
		t.Error("Complete() = true with a too_late and a not_found message")
	}
	if got := b.st.Get(testID(1)); got.Outcome != outcome.TooLate || got.Status != "004" || got.Group != "late" || !got.At.Equal(now.Truncate(time.Second)) {
		t.Errorf("record for too_late message = %+v", got)
	}
	if got := b.st.Get(testID(4)).Outcome; got != outcome.NotFound {
		t.Errorf("outcome of 404 message = %v, want not_found", got)
	}
	if b.st.Len() != 6 {
		t.Errorf("state holds %d messages, want 6", b.st.Len())
	}
	if res.State != (StateRef{Lineage: b.st.Lineage, Serial: b.st.Serial}) {
		t.Errorf("result state %+v, backend at %s/%d", res.State, b.st.Lineage, b.st.Serial)
	}
	if events[0] != EventApplyStart || events[len(events)-1] != EventSummary {
		t.Errorf("events = %v, want apply_start first and summary last", events)
	}
	n := 0
	for _, e := range events {
		if e == EventMessage {
			n++
		}
	}
	if n != 6 {
		t.Errorf("%d message events, want 6", n)
	}
}

func TestApply_StalePlanSendsNothing(t *testing.T) {
	b := newMemBackend()
	b.st.Set(testID(99), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "x"})
	b.st.Serial = 3
	p := testPlan(5) // made against "no state"
	var calls atomic.Int64
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		calls.Add(1)
		return cancelled(id), nil
	})
	_, err := Apply(context.Background(), p, b, st, fastOpts())
	if !errors.Is(err, ErrStale) || !strings.HasPrefix(err.Error(), "Saved plan is stale") {
		t.Fatalf("err = %v, want a stale plan error", err)
	}
	if calls.Load() != 0 || len(b.commits) != 0 {
		t.Errorf("stale plan: %d calls, %d commits; want none", calls.Load(), len(b.commits))
	}
}

func TestApply_BoundedParallelism(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const p = 7
		var inFlight, peak atomic.Int64
		// The first calls wait until p are in flight at once, so the run must
		// reach its bound (a run one call at a time would not pass) while the
		// peak shows it never goes past it.
		full := make(chan struct{})
		var fullOnce sync.Once
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			n := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			if n >= p {
				fullOnce.Do(func() { close(full) })
			}
			select {
			case <-full:
			case <-time.After(30 * time.Second):
				return nil, &clickatell.APIError{HTTPStatus: 400, Description: "never " + fmt.Sprint(p) + " calls in flight at once"}
			}
			return cancelled(id), nil
		})
		opts := fastOpts()
		opts.Parallelism = p
		res, err := Apply(context.Background(), testPlan(300), newMemBackend(), st, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete() {
			t.Errorf("not complete: %+v", res.Counts)
		}
		if got := peak.Load(); got != p {
			t.Errorf("at most %d calls in flight at once, want %d", got, p)
		}
	})
}

// TestApply_CheckpointsWhileRunning holds the last message back until a
// checkpoint with the others has been written: results reach the state
// while the run is still going, not only at its end.
func TestApply_CheckpointsWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newMemBackend()
		b.committed = make(chan int, 100)
		last := testID(9).String()
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			if id == last {
				select {
				case <-b.committed:
				case <-time.After(30 * time.Second):
					return nil, errors.New("no checkpoint written while the run was going")
				}
			}
			return cancelled(id), nil
		})
		opts := fastOpts()
		opts.Parallelism = 2
		opts.CheckpointInterval = 10 * time.Millisecond
		res, err := Apply(context.Background(), testPlan(10), b, st, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete() || b.st.Len() != 10 {
			t.Fatalf("counts %+v, %d in state", res.Counts, b.st.Len())
		}
		if len(b.commits) < 2 {
			t.Errorf("%d commits, want a checkpoint during the run and one at the end", len(b.commits))
		}
	})
}

func TestApply_FatalAnswerStopsRunOnce(t *testing.T) {
	const p = 5
	var calls atomic.Int64
	var afterRevoke atomic.Int64
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		// The token is revoked from the 50th call on. Deciding by the
		// call's number, not by a flag set by the 50th, keeps calls 1-49
		// answered 006 however the workers interleave.
		if calls.Add(1) >= 50 {
			afterRevoke.Add(1)
			return nil, &clickatell.APIError{HTTPStatus: 401, Code: "001", Description: "Authentication failed"}
		}
		return cancelled(id), nil
	})
	b := newMemBackend()
	opts := fastOpts()
	opts.Parallelism = p
	var ends endings
	ends.watch(&opts)
	res, err := Apply(context.Background(), testPlan(1000), b, st, opts)
	var fe *FatalError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v, want *FatalError", err)
	}
	if got := afterRevoke.Load(); got > p {
		t.Errorf("%d calls answered 401, want at most %d (the calls in flight)", got, p)
	}
	if res.Failed != 0 || len(res.Failures) != 0 {
		t.Errorf("fatal stop reported as %d per-message failures: %+v", res.Failed, res.Failures)
	}
	if res.Calls != int(calls.Load()) {
		t.Errorf("result counts %d calls, the API saw %d", res.Calls, calls.Load())
	}
	if res.Cancelled != 49 || b.st.Len() != 49 {
		t.Errorf("cancelled %d, %d in state; want the 49 answered before the revoke", res.Cancelled, b.st.Len())
	}
	if fe.Remaining != 951 || !strings.Contains(err.Error(), "951 messages not yet cancelled") || !strings.Contains(err.Error(), "HTTP 401") {
		t.Errorf("error = %q", err)
	}
	if ends.diags != 0 || ends.summaries != 1 || ends.stopped != err.Error() {
		t.Errorf("%d diagnostics, %d summaries, stopped=%q", ends.diags, ends.summaries, ends.stopped)
	}
}

func TestApply_FailuresGroupedByCause(t *testing.T) {
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		var n int
		fmt.Sscanf(id, "%x", &n)
		switch {
		case n%10 == 0:
			return nil, &clickatell.APIError{HTTPStatus: 400, Code: "101", Description: "Invalid or missing parameter"}
		case n%7 == 0:
			return nil, &clickatell.APIError{HTTPStatus: 503, Code: "901", Description: "Internal error, please retry"}
		}
		return cancelled(id), nil
	})
	opts := fastOpts()
	opts.MaxRetries = 2
	b := newMemBackend()
	res, err := Apply(context.Background(), testPlan(100), b, st, opts)
	if err != nil {
		t.Fatal(err)
	}
	// IDs are numbered 1..100: ten multiples of 10, and thirteen of 7
	// that are not multiples of 10 (70 is both).
	if res.Failed != 23 || res.Cancelled != 77 || res.Errors.Len() != 23 {
		t.Fatalf("counts %+v, %d errors", res.Counts, res.Errors.Len())
	}
	if len(res.Failures) != 2 {
		t.Fatalf("failure groups = %+v", res.Failures)
	}
	g := res.Failures[0]
	if g.HTTPStatus != 503 || g.Code != "901" || g.Count != 13 || len(g.Examples) != maxExamples || !strings.Contains(g.Cause, "HTTP 503, error 901") {
		t.Errorf("largest group = %+v", g)
	}
	if g := res.Failures[1]; g.HTTPStatus != 400 || g.Count != 10 {
		t.Errorf("second group = %+v", g)
	}
	// A retryable failure is tried 1+MaxRetries times, a final one once.
	if want := 77 + 10*1 + 13*3; res.Calls != want {
		t.Errorf("%d calls, want %d", res.Calls, want)
	}
	for _, e := range res.Errors.Errors {
		var me *MessageError
		if !errors.As(e, &me) {
			t.Fatalf("error %v is not a *MessageError", e)
		}
		if _, ok := b.st.Lookup(me.ID); ok {
			t.Errorf("failed message %s recorded in state", me.ID)
		}
	}
}

func TestApply_InterruptWaitsForCallsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const p = 4
		interrupt := make(chan struct{})
		var calls atomic.Int64
		var once sync.Once
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			if calls.Add(1) == 20 {
				once.Do(func() { close(interrupt) })
			}
			// Calls in flight at the interrupt must still complete.
			time.Sleep(5 * time.Millisecond)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return cancelled(id), nil
		})
		b := newMemBackend()
		opts := fastOpts()
		opts.Parallelism = p
		opts.Interrupt = interrupt
		res, err := Apply(context.Background(), testPlan(500), b, st, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Interrupted {
			t.Error("Interrupted = false")
		}
		sent := int(calls.Load())
		if sent < 20 || sent > 20+p {
			t.Errorf("%d calls sent, want 20 plus at most the %d in flight", sent, p)
		}
		if res.Cancelled != sent || b.st.Len() != sent {
			t.Errorf("%d calls sent, %d cancelled, %d in state: calls in flight were not waited for and saved", sent, res.Cancelled, b.st.Len())
		}
		if res.Calls != sent {
			t.Errorf("result counts %d calls, %d were sent", res.Calls, sent)
		}
		if res.Remaining() != 500-sent {
			t.Errorf("remaining %d, want %d", res.Remaining(), 500-sent)
		}
	})
}

func TestApply_HardStopSavesState(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		if calls.Add(1) > 30 {
			cancel()
			<-ctx.Done() // a call that would never answer
			return nil, ctx.Err()
		}
		return cancelled(id), nil
	})
	b := newMemBackend()
	res, err := Apply(ctx, testPlan(500), b, st, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Cancelled != 30 || b.st.Len() != 30 || res.Failed != 0 {
		t.Errorf("interrupted=%v counts=%+v, %d in state; want the 30 answered saved, none failed", res.Interrupted, res.Counts, b.st.Len())
	}
}

func TestApply_FinalWriteFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newMemBackend()
		b.st.Set(testID(1000), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "old"})
		b.st.Serial = 7
		p := testPlan(50)
		p.State = StateRef{Lineage: b.st.Lineage, Serial: 7}
		diskFull := errors.New("no space left on device")
		b.fail = func(int) error { return diskFull }
		var warnings int
		opts := fastOpts()
		opts.CheckpointInterval = time.Millisecond
		opts.OnEvent = func(ev Event) {
			if ev.Type == EventDiagnostic {
				warnings++
			}
		}
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			time.Sleep(time.Millisecond)
			return cancelled(id), nil
		})
		res, err := Apply(context.Background(), p, b, st, opts)
		var se *SaveError
		if !errors.As(err, &se) || !errors.Is(err, diskFull) {
			t.Fatalf("err = %v, want *SaveError wrapping the write's error", err)
		}
		// The first failed checkpoint stopped the run: every answer received
		// is in the unsaved state, and the rest is counted as remaining.
		if res.Cancelled == 0 || se.Remaining != res.Remaining() || res.Interrupted {
			t.Errorf("counts %+v, remaining %d in the error, interrupted %v", res.Counts, se.Remaining, res.Interrupted)
		}
		if se.State.Lineage != p.State.Lineage || se.State.Serial != 8 || se.State.Len() != res.Cancelled+1 {
			t.Errorf("unsaved state: lineage %s serial %d with %d messages; want lineage %s serial 8 with %d",
				se.State.Lineage, se.State.Serial, se.State.Len(), p.State.Lineage, res.Cancelled+1)
		}
		if warnings != 1 {
			t.Errorf("%d diagnostics for the failed checkpoints, want one", warnings)
		}
		// The backend owns the State it read: the unsaved one is a copy.
		if b.st.Len() != 1 || b.st.Serial != 7 {
			t.Errorf("the backend's State was changed: serial %d, %d messages; want 7, 1", b.st.Serial, b.st.Len())
		}
	})
}

// TestApply_LockLostStopsRun: a checkpoint that finds the lock gone (a
// force-unlock during the run) stops the run at once, as a fatal answer
// does: no new calls, and the whole state comes back in a *SaveError that
// says so once, for the caller to save elsewhere.
func TestApply_LockLostStopsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const p, total = 4, 2000
		b := newMemBackend()
		lost := locatedErr{fmt.Errorf("memory: %w (ID 1234): force-unlocked", state.ErrLockLost)}
		var lostAt atomic.Int64 // calls sent when the lock was found lost
		var calls atomic.Int64
		b.fail = func(n int) error {
			if n >= 3 {
				lostAt.CompareAndSwap(0, calls.Load())
				return lost
			}
			return nil
		}
		opts := fastOpts()
		opts.Parallelism = p
		opts.CheckpointInterval = time.Millisecond
		var ends endings
		ends.watch(&opts)
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			calls.Add(1)
			// Calls slow down once the lock is lost, so that the bound below
			// leaves the collector a generous 200ms to see the failed write.
			if lostAt.Load() != 0 {
				time.Sleep(20 * time.Millisecond)
			} else {
				time.Sleep(100 * time.Microsecond)
			}
			return cancelled(id), nil
		})
		res, err := Apply(context.Background(), testPlan(total), b, st, opts)
		var se *SaveError
		if !errors.As(err, &se) || !errors.Is(err, state.ErrLockLost) {
			t.Fatalf("err = %v, want a *SaveError wrapping state.ErrLockLost", err)
		}
		if lostAt.Load() == 0 {
			t.Fatal("the lock was never found lost: the run ended before its third checkpoint")
		}
		// After the failed checkpoint, only the calls in flight and those
		// started before the collector saw it are sent, not the ~2,000 left.
		if after := calls.Load() - lostAt.Load(); after > 10*p {
			t.Errorf("%d calls sent after the lock was lost, want at most %d", after, 10*p)
		}
		if res.Done() >= total || res.Interrupted || res.Failed != 0 {
			t.Errorf("counts %+v, interrupted %v: want a run stopped early, not interrupted, no failures", res.Counts, res.Interrupted)
		}
		if len(b.commits) != 3 {
			t.Errorf("%d commits tried, want none after the one that found the lock lost", len(b.commits))
		}
		if se.State.Len() != res.Cancelled || se.Remaining != res.Remaining() || se.Remaining == 0 {
			t.Errorf("unsaved state holds %d messages, remaining %d; the run cancelled %d and left %d",
				se.State.Len(), se.Remaining, res.Cancelled, res.Remaining())
		}
		msg := err.Error()
		for _, once := range []string{"memory", "the state lock was lost", "not yet cancelled"} {
			if n := strings.Count(msg, once); n != 1 {
				t.Errorf("error says %q %d times, want once: %s", once, n, msg)
			}
		}
		if ends.diags != 0 || !strings.Contains(ends.stopped, "lock was lost") {
			t.Errorf("%d diagnostics, stopped=%q", ends.diags, ends.stopped)
		}
	})
}

// TestApply_CheckpointFailureStopsRun: a checkpoint that cannot be
// written stops new calls at once, rather than let unsaved answers pile
// up; the calls in flight are waited for and the final write is tried
// once more: here it succeeds, so every answer is saved and the error
// says how many messages are left.
func TestApply_CheckpointFailureStopsRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const total = 2000
		b := newMemBackend()
		var calls, failedAt atomic.Int64
		b.fail = func(n int) error {
			if n == 2 {
				failedAt.Store(calls.Load())
				return errors.New("transient")
			}
			return nil
		}
		opts := fastOpts()
		opts.CheckpointInterval = time.Millisecond
		var diags []string
		opts.OnEvent = func(ev Event) {
			if ev.Type == EventDiagnostic {
				diags = append(diags, ev.Diagnostic.Summary)
			}
		}
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			calls.Add(1)
			time.Sleep(200 * time.Microsecond)
			return cancelled(id), nil
		})
		res, err := Apply(context.Background(), testPlan(total), b, st, opts)
		var ce *CheckpointError
		if !errors.As(err, &ce) || ce.Remaining != res.Remaining() || ce.Remaining == 0 {
			t.Fatalf("err = %v, want a *CheckpointError with the remaining count (%d)", err, res.Remaining())
		}
		if failedAt.Load() == 0 {
			t.Fatal("the second checkpoint was never tried")
		}
		if after := calls.Load() - failedAt.Load(); after > 40 {
			t.Errorf("%d calls sent after the failed checkpoint, want only those in flight", after)
		}
		if len(diags) != 1 || !strings.Contains(diags[0], "no new calls are sent") {
			t.Errorf("diagnostics %q, want one saying no new calls are sent", diags)
		}
		if b.st.Len() != res.Cancelled || res.Interrupted {
			t.Errorf("%d in state, counts %+v, interrupted %v: want every answer saved", b.st.Len(), res.Counts, res.Interrupted)
		}
		for _, want := range []string{"memory", "transient", "not yet cancelled"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
	})
}

// TestApply_HardStopAbandonsStalledWrite: a hard stop (the CLI's second
// interrupt) while a checkpoint hangs on a backend that stopped answering
// returns within StopGrace, with every answer received in the *SaveError's
// state, instead of waiting for the backend.
func TestApply_HardStopAbandonsStalledWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		b := newMemBackend()
		stalled := make(chan struct{})
		b.stall = func(ctx context.Context, n int) error {
			if n < 2 {
				return nil
			}
			if n == 2 {
				close(stalled)
			}
			<-ctx.Done() // a backend that answers nothing, until abandoned
			return ctx.Err()
		}
		opts := fastOpts()
		opts.CheckpointInterval = time.Millisecond
		opts.StopGrace = 50 * time.Millisecond
		var answered atomic.Int64
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			select {
			case <-stalled:
				<-ctx.Done() // calls in flight at the hard stop never answer
				return nil, ctx.Err()
			default:
			}
			time.Sleep(100 * time.Microsecond)
			answered.Add(1)
			return cancelled(id), nil
		})
		go func() {
			<-stalled
			time.Sleep(20 * time.Millisecond)
			cancel()
		}()
		done := make(chan struct{})
		var res *ApplyResult
		var err error
		go func() {
			res, err = Apply(ctx, testPlan(5000), b, st, opts)
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("Apply did not return after the hard stop: it waits for the stalled write")
		}
		var se *SaveError
		if !errors.As(err, &se) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped at once") {
			t.Fatalf("err = %v, want a *SaveError saying the run was stopped at once", err)
		}
		if int64(se.State.Len()) != answered.Load() || int64(res.Cancelled) != answered.Load() {
			t.Errorf("unsaved state holds %d, result %d cancelled, %d answered: want every answer", se.State.Len(), res.Cancelled, answered.Load())
		}
	})
}

func TestCauseOf(t *testing.T) {
	id := testID(1).String()
	tests := []struct {
		err  error
		want string
	}{
		{&clickatell.APIError{HTTPStatus: 429}, "HTTP 429 (throttled)"},
		{&clickatell.APIError{HTTPStatus: 503, Code: "901", Description: "Internal error, please retry"}, "HTTP 503, error 901 (Internal error, please retry)"},
		{&clickatell.APIError{HTTPStatus: 502}, "HTTP 502 (bad gateway)"},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), "timeout (no answer in time)"},
		{fmt.Errorf("read: %w", errors.New("unexpected EOF")), "read: unexpected EOF"},
		{fmt.Errorf("message %s: malformed answer", id), "message {id}: malformed answer"},
		{&clickatell.StatusError{HTTPStatus: 200, Status: "011", Description: "Message scheduled for later delivery", Method: "DELETE"}, "still scheduled (status 011): the stop did not take"},
		{&clickatell.StatusError{HTTPStatus: 200, Status: "015", Description: "Something new", Method: "DELETE"}, "unknown message status 015 (not in Clickatell's table, not recorded)"},
		{&clickatell.APIError{HTTPStatus: 404}, "HTTP 404 (not found): not Clickatell's answer about the message"},
		{&clickatell.APIError{HTTPStatus: 404, Code: "404"}, "HTTP 404, error 404 (not found): not Clickatell's answer about the message"},
	}
	for _, tt := range tests {
		got, _, _ := causeOf(tt.err, id)
		if got != tt.want {
			t.Errorf("causeOf(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestFormatCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 4500: "4,500", 1234567: "1,234,567", -1200: "-1,200"} {
		if got := FormatCount(n); got != want {
			t.Errorf("FormatCount(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestApply_ErrorsCapped: a run where many calls fail keeps at most
// MaxMessageErrors errors, and still counts every failure.
func TestApply_ErrorsCapped(t *testing.T) {
	var failed atomic.Int64
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		var n int
		fmt.Sscanf(id, "%x", &n)
		if n%2 == 0 {
			return cancelled(id), nil
		}
		failed.Add(1)
		return nil, &clickatell.APIError{HTTPStatus: 400, Code: "101", Description: "Invalid or missing parameter"}
	})
	n := 2 * (MaxMessageErrors + 150)
	res, err := Apply(context.Background(), testPlan(n), newMemBackend(), st, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if f := int(failed.Load()); f != n/2 || res.Failed != f || res.Errors.Len() != MaxMessageErrors || len(res.Failures) != 1 || res.Failures[0].Count != f {
		t.Errorf("failed %d, %d errors kept, groups %+v", res.Failed, res.Errors.Len(), res.Failures)
	}
}

// TestApply_GivesUpWhenEverythingFails: when message after message fails
// (a dead endpoint, an outage), the run stops instead of spending every
// remaining message's retries, with one error saying so.
func TestApply_GivesUpWhenEverythingFails(t *testing.T) {
	const p = 4
	var calls atomic.Int64
	st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		calls.Add(1)
		return nil, &clickatell.APIError{HTTPStatus: 503, Code: "901", Description: "Internal error, please retry"}
	})
	opts := fastOpts()
	opts.Parallelism = p
	opts.MaxRetries = 2
	res, err := Apply(context.Background(), testPlan(10000), newMemBackend(), st, opts)
	var ge *GaveUpError
	if !errors.As(err, &ge) {
		t.Fatalf("err = %v, want *GaveUpError", err)
	}
	// The streak, the results already queued for the collector (its
	// buffer holds 4p) and the messages in flight when it ended: those
	// failed before the run stopped, and count.
	limit := 25 + 4*p + p
	if res.Failed < 25 || res.Failed > limit || int(calls.Load()) > limit*(1+opts.MaxRetries) {
		t.Errorf("%d failed, %d calls; want the run to stop after 25 failures", res.Failed, calls.Load())
	}
	if res.Interrupted || ge.Remaining != 10000 || !strings.Contains(err.Error(), "HTTP 503, error 901") || !strings.Contains(err.Error(), "10,000 messages not yet cancelled") {
		t.Errorf("interrupted=%v, error %q", res.Interrupted, err)
	}
}

// TestApply_Progress: progress events come while the run goes, with counts
// that only grow, and a rate once there is something to measure.
func TestApply_Progress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			time.Sleep(2 * time.Millisecond)
			return cancelled(id), nil
		})
		opts := fastOpts()
		opts.Parallelism = 2
		opts.ProgressInterval = 10 * time.Millisecond
		var progress []ProgressEvent
		opts.OnEvent = func(ev Event) {
			if ev.Type == EventProgress {
				progress = append(progress, *ev.Progress)
			}
		}
		if _, err := Apply(context.Background(), testPlan(100), newMemBackend(), st, opts); err != nil {
			t.Fatal(err)
		}
		if len(progress) < 2 {
			t.Fatalf("%d progress events in a run of 100 calls of 2ms, 2 at a time, every 10ms", len(progress))
		}
		for i, p := range progress {
			if p.Total != 100 || (i > 0 && p.Done() < progress[i-1].Done()) || p.Elapsed <= 0 {
				t.Errorf("progress %d: %+v", i, p)
			}
		}
		if last := progress[len(progress)-1]; last.Done() == 0 || last.Rate <= 0 {
			t.Errorf("last progress %+v: want something done at some rate", last)
		}
	})
}

// TestProgressEvent_JSON: the rate and the seconds of a progress event are
// written to a tenth, and read back as written.
func TestProgressEvent_JSON(t *testing.T) {
	p := &ProgressEvent{
		Counts:  Counts{Total: 1000, Cancelled: 240, Calls: 250},
		Elapsed: Seconds(4012345678 * time.Nanosecond),
		Rate:    59.97674803439178,
		ETA:     Seconds(12680 * time.Millisecond),
	}
	b, err := json.Marshal(Event{Type: EventProgress, Time: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Progress: p})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"type":"progress","time":"2026-11-27T09:00:00Z","progress":{"total":1000,"cancelled":240,"too_late":0,"not_found":0,"not_delivered":0,"failed":0,"calls":250,"elapsed_seconds":4,"rate":60,"eta_seconds":12.7}}`
	if string(b) != want {
		t.Errorf("JSON:\n got %s\nwant %s", b, want)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Progress; got == nil || got.Counts != p.Counts || got.Rate != 60 || got.Elapsed.Duration() != 4*time.Second || got.ETA.Duration() != 12700*time.Millisecond {
		t.Errorf("read back: %+v", got)
	}
}

// TestApply_WrongEndpointPathSettlesNothing: with a base URL whose path is
// wrong (".../api"), every call reaches a plain 404 page, not the API: no
// message is recorded (not even as not_found), all stay to be tried again,
// and the group's error is the 404 the CLI points at CLICKATELL_ENDPOINT
// for (cmd/recall's advice).
func TestApply_WrongEndpointPathSettlesNothing(t *testing.T) {
	sim, err := simulator.New(simulator.Config{Token: "t", AnyScheduled: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := clickatell.New(clickatell.WithBaseURL(srv.URL+"/api"), clickatell.WithToken("t"), clickatell.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	b := newMemBackend()
	res, err := Apply(context.Background(), testPlan(5), b, client, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if res.Settled() != 0 || res.Failed != 5 || b.st.Len() != 0 {
		t.Errorf("counts %+v, %d in state: want 5 failed, none settled or recorded", res.Counts, b.st.Len())
	}
	if len(res.Failures) != 1 || !strings.Contains(res.Failures[0].Cause, "HTTP 404") || !is404(res.Failures[0].Err) {
		t.Errorf("failures %+v: want one group, a 404 (which the CLI points at CLICKATELL_ENDPOINT)", res.Failures)
	}
	if st := sim.Stats(); st.Cancelled != 0 || st.NotFound != int64(res.Calls) {
		t.Errorf("simulator saw %+v: want every call a 404, none cancelling", st)
	}
}

// TestApply_StatusTable: every status of Clickatell's table settles as the
// table says and is recorded with its status and description; 011 is
// retried within the retry budget and, still scheduled, is a failure of
// its own cause; a status nobody knows is a failure naming it; neither is
// recorded.
func TestApply_StatusTable(t *testing.T) {
	statuses := []struct {
		status string
		want   outcome.Outcome // 0: not settled
	}{
		{"006", outcome.Cancelled},
		{"002", outcome.TooLate}, {"003", outcome.TooLate}, {"004", outcome.TooLate}, {"008", outcome.TooLate},
		{"005", outcome.NotDelivered}, {"007", outcome.NotDelivered}, {"009", outcome.NotDelivered}, {"010", outcome.NotDelivered},
		{"012", outcome.NotDelivered}, {"013", outcome.NotDelivered}, {"014", outcome.NotDelivered},
		{"001", outcome.NotFound},
		{"011", 0}, {"015", 0}, {"999", 0},
	}
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/rest/message/")
		var n int
		fmt.Sscanf(id, "%x", &n)
		mu.Lock()
		calls[id]++
		mu.Unlock()
		st := statuses[n-1].status
		fmt.Fprintf(w, `{"data":{"messageStatus":%q,"description":"status %s","apiMessageId":%q}}`, st, st, id)
	}))
	defer srv.Close()
	client, err := clickatell.New(clickatell.WithBaseURL(srv.URL), clickatell.WithToken("status-table-token"), clickatell.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	b := newMemBackend()
	opts := fastOpts()
	opts.MaxRetries = 2
	res, err := Apply(context.Background(), testPlan(len(statuses)), b, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Total: 16, Cancelled: 1, TooLate: 4, NotDelivered: 7, NotFound: 1, Failed: 3, Calls: 13 + 3 + 1 + 1}
	if diff := cmp.Diff(want, res.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	for i, st := range statuses {
		id := testID(i)
		rec, ok := b.st.Lookup(id)
		switch {
		case st.want == 0 && ok:
			t.Errorf("status %s recorded as %+v", st.status, rec)
		case st.want != 0 && (rec.Outcome != st.want || rec.Status != st.status || rec.Description != "status "+st.status):
			t.Errorf("status %s recorded as %+v, want %v with its status and description", st.status, rec, st.want)
		}
	}
	if n := calls[testID(13).String()]; n != 3 {
		t.Errorf("011 was sent %d times, want 3 (1 + MaxRetries)", n)
	}
	causes := map[string]int{}
	for _, g := range res.Failures {
		causes[g.Cause] = g.Count
	}
	wantCauses := map[string]int{
		"still scheduled (status 011): the stop did not take":                  1,
		"unknown message status 015 (not in Clickatell's table, not recorded)": 1,
		"unknown message status 999 (not in Clickatell's table, not recorded)": 1,
	}
	if diff := cmp.Diff(wantCauses, causes); diff != "" {
		t.Errorf("failure causes (-want +got):\n%s", diff)
	}
}

// TestApply_404SettlesOnlyClickatellsError: only Clickatell's own error
// about the message settles a 404.
func TestApply_404SettlesOnlyClickatellsError(t *testing.T) {
	bodies := []struct {
		ct, body string
		settles  bool
	}{
		{"application/json", `{"error":{"code":"161","description":"Resource does not exist"}}`, true},
		{"application/json", `{"error":{"code":103,"description":"Unknown API message ID"}}`, true},
		{"application/xml", `<response><error><code>104</code><description>Unknown client message ID</description></error></response>`, true},
		{"", "", false},
		{"text/html", "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>", false},
		{"text/plain", "404 page not found\n", false},
		{"application/json", `{"error":{"code":"404"}}`, false},
		{"application/json", `{"error":{"description":"Not Found"}}`, false},
		{"application/json", `{"data":{"messageStatus":"001","description":"Message unknown"}}`, false},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		fmt.Sscanf(strings.TrimPrefix(r.URL.Path, "/rest/message/"), "%x", &n)
		if ct := bodies[n-1].ct; ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, bodies[n-1].body)
	}))
	defer srv.Close()
	client, err := clickatell.New(clickatell.WithBaseURL(srv.URL), clickatell.WithToken("status-table-token"), clickatell.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	b := newMemBackend()
	res, err := Apply(context.Background(), testPlan(len(bodies)), b, client, fastOpts())
	if err != nil {
		t.Fatal(err)
	}
	if res.NotFound != 3 || res.Failed != 6 || res.Calls != len(bodies) {
		t.Errorf("counts %+v: want 3 not found, 6 failed, one call each", res.Counts)
	}
	for i, bd := range bodies {
		rec, ok := b.st.Lookup(testID(i))
		if ok != bd.settles || ok && rec.Outcome != outcome.NotFound {
			t.Errorf("404 %q: recorded %v %+v, want recorded %v", bd.body, ok, rec, bd.settles)
		}
	}
	for _, g := range res.Failures {
		if !strings.Contains(g.Cause, "HTTP 404") || !is404(g.Err) {
			t.Errorf("cause %q (%v): want it to name the 404, and the 404 in its error (which the CLI points at CLICKATELL_ENDPOINT)", g.Cause, g.Err)
		}
	}
}

// is404 reports whether err is an API answer with HTTP status 404.
func is404(err error) bool {
	var ae *clickatell.APIError
	return errors.As(err, &ae) && ae.HTTPStatus == 404
}

// locatedErr is a backend error whose text begins with its location, as
// pg's lost lock does (state.Located).
type locatedErr struct{ error }

func (e locatedErr) LocationFirst() bool { return true }
func (e locatedErr) Unwrap() error       { return e.error }
