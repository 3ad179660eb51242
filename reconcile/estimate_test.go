package reconcile

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var estNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// at is a scheduled_at whose Deadline is estNow+d.
func at(d time.Duration) *time.Time {
	t := estNow.Add(d + EarlyDelivery)
	return &t
}

func dl(d time.Duration) *time.Time {
	t := estNow.Add(d)
	return &t
}

// TestEstimate: exact boundaries at a fixed clock. At 100/s the 1,000th
// cancellation is answered at +10s: a deadline at +10s is made by 1,000
// messages and missed by 1 of 1,001.
func TestEstimate(t *testing.T) {
	tests := []struct {
		name   string
		groups []GroupPlan
		rate   float64
		want   []*GroupEstimate
	}{
		{
			name:   "exactly at the deadline is on time",
			groups: []GroupPlan{{Name: "a", Cancel: 1000, ScheduledAt: at(10 * time.Second)}},
			rate:   100,
			want:   []*GroupEstimate{{Rate: 100, FinishAt: estNow.Add(10 * time.Second), Deadline: dl(10 * time.Second)}},
		},
		{
			name:   "one more is one late",
			groups: []GroupPlan{{Name: "a", Cancel: 1001, ScheduledAt: at(10 * time.Second)}},
			rate:   100,
			want:   []*GroupEstimate{{Rate: 100, FinishAt: estNow.Add(10010 * time.Millisecond), Deadline: dl(10 * time.Second), Late: 1}},
		},
		{
			name:   "default rate is 100/s",
			groups: []GroupPlan{{Name: "a", Cancel: 1001, ScheduledAt: at(10 * time.Second)}},
			rate:   0,
			want:   []*GroupEstimate{{Rate: 100, FinishAt: estNow.Add(10010 * time.Millisecond), Deadline: dl(10 * time.Second), Late: 1}},
		},
		{
			name:   "a faster rate makes it",
			groups: []GroupPlan{{Name: "a", Cancel: 1001, ScheduledAt: at(10 * time.Second)}},
			rate:   200,
			want:   []*GroupEstimate{{Rate: 200, FinishAt: estNow.Add(5005 * time.Millisecond), Deadline: dl(10 * time.Second)}},
		},
		{
			name: "earliest deadline first, whatever the manifest order; later group waits for it",
			groups: []GroupPlan{
				{Name: "later", Cancel: 500, ScheduledAt: at(10 * time.Second)},
				{Name: "sooner", Cancel: 600, ScheduledAt: at(6 * time.Second)},
			},
			rate: 100,
			want: []*GroupEstimate{
				// 600 + 500 = 1,100 by +11s: 100 of later's answered after +10s.
				{Rate: 100, FinishAt: estNow.Add(11 * time.Second), Deadline: dl(10 * time.Second), Late: 100},
				{Rate: 100, FinishAt: estNow.Add(6 * time.Second), Deadline: dl(6 * time.Second)},
			},
		},
		{
			name: "no scheduled_at goes last and has no deadline; nothing to cancel has no estimate",
			groups: []GroupPlan{
				{Name: "whenever", Cancel: 10},
				{Name: "done", Cancel: 0, Cancelled: 5, ScheduledAt: at(time.Second)},
				{Name: "due", Cancel: 10, ScheduledAt: at(time.Hour)},
			},
			rate: 10,
			want: []*GroupEstimate{
				{Rate: 10, FinishAt: estNow.Add(2 * time.Second)},
				nil,
				{Rate: 10, FinishAt: estNow.Add(time.Second), Deadline: dl(time.Hour)},
			},
		},
		{
			name:   "deadline passed: every message late",
			groups: []GroupPlan{{Name: "past", Cancel: 7, ScheduledAt: at(-time.Minute)}},
			rate:   100,
			want:   []*GroupEstimate{{Rate: 100, FinishAt: estNow.Add(70 * time.Millisecond), Deadline: dl(-time.Minute), Late: 7}},
		},
		{
			name: "a group behind a group that misses entirely",
			groups: []GroupPlan{
				{Name: "first", Cancel: 300, ScheduledAt: at(time.Second)},
				{Name: "second", Cancel: 300, ScheduledAt: at(2 * time.Second)},
			},
			rate: 100,
			want: []*GroupEstimate{
				{Rate: 100, FinishAt: estNow.Add(3 * time.Second), Deadline: dl(time.Second), Late: 200},
				{Rate: 100, FinishAt: estNow.Add(6 * time.Second), Deadline: dl(2 * time.Second), Late: 300},
			},
		},
		{
			name:   "fractional rate",
			groups: []GroupPlan{{Name: "slow", Cancel: 3, ScheduledAt: at(4 * time.Second)}},
			rate:   0.5,
			want:   []*GroupEstimate{{Rate: 0.5, FinishAt: estNow.Add(6 * time.Second), Deadline: dl(4 * time.Second), Late: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Estimate(tt.groups, estNow, tt.rate)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestPlan_SetEstimate_Warnings: a group that cannot make it is named,
// with about how many would still be scheduled; at a rate that makes it,
// no warning; a group already past its deadline keeps only the
// past-deadline warning.
func TestPlan_SetEstimate_Warnings(t *testing.T) {
	newPlan := func() *Plan {
		return &Plan{CreatedAt: estNow, Groups: []GroupPlan{
			{Name: "black-friday", Cancel: 90000, Total: 90000, ScheduledAt: at(10 * time.Minute)},
			{Name: "past", Cancel: 5, Total: 5, ScheduledAt: at(-time.Minute)},
		}, Warnings: []Warning{{Group: "past", Message: "past deadline"}}}
	}
	p := newPlan()
	p.SetEstimate(estNow, 0)
	// "past" goes first (5 messages), then 60,000 of black-friday's by +10m.
	if len(p.Warnings) != 2 || p.Warnings[1].Kind != WarningLate || p.Warnings[1].Group != "black-friday" || p.Warnings[1].Late != 30005 {
		t.Fatalf("warnings = %+v", p.Warnings)
	}
	msg := p.Warnings[1].Message
	for _, s := range []string{`group "black-friday" cannot be cancelled in time at 100 cancellations a second`,
		"2026-11-27T12:15:00Z, 5m after its deadline 2026-11-27T12:10:00Z (scheduled_at less 5m)",
		"about 30,005 of its 90,000 messages to cancel would still be scheduled"} {
		if !strings.Contains(msg, s) {
			t.Errorf("warning lacks %q:\n%s", s, msg)
		}
	}

	// Estimating again replaces the late warning: at 200/s it makes it.
	p.SetEstimate(estNow, 200)
	if len(p.Warnings) != 1 || p.Warnings[0].Group != "past" {
		t.Errorf("at 200/s: warnings = %+v, want only the past one", p.Warnings)
	}
	if e := p.Groups[0].Estimate; e == nil || e.Late != 0 || !e.FinishAt.Equal(estNow.Add(450025*time.Millisecond)) {
		t.Errorf("at 200/s: estimate %+v", e)
	}
}

func TestEstimateRate(t *testing.T) {
	for _, tt := range []struct {
		rate        float64
		parallelism int
		want        float64
	}{
		{0, 0, DefaultEstimateRate},  // the documented 100/s, which the default 10 calls keep up with
		{0, 64, DefaultEstimateRate}, // more calls at once do not beat the guidance
		{0, 2, 20},                   // 2 calls at 100 ms each
		{400, 64, 400},               // -rate when the calls can carry it
		{400, 10, 100},               // but not past what 10 calls can answer
		{50, 0, 50},                  // -rate alone
		{math.Inf(1), 0, DefaultEstimateRate},
	} {
		if got := EstimateRate(tt.rate, tt.parallelism); got != tt.want {
			t.Errorf("EstimateRate(%v, %d) = %v, want %v", tt.rate, tt.parallelism, got, tt.want)
		}
	}
}
