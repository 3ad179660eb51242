package clickatell

import (
	"context"
	"math"
	"sync"
	"time"
)

// The Throttle's tuning, chosen with the virtual-time simulation in
// throttle_matrix_test.go (R from 50 to 1,000/s, 10 to 256 workers, with
// and without Retry-After, 1,000 and 3,000 messages and R × 15 s).
const (
	// startRate is the pace of a run without a cap until the API answers
	// 429, and startRaise multiplies it every raiseEvery while no 429 was
	// ever seen and the rate holds calls back (and is under twice the
	// rate of calls sent): a slow start, from 400/s to 1,225/s in 0.2 s.
	// Every call sent above the API's rate in the round trip before its
	// first 429 arrives is a 429 too, and a bucket's burst lets the rate
	// climb past the API's before the first one: a higher start or a
	// steeper climb costs more of them against a low limit (at 50/s, the
	// first round trip at 400/s draws 7), a lower or flatter one costs
	// time against a high one (1,000/s).
	startRate  = 400.0
	startRaise = 1.75
	// cutTo is the share of the API's measured accepting rate the rate is
	// set to on a 429.
	cutTo = 0.97
	// recoverStep is the raise, as a share of the rate, every raiseEvery
	// after a cut, up to the accepting rate measured then (0.5%/s: from
	// cutTo back to it in 6 s); the rate then holds there for quietFor.
	// Past quietFor without a 429 it is raised by probeStep (1%/s), in
	// case the API has more room now. So once the rate is known, 429s
	// come seldom, and a few at a time.
	recoverStep = 0.0005
	probeStep   = 0.001
	quietFor    = 30 * time.Second
	raiseEvery  = 100 * time.Millisecond
	// estWindow is how far back, in send time, the accepting rate is
	// measured on a 429; minSpan, minCalls sent and minAccepted are the
	// least a measurement needs, else it is widened to estWindow. A window
	// in which the API accepted less than minAccepted measures nothing:
	// an API that allows its rate per whole second accepts no call for
	// the rest of the second once it is spent.
	estWindow   = time.Second
	minSpan     = 10 * time.Millisecond
	minCalls    = 8
	minAccepted = 2
	// minOK is how many accepted calls a measurement needs to be trusted
	// as the rate to return to after a cut (±1 call is ±3%); after a cut
	// on a rougher one the rate is raised by fastStep every raiseEvery,
	// with no ceiling, until the next 429 measures better.
	minOK    = 33
	fastStep = 0.01
	// bindingFor is how recently the rate must have held a call back for
	// a raise: a rate that no call waits on (the workers are the bound)
	// is not raised.
	bindingFor = 200 * time.Millisecond
	minRate    = 1.0
	// maxCut is the most one signal cuts: to a quarter of the rate (a
	// start at 400/s reaches 50/s in two cuts).
	maxCut = 0.25
	// ringSize bounds the history of sends and answers (a few hundred
	// milliseconds at the highest rates).
	ringSize = 4096
	// maxSleep is the longest a call waits for its slot before it looks
	// whether the slot is still valid: a raise of the rate voids the slots
	// booked at the old one, and the calls holding them book again at
	// the new rate within maxSleep.
	maxSleep = 50 * time.Millisecond
	// clumpSpan is the shortest time over which the calls sent are held
	// to twice the rate (see send): two of the runtime's timer ticks.
	clumpSpan = 2 * time.Millisecond
)

// Throttle paces the calls of all workers of a run and finds the rate the
// API accepts. Its methods are safe for concurrent use.
//
// It controls the request rate, not the number of calls in flight (the
// workers bound that), AIMD-like as TCP's congestion control, with each
// answer attributed to the time its call was sent:
//
//   - Without a cap it starts at startRate and, while no 429 was ever seen
//     and the rate holds calls back, raises it by startRaise every
//     raiseEvery. A cap (-rate) is the starting rate and the ceiling.
//   - Every change of the rate voids the slots booked at the old one (see
//     rebook): calls queued behind a slow rate go at the raised one within
//     maxSleep, not once the old queue has drained.
//   - A 429 for a call sent after the last cut is a signal (one for calls
//     sent before it, which answer the old rate, is not): the rate is set
//     to cutTo of the rate the API accepted, measured over the calls sent
//     since the API started refusing (its bucket was empty then, so what it
//     accepted is its rate, not its burst). A burst of 429s from calls in
//     flight is one signal; but each answer to a call in flight at the cut
//     and sent since the API started refusing measures over a longer
//     window, and the rate is set again from it (remeasure).
//   - The run's first 429 cannot be measured so: the API has refused one
//     call only, and what it accepted before that was its burst. The rate
//     drops to maxCut of itself, and the answers to the calls in flight
//     set it within the round trip.
//   - Between signals the rate is raised by probeStep of itself every
//     raiseEvery, if it holds calls back, never above the cap.
//
// A 429's Retry-After is for the call that drew it (RetryPolicy waits it
// before retrying that call); other calls go on at the new rate. Pause
// stops every call (a 503 with Retry-After: the server asks everyone).
type Throttle struct {
	mu sync.Mutex
	// max is the hard cap in requests/s (0: none).
	max float64
	// limit is the rate in force.
	limit float64
	// next is the earliest time the next call may go: calls are paced
	// one every 1/limit, with no bursts (see reserve).
	next time.Time
	// pausedUntil is when the last Pause ends; pauseStart when it began.
	pausedUntil, pauseStart time.Time
	// lastCut is when the rate was last cut (zero: never): a 429 for a
	// call sent before it is not a signal.
	lastCut time.Time
	// lastRaise is when the rate was last raised or cut.
	lastRaise time.Time
	// accepted is the accepting rate measured at the last cut.
	accepted float64
	// cutFrom is the rate in force when the last cut came; refusedFrom
	// the send time of the first call the API refused then (the cut
	// itself if that window did not measure), and measuredTo the end of
	// the window the rate was last measured over, from refusedFrom (see
	// remeasure).
	cutFrom                 float64
	refusedFrom, measuredTo time.Time
	// gen counts cuts and pauses: a call booked before one books again.
	gen int64
	// lastHeld is when the rate last made a call wait.
	lastHeld time.Time
	// sends are recent send times; answers recent answers by send time.
	sends   ring[time.Time]
	answers ring[callAnswer]

	throttled, cuts, pauses int64

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

type callAnswer struct {
	sent time.Time
	ok   bool
}

// ring is a fixed-size history, oldest overwritten first.
type ring[T any] struct {
	buf []T
	n   int // items ever added
}

func (r *ring[T]) add(v T) {
	if r.buf == nil {
		r.buf = make([]T, ringSize)
	}
	r.buf[r.n%len(r.buf)] = v
	r.n++
}

// back is the item added i before the last (0: the last); i must be less
// than n and than the ring's size.
func (r *ring[T]) back(i int) T { return r.buf[(r.n-1-i)%len(r.buf)] }

// each calls f on the items from newest to oldest until f returns false.
func (r *ring[T]) each(f func(T) bool) {
	for i := r.n - 1; i >= 0 && i >= r.n-len(r.buf); i-- {
		if !f(r.buf[i%len(r.buf)]) {
			return
		}
	}
}

// NewThrottle returns a Throttle capped at limit requests per second
// (0: no cap; the Throttle finds the API's rate).
func NewThrottle(limit float64) *Throttle {
	t := &Throttle{now: time.Now, sleep: sleepCtx, limit: startRate}
	if limit > 0 && !math.IsInf(limit, 1) && !math.IsNaN(limit) {
		t.max = limit
		t.limit = limit
	}
	return t
}

// acquire waits for a slot and returns when the call goes (the time its
// answer is to be reported with). It sleeps at most maxSleep at a time,
// so that a slot voided by a change of the rate is booked again soon.
func (t *Throttle) acquire(ctx context.Context) (time.Time, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, err
	}
	now := t.now()
	d, gen := t.reserve(now)
	due := now.Add(d)
	for {
		for d > 0 {
			if err := t.sleep(ctx, min(d, maxSleep)); err != nil {
				return time.Time{}, err
			}
			now = t.now()
			d, gen = t.rebook(now, due, gen)
			due = now.Add(d)
		}
		if d = t.send(now); d == 0 {
			return now, nil
		}
	}
}

// send records a call going out at now, unless it would make a clump:
// then it returns how long to wait. Slots are booked ahead, one per waiting
// worker; if the process is held up (a loaded machine, a GC pause) past
// several of them, every worker would wake at once and send together, a
// clump that a strict API answers with 429s far below its rate. A backlog
// drains at twice the rate at most instead, over any clumpSpan: the k-th
// call before this one went at least k half-intervals ago, k the number
// of half-intervals in clumpSpan (4 at 1,000/s; 1 below 500/s, where two
// calls go half an interval apart at least). Not over less: Go's timers
// fire on the runtime poller's ticks, about a millisecond apart, so at
// 1,000/s some ticks find two slots due, and a call held back by less
// than a tick waits a whole one (k = 1 at 1,000/s held the rate to about
// one call a tick: apply kept 81% of a 1,000/s API).
func (t *Throttle) send(now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	half := time.Duration(float64(time.Second) / t.limit / 2)
	k := max(1, min(int(clumpSpan/max(half, 1)), ringSize))
	if t.sends.n >= k {
		if at := t.sends.back(k - 1).Add(time.Duration(k) * half); now.Before(at) {
			return at.Sub(now)
		}
	}
	t.sends.add(now)
	return 0
}

// sent records a call going out at now, as send does, without the check:
// for simulations that do their own pacing.
func (t *Throttle) sent(now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sends.add(now)
}

// rebook is the further wait, at now, of a call booked in generation gen
// for due: what is left of it, unless the rate changed or a pause began
// since it was booked. Then its slot, given at the old rate, is void: it
// books again, so that the calls queued at a rate that drew 429s go at
// the new one (and do not all go at once when a pause ends), and those
// queued at a rate since raised go at the higher one.
func (t *Throttle) rebook(now, due time.Time, gen int64) (time.Duration, int64) {
	t.mu.Lock()
	g := t.gen
	t.mu.Unlock()
	if g == gen {
		return max(0, due.Sub(now)), gen
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
// at most one per worker, and those book again when due (rebook).
func (t *Throttle) reserve(now time.Time) (time.Duration, int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at := now
	if at.Before(t.pausedUntil) {
		at = t.pausedUntil
	}
	if t.next.After(at) {
		at = t.next
		t.lastHeld = now
	}
	t.next = at.Add(time.Duration(float64(time.Second) / t.limit))
	return at.Sub(now), t.gen
}

// answered records the answer, arriving at now, to a call sent at sent:
// ok unless it was a 429.
func (t *Throttle) answered(sent, now time.Time, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.answers.add(callAnswer{sent: sent, ok: ok})
	if !ok {
		t.throttled++
	}
	switch {
	case !ok && !sent.Before(t.lastCut):
		t.cut(sent, now)
		return
	case sent.Before(t.lastCut) && !sent.Before(t.refusedFrom):
		t.remeasure(sent, now)
		return
	case !ok:
		return // sent at the old rate, which the cut answered
	}
	if now.Sub(t.lastRaise) < raiseEvery {
		return
	}
	t.lastRaise = now
	if t.max > 0 && t.limit >= t.max {
		return
	}
	if now.Sub(t.lastHeld) > bindingFor {
		return // the workers, not the rate, bound the calls
	}
	switch {
	case t.lastCut.IsZero():
		if t.limit < 2*t.sendRate(now) {
			t.setLimit(t.limit*startRaise, now)
		}
	case t.accepted == 0:
		t.setLimit(t.limit*(1+fastStep), now)
	case t.limit < t.accepted:
		t.setLimit(math.Min(t.limit*(1+recoverStep), t.accepted), now)
	case now.Sub(t.lastCut) >= quietFor:
		t.setLimit(t.limit*(1+probeStep), now)
	}
}

// cut lowers the rate on a signal, a 429 for the call sent at sent.
func (t *Throttle) cut(sent, now time.Time) {
	e, trusted, first, windowed := t.acceptedRate(sent)
	switch {
	case windowed:
	case t.lastCut.IsZero() && t.inFlight(sent, now):
		// The run's first 429: what the API accepted before it was its
		// burst (at 50/s, a rate read ten times too high). The calls in
		// flight measure it (remeasure); till then, maxCut.
		e, trusted = 0, false
	default:
		// Not measured since the API started refusing: the calls in
		// flight will not measure it either (an API that allows its
		// rate per whole second accepts none once it is spent, then
		// a few as the next second begins, which would read as its
		// rate).
		first = now
	}
	t.cutFrom, t.refusedFrom, t.measuredTo = t.limit, first, sent
	t.setRate(e, trusted, now)
	// The slots handed out before the 429 are void, cut or not.
	t.void(now)
	t.lastCut, t.lastRaise = now, now
	t.cuts++
}

// remeasure sets the rate again on the answer to a call sent at sent, in
// flight at the last cut and sent since the API started refusing: the
// window from refusedFrom to it is longer than the cut's (never shorter
// than the last one measured), so it measures the API's rate better; at
// 50/s, the cut's window holds a call or two the API accepted. An answer
// arriving over estWindow after the cut (a call that hung) measures
// nothing: the rate has moved on since, and going back to the cut's would
// undo the recovery.
func (t *Throttle) remeasure(sent, now time.Time) {
	if !sent.After(t.measuredTo) || now.Sub(t.lastCut) > estWindow {
		return
	}
	e, ok, n := t.rateOver(t.refusedFrom, sent)
	if !ok || n < minAccepted {
		return
	}
	t.measuredTo = sent
	t.setRate(e, n >= minOK && t.offered(t.refusedFrom, sent), now)
}

// setRate sets the rate to cutTo of e, the API's accepting rate measured
// for the last cut (trusted: over enough calls to return to after it),
// never above the rate the cut came at, nor below maxCut of it: a bursty
// API (one that allows a second's calls at once, say) reads low over a
// short window.
func (t *Throttle) setRate(e float64, trusted bool, now time.Time) {
	t.accepted = 0
	if trusted {
		t.accepted = e
	}
	t.setLimit(math.Min(t.cutFrom, math.Max(cutTo*e, t.cutFrom*maxCut)), now)
}

// inFlight reports whether enough calls were sent since from, up to now, to
// measure the API's rate over them when they are answered.
func (t *Throttle) inFlight(from, now time.Time) bool {
	n, _ := t.sentIn(from, now)
	return n >= minCalls && now.Sub(from) >= minSpan
}

// sendRate is the rate of calls sent over the last bindingFor.
func (t *Throttle) sendRate(now time.Time) float64 {
	n, _ := t.sentIn(now.Add(-bindingFor), now)
	return float64(n) / bindingFor.Seconds()
}

// sentIn counts the calls sent in [from, to], and returns the first of
// them.
func (t *Throttle) sentIn(from, to time.Time) (n int, oldest time.Time) {
	t.sends.each(func(at time.Time) bool {
		if at.Before(from) {
			return false
		}
		if !at.After(to) {
			n++
			oldest = at
		}
		return true
	})
	return n, oldest
}

// acceptedRate is the rate at which the API accepted calls sent up to s, a
// call it refused: the share of answered calls it accepted times the rate
// of calls sent, over the calls sent since first, the first refused one in
// the last estWindow (the API accepted only its rate then: windowed), or
// over estWindow when that is too short to measure (the first 429 of a run,
// where the burst the API allowed makes it read high; a lone 429).
func (t *Throttle) acceptedRate(s time.Time) (rate float64, trusted bool, first time.Time, windowed bool) {
	from := s.Add(-estWindow)
	first = s
	t.answers.each(func(a callAnswer) bool {
		if !a.ok && !a.sent.Before(from) && a.sent.Before(first) {
			first = a.sent
		}
		return true
	})
	if r, ok, n := t.rateOver(first, s); ok && n >= minAccepted {
		return r, n >= minOK && t.offered(first, s), first, true
	}
	r, _, n := t.rateOver(from, s)
	return r, n >= minOK && !t.lastCut.IsZero() && t.offered(from, s), first, false
}

// offered reports whether the calls sent in [from, to] went at nearly the
// rate in force: a measurement over a time the workers did not keep up
// (the machine was busy, say) reads the API's rate low, and is not to be
// held to.
func (t *Throttle) offered(from, to time.Time) bool {
	n, _ := t.sentIn(from, to)
	d := to.Sub(from).Seconds()
	return d > 0 && float64(n)/d >= 0.9*t.limit
}

// rateOver measures the accepting rate over the calls sent in [from, to],
// whether there were enough calls to measure, and how many were accepted.
func (t *Throttle) rateOver(from, to time.Time) (float64, bool, int) {
	var ok, all int
	sends, oldest := t.sentIn(from, to)
	t.answers.each(func(a callAnswer) bool {
		if !a.sent.Before(from) && !a.sent.After(to) {
			all++
			if a.ok {
				ok++
			}
		}
		return true
	})
	if sends == 0 || all == 0 {
		return 0, false, 0
	}
	span := to.Sub(from)
	if from.Before(oldest) && oldest.Sub(from) > span/2 {
		// The history starts late in the window (the run's first calls).
		span = to.Sub(oldest)
	}
	if span < minSpan || sends < minCalls {
		return float64(ok) / float64(all) * float64(sends) / math.Max(span.Seconds(), minSpan.Seconds()), false, ok
	}
	return float64(ok) / float64(all) * float64(sends) / span.Seconds(), true, ok
}

// Pause stops every worker's calls for d (a Retry-After sent with a 503,
// say); a longer pause already in force is kept.
func (t *Throttle) Pause(d time.Duration) {
	if d <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if now.Before(t.pausedUntil) {
		// A 503 that arrives during a pause answers a call sent before it
		// began, which the pause already answers; only a longer pause
		// asked for is taken.
		if d > t.pausedUntil.Sub(t.pauseStart) && now.Add(d).After(t.pausedUntil) {
			t.pausedUntil = now.Add(d)
		}
		return
	}
	t.pauseStart, t.pausedUntil = now, now.Add(d)
	t.gen++
	t.pauses++
}

// setLimit sets the rate in force; the slots handed out at the old one
// are void (see rebook).
func (t *Throttle) setLimit(l float64, now time.Time) {
	l = math.Max(l, minRate)
	if t.max > 0 {
		l = math.Min(l, t.max)
	}
	if l == t.limit {
		return
	}
	t.limit = l
	t.void(now)
}

// void makes the slots handed out so far void: their calls book again
// (rebook), one interval of the rate in force after the last call sent.
func (t *Throttle) void(now time.Time) {
	t.next = now
	if t.sends.n > 0 {
		if at := t.sends.back(0).Add(time.Duration(float64(time.Second) / t.limit)); at.After(now) {
			t.next = at
		}
	}
	t.gen++
}
