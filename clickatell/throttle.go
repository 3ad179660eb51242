package clickatell

import (
	"context"
	"math"
	"sync"
	"time"
)

// The Throttle's tuning. The rate is cut to cutFactor of the success rate
// measured when 429s arrive (never more than halved at once), at most once
// per cutEvery (answers to calls sent before a cut still come back 429 for
// a while, and must not cut it again). It is raised every raiseEvery while
// calls succeed: quickly (×fastRaise) up to recoverShare of the ceiling
// (the rate that drew the 429s), then slowly (+probeStep of itself), and,
// once past the ceiling without a 429, faster and faster (the step
// doubling up to maxProbe): the ceiling was too low, or the API has more
// room now. When the API asks for pauses with Retry-After, every 429
// costs a pause of all workers, so the rate only creeps up (pausedProbe,
// doubling every 2 s) from a cut. The constants were chosen with the
// virtual-time simulation in throttle_sim_test.go.
const (
	cutFactor    = 0.8
	cutEvery     = 200 * time.Millisecond
	raiseEvery   = 100 * time.Millisecond
	fastRaise    = 1.10
	recoverShare = 0.92
	probeStep    = 0.005
	pausedProbe  = probeStep / 5
	maxProbe     = 0.05
	// pausedCut is the cut when the API sent a Retry-After, after which
	// the rate creeps up from the cut with no quick recovery: every 429
	// then costs a pause of all workers, so fewer, deeper cuts pay.
	pausedCut = 0.8
	minRate   = 1.0
	// meterTau is the success meter's memory: successes count with weight
	// e^(-age/meterTau), age counted in time not paused.
	meterTau = 250 * time.Millisecond
	// meterMin is the least time a measurement spans: a count over less
	// (the first few answers of a run) is taken over meterMin, erring low.
	meterMin = 50 * time.Millisecond
	// maxCut bounds one cut: the rate is never more than halved at once,
	// however low a bursty meter reads.
	maxCut = 0.5
)

// Throttle is a request-rate limiter shared by all workers of a run: it
// enforces an optional hard cap, and lowers the rate when the API keeps
// answering 429 (and raises it again, slowly, when it stops), so that many
// workers do not all hammer a throttled API.
//
// It is AIMD-like, as TCP's congestion control: without a cap, calls go
// out unlimited until the first 429; then the rate is set just under the
// rate of calls the API was accepting (measured from Succeeded), cut
// multiplicatively again while 429s keep coming, and raised while calls
// succeed, never above the cap. A Retry-After pauses every worker until
// it has passed. Its methods are safe for concurrent use.
type Throttle struct {
	mu sync.Mutex
	// max is the hard cap in requests/s (0: none).
	max float64
	// limit is the rate in force; 0 while there is none (no cap, and
	// never throttled).
	limit float64
	// next is the earliest time the next call may go: calls are paced
	// one every 1/limit, with no bursts (see reserve).
	next time.Time
	// pausedUntil is when the last Retry-After ends.
	pausedUntil time.Time
	pauseStart  time.Time
	// ceiling is the rate that drew the last cut's 429s: the success rate
	// measured then, or the limit in force if lower.
	ceiling   float64
	lastCut   time.Time
	lastRaise time.Time
	// pausing is set when the last cut came with a Retry-After.
	pausing bool
	// above counts raises past the ceiling since the last cut.
	above int

	// The success meter: a count of successes decaying with active (not
	// paused) time, as of meterAt, over metered time in all.
	meterAt time.Time
	count   float64
	metered time.Duration

	throttled, cuts, pauses int64

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

// NewThrottle returns a Throttle capped at limit requests per second
// (0: no cap until the API throttles).
func NewThrottle(limit float64) *Throttle {
	t := &Throttle{now: time.Now, sleep: sleepCtx}
	if limit > 0 && !math.IsInf(limit, 1) && !math.IsNaN(limit) {
		t.max = limit
		t.limit = limit
	}
	return t
}

// Limit returns the rate in force, in requests per second; 0 while there
// is none (no cap given and no 429 seen yet).
func (t *Throttle) Limit() float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.limit
}

// ThrottleStats is what a Throttle did, for progress reports.
type ThrottleStats struct {
	// Limit is the rate in force (0: none).
	Limit float64
	// Throttled is how many 429 answers it was told of.
	Throttled int64
	// Cuts is how many times it lowered the rate.
	Cuts int64
	// Pauses is how many Retry-After pauses it imposed.
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
	if err := ctx.Err(); err != nil {
		return err
	}
	d := t.reserve(t.now())
	for d > 0 {
		if err := t.sleep(ctx, d); err != nil {
			return err
		}
		// A pause may have begun while this call waited its turn: take
		// a new turn after it, so that the workers do not all go at once
		// when it ends.
		d = t.reserveIfPaused(t.now())
	}
	return nil
}

func (t *Throttle) reserveIfPaused(now time.Time) time.Duration {
	if t.pausedFor(now) <= 0 {
		return 0
	}
	return t.reserve(now)
}

// reserve books a slot for a request wanting to go at now, and returns how
// long it must wait for it.
//
// Slots are handed out one interval apart, each after the one before: a
// pacer ("virtual scheduling", as GCRA). A token bucket such as
// x/time/rate's would do the same at a steady rate, but computes a new
// reservation's wait from its token debt at the current rate: with 64
// workers queued ahead, a raise of the rate hands out slots that overlap
// those already given, and the clumps draw 429s from a strict API even far
// below its rate. A cut leaves the slots already given where they are:
// at most one per worker.
func (t *Throttle) reserve(now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.meterAt.IsZero() {
		t.meterAt = now
	}
	at := now
	if at.Before(t.pausedUntil) {
		at = t.pausedUntil
	}
	if t.limit > 0 {
		if t.next.After(at) {
			at = t.next
		}
		t.next = at.Add(time.Duration(float64(time.Second) / t.limit))
	}
	return at.Sub(now)
}

func (t *Throttle) pausedFor(now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.pausedUntil.Sub(now)
}

// Throttled records a 429 answer (retryAfter 0 if none was sent).
func (t *Throttle) Throttled(retryAfter time.Duration) {
	t.throttledAt(t.now(), retryAfter)
}

func (t *Throttle) throttledAt(now time.Time, retryAfter time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.throttled++
	if retryAfter > 0 {
		t.pauseLocked(now, retryAfter)
	}
	if !t.lastCut.IsZero() && now.Sub(t.lastCut) < cutEvery {
		return
	}
	accepted, span := t.successRate(now)
	if t.limit <= 0 && span < meterMin && retryAfter <= 0 {
		// The first 429s of a run without a cap come from its opening
		// burst; cutting on a few milliseconds' count would cut far too
		// low. The 429'd calls back off meanwhile. (With a Retry-After
		// the pause stops the burst, and the count is all there will be.)
		return
	}
	base := accepted
	if t.limit > 0 && (base <= 0 || t.limit < base) {
		base = t.limit
	}
	if base <= 0 {
		// Nothing ever succeeded and there was no limit: start low and
		// let the raises find the rate.
		base = 10
	}
	// The ceiling is what the API accepted, but no more than the limit
	// that drew the 429s: right after a pause the API's bucket is full,
	// and a short count of successes reads high.
	t.ceiling = base
	l := base * cutFactor
	if retryAfter > 0 {
		// No quick recovery either: the creep starts from the cut.
		l = base * pausedCut
		t.ceiling = l
	}
	if t.limit > 0 {
		l = math.Max(l, t.limit*maxCut)
	}
	t.setLimit(l)
	t.lastCut, t.lastRaise = now, now
	t.pausing = retryAfter > 0
	t.above = 0
	t.cuts++
}

// Pause stops every worker's calls for d (a Retry-After sent with a 503,
// say); a longer pause already in force is kept.
func (t *Throttle) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.pauseLocked(t.now(), d)
}

// pauseLocked starts a pause of d, unless one as long is in force: a 429 that
// arrives during a pause answers a call sent before it began, which the
// pause already answers (and the call's own retry waits its own
// Retry-After). Extending the pause for each of them would stretch one
// Retry-After into as many as there were calls in flight.
func (t *Throttle) pauseLocked(now time.Time, d time.Duration) {
	if now.Before(t.pausedUntil) {
		// A longer pause asked for (a 503 for maintenance, say) is
		// taken all the same.
		if d > t.pausedUntil.Sub(t.pauseStart) && now.Add(d).After(t.pausedUntil) {
			t.pausedUntil = now.Add(d)
		}
		return
	}
	t.pauseStart, t.pausedUntil = now, now.Add(d)
	t.pauses++
}

// Succeeded records an answer that was not a 429.
func (t *Throttle) Succeeded() {
	t.succeededAt(t.now())
}

func (t *Throttle) succeededAt(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.meter(now)
	if t.limit <= 0 || now.Sub(t.lastRaise) < raiseEvery {
		return
	}
	if t.max > 0 && t.limit >= t.max {
		t.lastRaise = now
		return
	}
	l := t.limit
	switch {
	case t.pausing:
		// Every 429 costs a pause of all workers: creep up, the step
		// doubling every 2 s without one.
		step := math.Min(pausedProbe*math.Exp2(float64(t.above)/20), maxProbe)
		t.above++
		l += math.Max(minRate, l*step)
	case t.ceiling > 0 && l < recoverShare*t.ceiling:
		l = math.Min(l*fastRaise, recoverShare*t.ceiling)
	case l < t.ceiling:
		l += math.Max(minRate, l*probeStep)
	default:
		step := math.Min(probeStep*math.Exp2(float64(t.above)), maxProbe)
		t.above++
		l += math.Max(minRate, l*step)
	}
	if t.max > 0 {
		l = math.Min(l, t.max)
	}
	t.setLimit(l)
	t.lastRaise = now
}

// meter counts a success.
func (t *Throttle) meter(now time.Time) {
	if t.meterAt.IsZero() {
		t.meterAt = now
	}
	dt := t.active(t.meterAt, now)
	t.count = t.count*math.Exp(-dt.Seconds()/meterTau.Seconds()) + 1
	t.metered += dt
	t.meterAt = now
}

// active is the time from a to b that no pause covered.
func (t *Throttle) active(a, b time.Time) time.Duration {
	d := b.Sub(a)
	if d <= 0 {
		return 0
	}
	if s, e := maxTime(a, t.pauseStart), minTime(b, t.pausedUntil); e.After(s) {
		d -= e.Sub(s)
	}
	return d
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// successRate is the rate of successes lately, per second of active time,
// and the active time it spans (at most a few meterTau).
func (t *Throttle) successRate(now time.Time) (float64, time.Duration) {
	if t.meterAt.IsZero() {
		return 0, 0
	}
	dt := t.active(t.meterAt, now)
	tau := meterTau.Seconds()
	c := t.count * math.Exp(-dt.Seconds()/tau)
	span := t.metered + dt
	// The weights of a steady rate r sum to r·tau·(1-e^(-span/tau)).
	w := tau * -math.Expm1(-span.Seconds()/tau)
	return c / math.Max(w, meterMin.Seconds()), span
}

func (t *Throttle) setLimit(l float64) {
	l = math.Max(l, minRate)
	if t.max > 0 {
		l = math.Min(l, t.max)
	}
	t.limit = l
}
