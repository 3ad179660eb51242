package reconcile

import (
	"slices"
	"time"
)

// DeadlineStatus is how a run stands against the next deadline it has to
// beat: the earliest Deadline, not yet passed, of a group with messages
// still to finish.
type DeadlineStatus struct {
	// Group is the group whose deadline it is.
	Group string `json:"group"`
	// Deadline is the group's Deadline (scheduled_at less EarlyDelivery).
	Deadline time.Time `json:"deadline"`
	// In is the time left until it.
	In Seconds `json:"in_seconds"`
	// Left is how many of the group's messages are not finished yet.
	Left int `json:"left"`
	// OnTrack is set when, at the run's rate, every one of them would be
	// answered by the deadline (messages of groups due earlier first).
	OnTrack bool `json:"on_track"`
	// Behind is about how many of them would not be: 0 when OnTrack.
	Behind int `json:"behind"`
}

// LateGroup counts a group's messages settled after its deadline: they
// may have been delivered first, and most end too_late.
type LateGroup struct {
	// Group is the group.
	Group string `json:"group"`
	// Deadline is its Deadline.
	Deadline time.Time `json:"deadline"`
	// Count is how many of its messages settled after it.
	Count int `json:"count"`
	// TooLate is how many of those settled too_late.
	TooLate int `json:"too_late"`
}

// clockGroup is one group's progress against its deadline.
type clockGroup struct {
	name     string
	deadline *time.Time // nil: no scheduled_at
	total    int        // the group's changes in the plan
	done     int        // finished in this run: settled or failed
	late     int        // settled after the deadline
	tooLate  int        // of late, settled too_late
}

// runClock follows every group of a run against its deadline. It is
// owned by the collector.
type runClock struct {
	groups []clockGroup // in apply's order: earliest deadline first
	byName map[string]int
	last   *clockGroup // the group of the last message looked up
}

// initClock builds the run's clock from the plan's changes (each group's
// are contiguous, in manifest order).
func (r *run) initClock() {
	c := &r.clock
	c.byName = map[string]int{}
	for i := range r.plan.Changes {
		ch := &r.plan.Changes[i]
		if n := len(c.groups); n > 0 && c.groups[n-1].name == ch.Group {
			c.groups[n-1].total++
			continue
		}
		var d *time.Time
		if ch.ScheduledAt != nil {
			t := Deadline(*ch.ScheduledAt)
			d = &t
		}
		c.groups = append(c.groups, clockGroup{name: ch.Group, deadline: d, total: 1})
	}
	slices.SortStableFunc(c.groups, func(a, b clockGroup) int {
		switch {
		case a.deadline == nil && b.deadline == nil:
			return 0
		case a.deadline == nil:
			return 1
		case b.deadline == nil:
			return -1
		}
		return a.deadline.Compare(*b.deadline)
	})
	for i, g := range c.groups {
		c.byName[g.name] = i
	}
}

// clockGroup returns the group of change c; nil for a refresh, which has
// no clock.
func (r *run) clockGroup(c *Change) *clockGroup {
	k := &r.clock
	if k.byName == nil {
		return nil
	}
	if k.last != nil && k.last.name == c.Group {
		return k.last
	}
	i, ok := k.byName[c.Group]
	if !ok {
		return nil
	}
	k.last = &k.groups[i]
	return k.last
}

// finished counts a failed message of c's group.
func (r *run) finished(c *Change) {
	if g := r.clockGroup(c); g != nil {
		g.done++
	}
}

// settledAt counts a message of c's group settled at at, late if after the
// group's deadline.
func (r *run) settledAt(c *Change, at time.Time, tooLate bool) {
	g := r.clockGroup(c)
	if g == nil {
		return
	}
	g.done++
	if g.deadline != nil && at.After(*g.deadline) {
		g.late++
		if tooLate {
			g.tooLate++
		}
	}
}

// nextDeadline is the run's DeadlineStatus at now, at rate messages a
// second; nil when no deadline is left to beat.
func (r *run) nextDeadline(now time.Time, rate float64) *DeadlineStatus {
	if rate <= 0 {
		rate = DefaultEstimateRate
	}
	ahead := 0 // messages to finish before the group's last one
	for i := range r.clock.groups {
		g := &r.clock.groups[i]
		left := g.total - g.done
		if left <= 0 {
			continue
		}
		if g.deadline == nil {
			return nil // the groups without a deadline come last
		}
		ahead += left
		if !now.Before(*g.deadline) {
			continue // passed: its messages still go out first
		}
		behind := min(max(ahead-answeredBy(g.deadline.Sub(now), rate), 0), left)
		return &DeadlineStatus{Group: g.name, Deadline: g.deadline.UTC(), In: Seconds(g.deadline.Sub(now)), Left: left, OnTrack: behind == 0, Behind: behind}
	}
	return nil
}

// lateGroups are the groups with messages settled after their deadline,
// in apply's order; nil if none.
func (r *run) lateGroups() []LateGroup {
	var out []LateGroup
	for _, g := range r.clock.groups {
		if g.late > 0 {
			out = append(out, LateGroup{Group: g.name, Deadline: g.deadline.UTC(), Count: g.late, TooLate: g.tooLate})
		}
	}
	return out
}
