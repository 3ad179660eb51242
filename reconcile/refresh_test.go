package reconcile

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/simulator"
	"github.com/recallhq/recall/state"
)

// readerFunc adapts a function to StatusReader.
type readerFunc func(ctx context.Context, id string) (*clickatell.Result, error)

func (f readerFunc) MessageStatus(ctx context.Context, id string) (*clickatell.Result, error) {
	return f(ctx, id)
}

func answer(id string, o outcome.Outcome, status, desc string) *clickatell.Result {
	http := 200
	if o == outcome.NotFound && status == "" {
		http = 404
	}
	return &clickatell.Result{ID: id, Outcome: o, Status: status, Description: desc, HTTPStatus: http}
}

// refreshCase is one message of TestRefresh_Kinds: what state recorded,
// what Clickatell answers, and what the refresh must make of it.
type refreshCase struct {
	recorded outcome.Outcome // 0: not recorded
	answer   func(id string) (*clickatell.Result, error)
	kind     string // the message event's refresh, "" for a failure
	after    outcome.Outcome
}

// says answers any ID with outcome o, status and description.
func says(o outcome.Outcome, status, desc string) func(id string) (*clickatell.Result, error) {
	return func(id string) (*clickatell.Result, error) { return answer(id, o, status, desc), nil }
}

// What Clickatell answers in refreshCases.
var (
	saysCancelled = says(outcome.Cancelled, "006", "User cancelled message delivery")
	saysDelivered = says(outcome.TooLate, "004", "Received by recipient")
	saysScheduled = says(outcome.Scheduled, "011", "Message scheduled for later delivery")
	saysUnknown   = says(outcome.NotFound, "", "Resource does not exist")
	failsInvalid  = func(string) (*clickatell.Result, error) {
		return nil, &clickatell.APIError{HTTPStatus: 400, Code: "101", Description: "Invalid or missing parameters"}
	}
)

var refreshCases = []refreshCase{
	{0, saysCancelled, "record", outcome.Cancelled},                    // Cancelled in the portal: recorded.
	{0, saysDelivered, "record", outcome.TooLate},                      // Delivered: too late.
	{0, saysScheduled, "scheduled", 0},                                 // Still scheduled: stays to cancel.
	{outcome.Cancelled, saysDelivered, "drift", outcome.Cancelled},     // Recorded cancelled, reported delivered: drift, the record kept.
	{outcome.Cancelled, saysScheduled, "drift", outcome.Cancelled},     // Recorded cancelled, reported still scheduled: drift.
	{outcome.NotFound, saysScheduled, "drift", outcome.NotFound},       // Recorded not found, reported scheduled: drift, never unsettled.
	{outcome.NotFound, saysCancelled, "update", outcome.Cancelled},     // Recorded not found, reported cancelled: the newer answer.
	{outcome.TooLate, saysDelivered, "unchanged", outcome.TooLate},     // Recorded too late, reported too late: unchanged.
	{outcome.TooLate, saysUnknown, "unchanged", outcome.TooLate},       // Recorded too late, now unknown (Clickatell forgot it): unchanged.
	{outcome.Cancelled, saysCancelled, "unchanged", outcome.Cancelled}, // Recorded cancelled, reported cancelled: unchanged.
	{outcome.Cancelled, failsInvalid, "", outcome.Cancelled},           // A failure: nothing recorded, nothing lost.
	{0, failsInvalid, "", 0},
}

// refreshFixture returns a plan listing every case's message, a state
// recording the cases' recorded outcomes, and a reader answering them.
func refreshFixture(t *testing.T) (*Plan, *memBackend, StatusReader) {
	t.Helper()
	b := newMemBackend()
	b.st.Serial = 1
	p := &Plan{FormatVersion: PlanFormatVersion}
	answers := map[string]func(string) (*clickatell.Result, error){}
	for i, c := range refreshCases {
		id := testID(i)
		p.Changes = append(p.Changes, Change{ID: id, Group: []string{"a", "b"}[i%2]})
		if c.recorded != 0 {
			b.st.Set(id, state.Record{Outcome: c.recorded, Status: "xxx", Group: "old"})
		}
		answers[id.String()] = c.answer
	}
	p.State = StateRef{Lineage: b.st.Lineage, Serial: 1}
	return p, b, readerFunc(func(_ context.Context, id string) (*clickatell.Result, error) {
		return answers[id](id)
	})
}

func TestRefresh_Kinds(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(map[bool]string{false: "apply", true: "dry-run"}[dry], func(t *testing.T) {
			p, b, reader := refreshFixture(t)
			before := b.st.Clone()
			var mu sync.Mutex
			kinds := map[msgid.ID]string{}
			var diags []string
			opts := RefreshOptions{ApplyOptions: fastOpts(), DryRun: dry}
			opts.OnEvent = func(ev Event) {
				mu.Lock()
				defer mu.Unlock()
				switch ev.Type {
				case EventMessage:
					kinds[msgid.MustParse(ev.Message.ID)] = ev.Message.Refresh
				case EventDiagnostic:
					diags = append(diags, ev.Diagnostic.Summary)
				case EventApplyStart:
					if !ev.Start.RefreshOnly {
						t.Error("apply_start without refresh_only")
					}
				case EventSummary:
					if ev.Summary.Refresh == nil {
						t.Error("summary without its refresh part")
					}
				}
			}
			res, err := Refresh(context.Background(), p, b, reader, opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, c := range refreshCases {
				id := testID(i)
				if kinds[id] != c.kind {
					t.Errorf("case %d: refresh %q, want %q", i, kinds[id], c.kind)
				}
				want := c.after
				if dry {
					want = before.Get(id).Outcome
				}
				if got := b.st.Get(id).Outcome; got != want {
					t.Errorf("case %d: state holds %v, want %v", i, got, want)
				}
			}
			rc := res.Refresh
			wantCounts := RefreshCounts{Record: 3, Updated: 1, ByOutcome: map[string]int{"cancelled": 2, "too_late": 1},
				Scheduled: 1, Unchanged: 3, Drifted: 3}
			if diff := cmp.Diff(wantCounts, rc.RefreshCounts); diff != "" {
				t.Errorf("counts (-want +got):\n%s", diff)
			}
			if res.Failed != 2 || res.Scheduled != 3 || res.Counts.Done() != len(refreshCases) {
				t.Errorf("apply counts %+v: want 2 failed, 3 reported scheduled, all done", res.Counts)
			}
			if len(rc.Changes) != 3 {
				t.Errorf("changes %v, want 3", rc.Changes)
			}
			if len(rc.Drift) != 3 || len(diags) != 3 {
				t.Fatalf("drift %+v, diagnostics %q: want 3 of each", rc.Drift, diags)
			}
			for _, d := range diags {
				if !strings.HasPrefix(d, "Drift: 1 message recorded ") || !strings.Contains(d, "the record is kept") {
					t.Errorf("diagnostic %q", d)
				}
			}
			if !strings.Contains(strings.Join(diags, "\n"), "recorded cancelled, but Clickatell reports 004 Received by recipient (too late)") {
				t.Errorf("no drift diagnostic for cancelled → 004:\n%s", strings.Join(diags, "\n"))
			}
			wantCommits := 1
			if dry {
				wantCommits = 0
			}
			if len(b.commits) != wantCommits {
				t.Errorf("%d commits, want %d", len(b.commits), wantCommits)
			}
			if dry && b.st.Serial != 1 {
				t.Errorf("a dry run moved the serial to %d", b.st.Serial)
			}
		})
	}
}

// A refresh against the real simulator and client sends no DELETE, and
// records a message cancelled in the portal, a delivered one too late,
// and leaves a scheduled one to cancel.
func TestRefresh_Simulator(t *testing.T) {
	const token = "refresh-token"
	portal, sent, sched, unknown := testID(1), testID(2), testID(3), testID(4)
	sim, err := simulator.New(simulator.Config{Token: token, Scheduled: []string{sched.String()}, Delivered: []string{sent.String()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetStatus(portal, simulator.StatusCancelled); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := clickatell.New(clickatell.WithBaseURL(srv.URL), clickatell.WithToken(token))
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest.Manifest{Groups: []*manifest.Group{{Name: "g", IDs: []msgid.ID{portal, sent, sched, unknown}}, {Name: "other", IDs: []msgid.ID{testID(9)}}}}
	b := newMemBackend()
	p, err := NewRefreshPlan(m, b.st, PlanOptions{Targets: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Refresh(context.Background(), p, b, client, RefreshOptions{ApplyOptions: fastOpts()})
	if err != nil {
		t.Fatal(err)
	}
	if st := sim.Stats(); st.Stops != 0 || st.Lookups != 3 || st.NotFound != 1 {
		t.Errorf("simulator saw %s: want no stops, 3 lookups, 1 not found", st)
	}
	want := map[msgid.ID]outcome.Outcome{portal: outcome.Cancelled, sent: outcome.TooLate, unknown: outcome.NotFound}
	got := map[msgid.ID]outcome.Outcome{}
	for id, r := range b.st.All() {
		got[id] = r.Outcome
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if res.Refresh.Scheduled != 1 || res.Refresh.Record != 3 {
		t.Errorf("refresh %+v", res.Refresh.RefreshCounts)
	}
	if s, _ := sim.Status(sched.String()); s != simulator.StatusScheduled {
		t.Errorf("the scheduled message is %q after the refresh", s)
	}
	// Applying afterwards cancels only the scheduled one.
	ap, err := NewPlan(m, b.st, PlanOptions{Targets: []string{"g"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ap.Changes) != 1 || ap.Changes[0].ID != sched {
		t.Errorf("plan after the refresh: %+v, want only the scheduled message", ap.Changes)
	}
}

// NewRefreshPlan lists every message of the targeted groups, settled or
// not, in manifest order.
func TestNewRefreshPlan(t *testing.T) {
	st := state.New()
	st.Set(testID(1), state.Record{Outcome: outcome.Cancelled, Group: "a"})
	m := &manifest.Manifest{Groups: []*manifest.Group{
		{Name: "a", IDs: []msgid.ID{testID(0), testID(1)}},
		{Name: "b", IDs: []msgid.ID{testID(2)}},
		{Name: "c", IDs: []msgid.ID{testID(3)}},
	}}
	p, err := NewRefreshPlan(m, st, PlanOptions{Targets: []string{"a", "c"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range p.Changes {
		got = append(got, c.Group+":"+c.ID.String()[28:])
	}
	if want := []string{"a:0001", "a:0002", "c:0004"}; !cmp.Equal(got, want) {
		t.Errorf("changes %v, want %v", got, want)
	}
	if p.Summary.Cancel != 2 || p.Summary.Cancelled != 1 {
		t.Errorf("summary %+v: want NewPlan's", p.Summary)
	}
	if _, err := NewRefreshPlan(m, st, PlanOptions{Targets: []string{"zz"}}); err == nil {
		t.Error("an unknown target was accepted")
	}
}

// A refresh checkpoints as answers arrive, like apply: a slow refresh
// killed half-way keeps what it learned.
func TestRefresh_Checkpoints(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newMemBackend()
		p := testPlan(40)
		reader := readerFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			time.Sleep(100 * time.Millisecond)
			return answer(id, outcome.Cancelled, "006", "User cancelled message delivery"), nil
		})
		opts := RefreshOptions{ApplyOptions: fastOpts()}
		opts.Parallelism = 2
		opts.CheckpointInterval = 500 * time.Millisecond
		res, err := Refresh(context.Background(), p, b, reader, opts)
		if err != nil {
			t.Fatal(err)
		}
		// 40 answers, 2 at a time, 100 ms each: 2 s, a checkpoint every
		// 500 ms.
		if len(b.commits) < 4 || res.Refresh.Record != 40 || b.st.Len() != 40 {
			t.Errorf("%d commits, %d recorded, %d in state: want checkpoints as it went", len(b.commits), res.Refresh.Record, b.st.Len())
		}
		if res.Calls != 40 {
			t.Errorf("%d calls", res.Calls)
		}
	})
}

// A fatal answer stops a refresh as it stops apply: no further calls.
func TestRefresh_FatalStops(t *testing.T) {
	b := newMemBackend()
	p := testPlan(50)
	var mu sync.Mutex
	calls := 0
	reader := readerFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return nil, &clickatell.APIError{HTTPStatus: 401, Code: "001", Description: "Authentication failed"}
	})
	opts := RefreshOptions{ApplyOptions: fastOpts()}
	_, err := Refresh(context.Background(), p, b, reader, opts)
	var fe *FatalError
	if !asFatal(err, &fe) {
		t.Fatalf("err %v, want a *FatalError", err)
	}
	if calls > opts.Parallelism {
		t.Errorf("%d calls after a fatal answer, want at most %d", calls, opts.Parallelism)
	}
}

func asFatal(err error, fe **FatalError) bool {
	f, ok := err.(*FatalError)
	*fe = f
	return ok
}
