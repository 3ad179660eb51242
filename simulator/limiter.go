package simulator

import (
	"math"
	"sync/atomic"
	"time"
)

// limiter is a lock-free GCRA (generic cell rate algorithm) limiter: the
// token bucket's precise equivalent kept in one atomic word, the theoretical
// arrival time of the next request. A request at time t is allowed when
// tat - t <= tolerance, and then moves tat one interval on.
type limiter struct {
	interval  int64 // ns between requests at the steady rate
	tolerance int64 // how far ahead of schedule a request may be, ns
	now       func() time.Time
	start     time.Time
	tat       atomic.Int64 // ns since start
}

// newLimiter allows rate requests per second, burst of them at once
// (burst 0: rate/10, at least 2).
func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if burst <= 0 {
		burst = max(2, int(math.Ceil(rate/10)))
	}
	interval := int64(math.Max(1, math.Round(float64(time.Second)/rate)))
	return &limiter{
		interval:  interval,
		tolerance: int64(burst-1) * interval,
		now:       now,
		start:     now(),
	}
}

// allow reports whether a request arriving now is within the rate.
func (l *limiter) allow() bool {
	t := int64(l.now().Sub(l.start))
	for {
		tat := l.tat.Load()
		next := max(tat, t)
		if next-t > l.tolerance {
			return false
		}
		if l.tat.CompareAndSwap(tat, next+l.interval) {
			return true
		}
	}
}
