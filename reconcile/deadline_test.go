package reconcile

import (
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/outcome"
)

func TestDeadline(t *testing.T) {
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	if got, want := Deadline(at), time.Date(2026, 11, 28, 8, 55, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Deadline(%v) = %v, want %v", at, got, want)
	}
	if EarlyDelivery != 5*time.Minute {
		t.Errorf("EarlyDelivery = %v, want Clickatell's 5 minutes", EarlyDelivery)
	}
}

// TestNewPlan_fiveMinuteRule plans one group at the boundaries of
// Clickatell's early-delivery window, with a fixed clock.
func TestNewPlan_fiveMinuteRule(t *testing.T) {
	due := testNow.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		now    time.Time
		want   []string // substrings of the one warning; nil: no warning
		window bool
	}{
		{"6m before", due.Add(-6 * time.Minute), nil, false},
		{"5m before (the deadline itself)", due.Add(-5 * time.Minute), []string{`group "soon"`, "in 5m", "up to 5m early", "may already be out", "expect some to end too_late"}, true},
		{"4m before", due.Add(-4 * time.Minute), []string{`group "soon" is scheduled for 2026-11-27T13:00:00Z, in 4m`, "Clickatell may deliver scheduled messages up to 5m early", "some of its 3 messages to cancel may already be out", "cancels them anyway"}, true},
		{"1s before", due.Add(-time.Second), []string{"in 1s"}, true},
		{"at scheduled_at", due, []string{"0s ago"}, false},
		{"after", due.Add(2 * time.Minute), []string{`group "soon" was scheduled for 2026-11-27T13:00:00Z, 2m ago`, "will end too_late"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := &manifest.Manifest{Groups: []*manifest.Group{
				{Name: "soon", ScheduledAt: due, IDs: ids(0, 3)},
				{Name: "later", ScheduledAt: due.Add(time.Hour), IDs: ids(10, 12)},
			}}
			p, err := NewPlan(m, nil, PlanOptions{Now: func() time.Time { return tc.now }})
			if err != nil {
				t.Fatal(err)
			}
			if got := InEarlyWindow(due, tc.now); got != tc.window {
				t.Errorf("InEarlyWindow = %v, want %v", got, tc.window)
			}
			if tc.want == nil {
				if len(p.Warnings) != 0 {
					t.Errorf("warnings = %+v, want none", p.Warnings)
				}
				return
			}
			if len(p.Warnings) != 1 || p.Warnings[0].Group != "soon" {
				t.Fatalf("warnings = %+v, want one about group soon", p.Warnings)
			}
			for _, w := range tc.want {
				if !strings.Contains(p.Warnings[0].Message, w) {
					t.Errorf("warning %q does not say %q", p.Warnings[0].Message, w)
				}
			}
		})
	}
}

// TestNewPlan_fiveMinuteRuleSettled: a group in the window with nothing
// left to cancel gets no warning (nothing will be sent).
func TestNewPlan_fiveMinuteRuleSettled(t *testing.T) {
	due := testNow.Add(3 * time.Minute)
	m := &manifest.Manifest{Groups: []*manifest.Group{{Name: "soon", ScheduledAt: due, IDs: ids(0, 1)}}}
	s := testState()
	s.Set(id(0), rec(outcome.Cancelled, "soon"))
	p, err := NewPlan(m, s, PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings = %+v, want none", p.Warnings)
	}
}

func TestOrder_deadline(t *testing.T) {
	a, b := testNow.Add(10*time.Minute), testNow.Add(12*time.Minute)
	cs := []Change{{ID: id(0)}, {ID: id(1), ScheduledAt: &b}, {ID: id(2), ScheduledAt: &a}}
	got := order(cs)
	if want := []int32{2, 1, 0}; !equalInts(got, want) {
		t.Errorf("order = %v, want %v (earliest deadline first, none last)", got, want)
	}
}

func equalInts(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
