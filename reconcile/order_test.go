package reconcile

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestInOrder: sorting the runs of changes that share a ScheduledAt gives
// the stable sort of every change by Deadline (none last), on random plans
// with repeated, equal-valued and missing times.
func TestInOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		times := make([]*time.Time, 1+rng.IntN(5))
		for i := range times {
			if rng.IntN(4) > 0 {
				at := testNow.Add(time.Duration(rng.IntN(3)) * time.Minute) // equal values under different pointers too
				times[i] = &at
			}
		}
		var cs []Change
		for range rng.IntN(40) {
			at := times[rng.IntN(len(times))]
			for range 1 + rng.IntN(4) {
				cs = append(cs, Change{ID: id(uint64(len(cs))), ScheduledAt: at})
			}
		}
		want := make([]int32, len(cs))
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int {
			return CompareDeadlines(cs[a].ScheduledAt, cs[b].ScheduledAt)
		})
		if got := order(cs); !slices.Equal(got, want) {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
}

// order returns the indexes of the plan's changes in the order apply sends
// them (inOrder), for tests.
func order(changes []Change) []int32 {
	idx := make([]int32, 0, len(changes))
	for i := range inOrder(changes) {
		idx = append(idx, int32(i))
	}
	return idx
}
