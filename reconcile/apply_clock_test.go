package reconcile

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/outcome"
)

// clockPlan is a plan of groups sent one after the other: "soon" (30
// messages, deadline 10s from now), "later" (20, deadline in an hour),
// "none" (5, no scheduled_at), in that order of the manifest.
func clockPlan(now time.Time) *Plan {
	p := &Plan{FormatVersion: PlanFormatVersion}
	soon := now.Add(10*time.Second + EarlyDelivery)
	later := now.Add(time.Hour + EarlyDelivery)
	n := 0
	add := func(g string, k int, at *time.Time) {
		for range k {
			p.Changes = append(p.Changes, Change{ID: testID(n), Action: Cancel, Group: g, ScheduledAt: at})
			n++
		}
	}
	add("none", 5, nil)
	add("later", 20, &later)
	add("soon", 30, &soon)
	p.Summary.Cancel = n
	return p
}

// TestApply_Clock: on virtual time, one call at a time, each answered
// after 1s: "soon" (sent first, earliest deadline) has its 10 first
// messages answered by its deadline (the 10th exactly at it: on time) and
// 20 after, 5 of them too_late; the progress events say it is behind, then,
// once its deadline passes, that "later" is on track; then no deadline is
// left.
func TestApply_Clock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := clockPlan(start)
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			time.Sleep(time.Second)
			i := indexOf(t, id)
			if i >= 50 { // the last 5 of "soon"
				return &clickatell.Result{ID: id, Outcome: outcome.TooLate, Status: "004", HTTPStatus: 200}, nil
			}
			return cancelled(id), nil
		})
		opts := fastOpts()
		opts.Parallelism = 1
		opts.ProgressInterval = 5 * time.Second
		var progress []ProgressEvent
		var summary *SummaryEvent
		opts.OnEvent = func(ev Event) {
			switch ev.Type {
			case EventProgress:
				progress = append(progress, *ev.Progress)
			case EventSummary:
				summary = ev.Summary
			}
		}
		res, err := Apply(context.Background(), p, newMemBackend(), st, opts)
		if err != nil {
			t.Fatal(err)
		}
		want := []LateGroup{{Group: "soon", Deadline: start.Add(10 * time.Second).UTC(), Count: 20, TooLate: 5}}
		if diff := cmp.Diff(want, res.Late); diff != "" {
			t.Errorf("result's late groups (-want +got):\n%s", diff)
		}
		if summary == nil || !cmp.Equal(want, summary.Late) {
			t.Errorf("summary event's late groups: %+v", summary)
		}

		// At 5s: about 5 of soon's 30 done at 1/s, 5s left: 20-odd behind (the 5th answer may not be counted yet).
		first := progress[0].NextDeadline
		if first == nil || first.Group != "soon" || first.OnTrack || first.Behind < 19 || first.Behind > 23 || first.In.Duration() != 5*time.Second {
			t.Errorf("at 5s: next deadline %+v, want soon, in 5s, ~20 behind", first)
		}
		// At 15s: soon's deadline has passed; later is an hour away.
		if d := progress[2].NextDeadline; d == nil || d.Group != "later" || !d.OnTrack || d.Behind != 0 || d.Left != 20 {
			t.Errorf("at 15s: next deadline %+v, want later, on track", d)
		}
		// At 55s only "none" (no deadline) is left.
		if d := progress[10].NextDeadline; d != nil {
			t.Errorf("at 55s: next deadline %+v, want none", d)
		}
	})
}

// TestApply_ClockOnTime: a run that beats every deadline counts no late
// message; the summary's JSON has no "late".
func TestApply_ClockOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := clockPlan(time.Now())
		st := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
			time.Sleep(100 * time.Millisecond) // 30 of soon by 3s
			return cancelled(id), nil
		})
		opts := fastOpts()
		opts.Parallelism = 1
		res, err := Apply(context.Background(), p, newMemBackend(), st, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Late != nil || res.Cancelled != 55 {
			t.Errorf("late %+v, counts %+v", res.Late, res.Counts)
		}
	})
}

// TestClockEvents_JSON: the progress event's next_deadline and the
// summary's late groups, as `apply -format json` writes them.
func TestClockEvents_JSON(t *testing.T) {
	d := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	b, err := json.Marshal(ProgressEvent{Counts: Counts{Total: 10}, NextDeadline: &DeadlineStatus{Group: "bf", Deadline: d, In: Seconds(190 * time.Second), Left: 8, Behind: 3}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"total":10,"cancelled":0,"too_late":0,"not_found":0,"not_delivered":0,"failed":0,"calls":0,"elapsed_seconds":0,"rate":0,"eta_seconds":0,"next_deadline":{"group":"bf","deadline":"2026-11-27T09:00:00Z","in_seconds":190,"left":8,"on_track":false,"behind":3}}`
	if string(b) != want {
		t.Errorf("progress:\n got %s\nwant %s", b, want)
	}
	b, err = json.Marshal(SummaryEvent{Failures: []FailureGroup{}, Late: []LateGroup{{Group: "bf", Deadline: d, Count: 5, TooLate: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"late":[{"group":"bf","deadline":"2026-11-27T09:00:00Z","count":5,"too_late":4}]`) {
		t.Errorf("summary: %s", b)
	}
}
