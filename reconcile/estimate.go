package reconcile

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// DefaultEstimateRate is the rate, in cancellations a second, that plans
// are estimated at when no rate is given: Clickatell's guidance ("about
// 100 messages per second on average").
const DefaultEstimateRate = 100.0

// SlowCall is the slowest answer time an estimate plans for: Clickatell's
// calls take 20-100 ms, so parallelism calls at once answer at least
// parallelism / SlowCall a second.
const SlowCall = 100 * time.Millisecond

// EstimateRate is the rate an estimate assumes for a run capped at rate
// (0: no cap) with parallelism calls at once (0: DefaultParallelism):
// rate or DefaultEstimateRate, and no more than parallelism calls can
// answer a second when each takes SlowCall.
func EstimateRate(rate float64, parallelism int) float64 {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		rate = DefaultEstimateRate
	}
	if parallelism <= 0 {
		parallelism = DefaultParallelism
	}
	return min(rate, float64(parallelism)/SlowCall.Seconds())
}

// WarningLate is the Kind of a plan warning about a group whose
// cancellations would not all finish before its Deadline.
const WarningLate = "late"

// GroupEstimate is when a group's cancellations finish at a given rate,
// sent in apply's order (earliest Deadline first), against its Deadline.
type GroupEstimate struct {
	// Rate is the cancellations a second the estimate assumes.
	Rate float64 `json:"rate"`
	// FinishAt is when the group's last cancellation is expected to be
	// answered.
	FinishAt time.Time `json:"finish_at"`
	// Deadline is the group's Deadline (scheduled_at less EarlyDelivery);
	// nil for a group without scheduled_at.
	Deadline *time.Time `json:"deadline,omitempty"`
	// Late is about how many of the group's cancellations would be
	// answered after its Deadline, when Clickatell may already deliver
	// them: 0 when the group makes it.
	Late int `json:"late"`
}

// Estimate returns, for each of groups (index for index), when its
// cancellations finish if the first is sent at start and they are answered
// at rate a second, in apply's order: groups by earliest Deadline, those
// without scheduled_at last, manifest order otherwise. A group with
// nothing to cancel gets nil. rate <= 0 means DefaultEstimateRate.
//
// The model is deliberately simple: the k-th cancellation of the run is
// answered at start + k/rate, so a group makes its deadline when its last
// one's k/rate is at most the deadline's distance from start. A message
// answered exactly at its deadline is on time.
func Estimate(groups []GroupPlan, start time.Time, rate float64) []*GroupEstimate {
	if rate <= 0 || math.IsNaN(rate) || math.IsInf(rate, 0) {
		rate = DefaultEstimateRate
	}
	idx := make([]int, len(groups))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return CompareDeadlines(groups[a].ScheduledAt, groups[b].ScheduledAt)
	})
	out := make([]*GroupEstimate, len(groups))
	before := 0 // cancellations sent before the group's first
	for _, i := range idx {
		g := groups[i]
		if g.Cancel == 0 {
			continue
		}
		end := before + g.Cancel
		e := &GroupEstimate{Rate: rate, FinishAt: start.Add(answeredAfter(end, rate))}
		if g.ScheduledAt != nil {
			d := Deadline(*g.ScheduledAt)
			e.Deadline = &d
			onTime := answeredBy(d.Sub(start), rate) - before
			e.Late = g.Cancel - min(max(onTime, 0), g.Cancel)
		}
		out[i] = e
		before = end
	}
	return out
}

// answeredAfter is how long after the start the k-th cancellation is
// answered at rate a second.
func answeredAfter(k int, rate float64) time.Duration {
	return time.Duration(math.Ceil(float64(k) * float64(time.Second) / rate))
}

// answeredBy is how many cancellations are answered within d at rate a
// second (a tiny tolerance keeps 10s at 100/s at exactly 1,000).
func answeredBy(d time.Duration, rate float64) int {
	if d < 0 {
		return 0
	}
	n := math.Floor(d.Seconds()*rate + 1e-9)
	if n > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(n)
}

// SetEstimate estimates p's groups (see Estimate) from start at rate, and
// replaces the plan's late warnings with a warning for each group that
// would not finish before its Deadline. A group whose Deadline has already
// passed at start is left to the past-deadline warning NewPlan gives.
func (p *Plan) SetEstimate(start time.Time, rate float64) {
	es := Estimate(p.Groups, start, rate)
	p.Warnings = slices.DeleteFunc(p.Warnings, func(w Warning) bool { return w.Kind == WarningLate })
	for i := range p.Groups {
		g := &p.Groups[i]
		g.Estimate = es[i]
		e := es[i]
		if e == nil || e.Deadline == nil || e.Late == 0 || !start.Before(*e.Deadline) {
			continue
		}
		p.Warnings = append(p.Warnings, Warning{Group: g.Name, Kind: WarningLate, Late: e.Late, Message: lateMessage(g, e)})
	}
}

// lateMessage says that a group would not finish in time, and about how
// many of its messages would still be scheduled.
func lateMessage(g *GroupPlan, e *GroupEstimate) string {
	which := fmt.Sprintf("about %s of its %s messages to cancel", commas(e.Late), commas(g.Cancel))
	if e.Late == g.Cancel {
		which = fmt.Sprintf("all %s of its messages to cancel", commas(g.Cancel))
		if g.Cancel == 1 {
			which = "its 1 message to cancel"
		}
	}
	return fmt.Sprintf("group %q cannot be cancelled in time at %s cancellations a second: its last cancellation would be answered at %s, %s after its deadline %s (scheduled_at less %s), so %s would still be scheduled when Clickatell may start delivering them.",
		g.Name, rateText(e.Rate), e.FinishAt.UTC().Format(time.RFC3339), ago(e.FinishAt.Sub(*e.Deadline)), e.Deadline.UTC().Format(time.RFC3339), ago(EarlyDelivery), which)
}

// rateText formats a rate without needless decimals: 100, 12.5.
func rateText(r float64) string {
	if r == math.Trunc(r) && r < 1e15 {
		return commas(int(r))
	}
	return fmt.Sprintf("%.1f", r)
}

// clearEstimate removes the estimate and its warnings.
func (p *Plan) clearEstimate() {
	p.Warnings = slices.DeleteFunc(p.Warnings, func(w Warning) bool { return w.Kind == WarningLate })
	for i := range p.Groups {
		p.Groups[i].Estimate = nil
	}
}
