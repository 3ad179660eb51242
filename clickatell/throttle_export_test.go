package clickatell

// The Throttle's test entry points: the client drives it through acquire
// and answered; the tests also drive it directly.

import "context"

// Limit returns the rate in force, in requests per second.
func (t *Throttle) Limit() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit
}

// ThrottleStats is what a Throttle did, for progress reports.
type ThrottleStats struct {
	// Limit is the rate in force.
	Limit float64
	// Throttled is how many 429 answers it was told of.
	Throttled int64
	// Cuts is how many times it lowered the rate.
	Cuts int64
	// Pauses is how many pauses (Pause) it imposed.
	Pauses int64
}

// Stats returns what the Throttle did so far.
func (t *Throttle) Stats() ThrottleStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return ThrottleStats{Limit: t.limit, Throttled: t.throttled, Cuts: t.cuts, Pauses: t.pauses}
}

// Wait blocks until a request may be sent, or ctx ends.
func (t *Throttle) Wait(ctx context.Context) error {
	_, err := t.acquire(ctx)
	return err
}

// Throttled records a 429 answer to a call sent just now. The answer's
// Retry-After is the call's own business (RetryPolicy waits it); it does
// not pause the other calls.
func (t *Throttle) Throttled() {
	now := t.now()
	t.answered(now, now, false)
}
