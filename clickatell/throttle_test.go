package clickatell

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// fakeThrottle returns a throttle on a fake clock that sleeps by moving it.
func fakeThrottle(limit float64) (*Throttle, *time.Time) {
	th := NewThrottle(limit)
	clock := t0
	th.now = func() time.Time { return clock }
	th.sleep = func(ctx context.Context, d time.Duration) error {
		clock = clock.Add(d)
		return ctx.Err()
	}
	return th, &clock
}

func TestThrottle_NoCapStartsAtStartRate(t *testing.T) {
	th, _ := fakeThrottle(0)
	for i := 0; i < 100; i++ {
		if d, _ := th.reserve(t0); d != time.Duration(float64(i)*float64(time.Second)/startRate) {
			t.Fatalf("call %d waits %v without a cap, want %v", i, d, time.Duration(float64(i)*float64(time.Second)/startRate))
		}
	}
	if th.Limit() != startRate {
		t.Errorf("Limit() = %v, want %v", th.Limit(), startRate)
	}
	for _, l := range []float64{-1, math.Inf(1), math.NaN()} {
		if NewThrottle(l).Limit() != startRate {
			t.Errorf("NewThrottle(%v) has limit %v", l, NewThrottle(l).Limit())
		}
	}
}

func TestThrottle_CapPaces(t *testing.T) {
	th, _ := fakeThrottle(100)
	for i := 0; i < 50; i++ {
		if d, _ := th.reserve(t0); d != time.Duration(i)*10*time.Millisecond {
			t.Fatalf("call %d waits %v, want %v", i, d, time.Duration(i)*10*time.Millisecond)
		}
	}
}

func TestThrottle_WaitMovesWithTheClock(t *testing.T) {
	th, clock := fakeThrottle(50)
	for i := 0; i < 10; i++ {
		if err := th.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := clock.Sub(t0), 9*20*time.Millisecond; got != want {
		t.Errorf("10 calls at 50/s took %v of clock, want %v", got, want)
	}
}

func TestThrottle_NeverAboveCap(t *testing.T) {
	th, _ := fakeThrottle(300)
	now := t0
	for i := 0; i < 100000; i++ {
		now = now.Add(time.Millisecond)
		th.reserve(now)
		th.reserve(now) // held: the rate binds
		th.sent(now)
		th.answered(now, now, i%5000 != 2499)
		if th.limit > 300 {
			t.Fatalf("limit %v above the cap at step %d", th.limit, i)
		}
	}
	if th.Limit() != 300 {
		t.Errorf("after a long run of successes the limit is %v, want the cap", th.Limit())
	}
}

// drive sends calls at rate for d from *now through th (each answered
// latency later by api), and returns the 429s.
func drive(th *Throttle, now *time.Time, d, latency time.Duration, api *gcra) int {
	type call struct {
		sent time.Time
		ok   bool
	}
	var inFlight []call
	thr := 0
	end := now.Add(d)
	for now.Before(end) {
		w, g := th.reserve(*now)
		at := now.Add(w)
		for len(inFlight) > 0 && !inFlight[0].sent.Add(latency).After(at) {
			c := inFlight[0]
			inFlight = inFlight[1:]
			th.answered(c.sent, c.sent.Add(latency), c.ok)
			if !c.ok {
				thr++
			}
		}
		*now = at
		if _, g2 := th.rebook(at, at, g); g2 != g {
			continue // a cut while it waited voided its slot
		}
		th.sent(at)
		inFlight = append(inFlight, call{at, api.allow(at.Sub(t0))})
	}
	return thr
}

func TestThrottle_CutsToTheAcceptedRate(t *testing.T) {
	// Calls from the start rate, climbing, against an API accepting
	// 400/s: the rate settles just under 400/s, with one cut per round
	// trip at most.
	th, _ := fakeThrottle(0)
	now := t0
	api := newGCRA(400, 40)
	thr := drive(th, &now, 2*time.Second, 20*time.Millisecond, api)
	if l := th.Limit(); l < 0.94*400 || l > 400 {
		t.Errorf("after 2 s the limit is %v, want just under 400", l)
	}
	if th.accepted < 390 || th.accepted > 410 {
		t.Errorf("measured accepting rate %v, want about 400", th.accepted)
	}
	if thr > 60 {
		t.Errorf("%d 429s, want at most 60", thr)
	}
	if th.cuts > 10 {
		t.Errorf("%d cuts, want a few", th.cuts)
	}
}

func TestThrottle_InFlight429sAreOneSignal(t *testing.T) {
	th, _ := fakeThrottle(1000)
	now := t0
	for i := 0; i < 100; i++ {
		th.reserve(now)
		th.sent(now)
		th.answered(now, now.Add(20*time.Millisecond), true)
		now = now.Add(time.Millisecond)
	}
	sent := now
	for i := 0; i < 20; i++ {
		th.sent(sent.Add(time.Duration(i) * time.Millisecond))
	}
	th.answered(sent, now.Add(20*time.Millisecond), false)
	first := th.Limit()
	if first >= 1000 {
		t.Fatalf("a 429 did not cut the rate: %v", first)
	}
	// 429s for calls sent before the cut answer the old rate.
	for i := 1; i < 20; i++ {
		th.answered(sent.Add(time.Duration(i)*time.Millisecond), now.Add(21*time.Millisecond), false)
	}
	if th.Limit() != first || th.cuts != 1 {
		t.Errorf("in-flight 429s cut again: limit %v, %d cuts", th.Limit(), th.cuts)
	}
	// One sent after the cut is a new signal.
	th.answered(now.Add(30*time.Millisecond), now.Add(50*time.Millisecond), false)
	if th.cuts != 2 {
		t.Errorf("a 429 for a call sent after the cut did not count: %d cuts", th.cuts)
	}
	if th.Limit() < first*maxCut {
		t.Errorf("cut below maxCut at once: %v after %v", th.Limit(), first)
	}
}

func TestThrottle_RebooksAfterCut(t *testing.T) {
	th, _ := fakeThrottle(1000)
	// 100 calls queued at 1,000/s: slots to 99 ms ahead.
	var gens []int64
	for i := 0; i < 100; i++ {
		_, g := th.reserve(t0)
		gens = append(gens, g)
	}
	th.mu.Lock()
	th.limit = 100
	th.next = t0
	th.gen++
	th.mu.Unlock()
	// The call due at 50 ms books again, at the new rate.
	if d, _ := th.rebook(t0.Add(50*time.Millisecond), t0.Add(50*time.Millisecond), gens[50]); d != 0 {
		t.Errorf("first rebooked call waits %v, want 0", d)
	}
	if d, _ := th.rebook(t0.Add(51*time.Millisecond), t0.Add(51*time.Millisecond), gens[51]); d != 9*time.Millisecond {
		t.Errorf("second rebooked call waits %v, want 9ms (100/s)", d)
	}
}

func TestThrottle_RaisesOnlyWhenBinding(t *testing.T) {
	th, _ := fakeThrottle(0)
	now := t0
	// Calls far below the rate: no raise.
	for i := 0; i < 100; i++ {
		now = now.Add(10 * time.Millisecond)
		th.reserve(now)
		th.sent(now)
		th.answered(now, now, true)
	}
	if th.Limit() != startRate {
		t.Errorf("limit %v after calls the rate never held, want %v", th.Limit(), startRate)
	}
	// Calls held back by the rate, sent at about it: raised by
	// startRaise per raiseEvery.
	for i := 0; i < 11; i++ {
		now = now.Add(10 * time.Millisecond)
		th.reserve(now)
		th.reserve(now)
		for j := 0; j < 10; j++ {
			th.sent(now)
		}
		th.answered(now, now, true)
	}
	if l := th.Limit(); l <= startRate || l > startRate*startRaise*startRaise+1 {
		t.Errorf("limit %v after 110 ms of held calls, want one or two raises by %v", l, startRaise)
	}
}

func TestThrottle_NoRaiseFarAboveTheCallsSent(t *testing.T) {
	// Ten workers in a clump, held a millisecond each by the rate, send
	// far less than it: the rate is not raised without end.
	th, _ := fakeThrottle(0)
	now := t0
	for i := 0; i < 1000; i++ {
		now = now.Add(20 * time.Millisecond)
		for j := 0; j < 10; j++ {
			th.reserve(now)
			th.sent(now)
		}
		th.answered(now, now, true)
	}
	if l := th.Limit(); l > 2*startRaise*550 {
		t.Errorf("limit %v after 20 s of 500 calls/s, want at most %v", l, 2*startRaise*550)
	}
}

func TestThrottle_RetryAfterOf429DoesNotPause(t *testing.T) {
	th, _ := fakeThrottle(0)
	th.Throttled()
	if d, _ := th.reserve(t0); d != 0 {
		t.Errorf("after a 429 the next call waits %v", d)
	}
}

func TestThrottle_PausePausesEveryone(t *testing.T) {
	th, clock := fakeThrottle(0)
	th.Pause(time.Second)
	// A shorter pause does not shorten it, nor does one as long extend
	// it, but a longer one does.
	th.Pause(time.Second / 2)
	*clock = clock.Add(time.Second / 2)
	th.Pause(time.Second)
	if th.pausedUntil != t0.Add(time.Second) {
		t.Fatalf("a second 1 s pause moved the end to %v", th.pausedUntil.Sub(t0))
	}
	th.Pause(1500 * time.Millisecond)
	*clock = t0
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			mu.Lock() // the fake clock is not safe for concurrent use
			defer mu.Unlock()
			start := *clock
			if err := th.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			if clock.Before(t0.Add(2*time.Second)) || start.After(*clock) {
				t.Errorf("a worker went at %v, inside the pause", clock.Sub(t0))
			}
		})
	}
	wg.Wait()
}

func TestThrottle_WaitEndsWithContext(t *testing.T) {
	th := NewThrottle(0)
	th.Pause(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- th.Wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

// TestThrottle_LateWakersDoNotClump holds up every worker booked ahead
// (as a loaded machine or a GC pause does) well past their slots: when they
// wake together, they must not all send at once, a clump that a strict API
// answers with 429s far below its rate; the backlog drains at twice the
// rate at most, over any clumpSpan (at 80/s, every two calls go at least
// half an interval apart).
func TestThrottle_LateWakersDoNotClump(t *testing.T) {
	for _, tt := range []struct {
		limit   float64
		workers int
	}{{80, 16}, {1000, 64}} {
		t.Run(fmt.Sprintf("%v/s", tt.limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				th := NewThrottle(tt.limit)
				// Every worker booked in the first 300 ms (all but the
				// first sleep) wakes at the same instant, past its slot.
				var stalled atomic.Bool
				stalled.Store(true)
				wake := time.Now().Add(300 * time.Millisecond)
				th.sleep = func(ctx context.Context, d time.Duration) error {
					if stalled.Load() {
						d = max(d, time.Until(wake))
					}
					return sleepCtx(ctx, d)
				}
				var mu sync.Mutex
				var sends []time.Time
				var wg sync.WaitGroup
				for range tt.workers {
					wg.Go(func() {
						at, err := th.acquire(context.Background())
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						sends = append(sends, at)
						mu.Unlock()
					})
				}
				time.Sleep(400 * time.Millisecond) // past the wake-up: later waits are on time
				stalled.Store(false)
				wg.Wait()
				slices.SortFunc(sends, time.Time.Compare)
				minGap := time.Duration(float64(time.Second) / tt.limit / 2)
				k := max(1, int(clumpSpan/minGap))
				for i := k; i < len(sends); i++ {
					if gap := sends[i].Sub(sends[i-k]); gap < time.Duration(k)*minGap {
						t.Fatalf("sends %d and %d went %v apart, want at least %v: %v", i-k, i, gap, time.Duration(k)*minGap, sends)
					}
				}
			})
		})
	}
}

// TestThrottle_PacesOnMillisecondTimers: Go's timers fire on the
// runtime poller's ticks, about a millisecond apart (sleepEnds), so at
// 1,000/s some ticks find two slots due. Both must go: holding the second
// back by half an interval made it wait a whole tick, and kept the rate
// to about one call a tick (apply kept 81% of a 1,000/s API).
func TestThrottle_PacesOnMillisecondTimers(t *testing.T) {
	for _, limit := range []float64{400, 1000, 2000} {
		t.Run(fmt.Sprintf("%v/s", limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				th := NewThrottle(limit)
				epoch := time.Now()
				th.sleep = func(ctx context.Context, d time.Duration) error {
					at := time.Since(epoch)
					return sleepCtx(ctx, sleepEnds(at, d)-at)
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				var n atomic.Int64
				var wg sync.WaitGroup
				for range 64 {
					wg.Go(func() {
						for {
							if _, err := th.acquire(ctx); err != nil {
								return
							}
							n.Add(1)
							time.Sleep(20 * time.Millisecond) // the call
						}
					})
				}
				wg.Wait()
				if got := float64(n.Load()); got < 0.99*limit {
					t.Errorf("%v calls in 1 s at %v/s (%.1f%%), want at least 99%%", got, limit, 100*got/limit)
				}
			})
		})
	}
}

// TestThrottle_RaiseRebooksQueuedCalls: calls queued at a slow rate go at
// the raised one, not once the old queue has drained (the slow start
// with 256 workers would otherwise wait out 256 slots at 500/s per raise).
func TestThrottle_RaiseRebooksQueuedCalls(t *testing.T) {
	th, _ := fakeThrottle(0)
	th.limit = 100
	// 50 calls queued at 100/s: slots to 490 ms ahead.
	type booked struct {
		due time.Time
		gen int64
	}
	var q []booked
	for i := 0; i < 50; i++ {
		d, g := th.reserve(t0)
		q = append(q, booked{t0.Add(d), g})
	}
	th.sent(t0)
	th.mu.Lock()
	th.setLimit(1000, t0)
	th.mu.Unlock()
	// Each queued call, looking at its slot within maxSleep, books again
	// at 1,000/s: the last goes 50 ms ahead, not 490.
	now := t0.Add(maxSleep)
	var last time.Time
	for i, b := range q[1:] {
		d, g := th.rebook(now, b.due, b.gen)
		if g == b.gen {
			t.Fatalf("call %d kept its slot at the old rate", i+1)
		}
		last = now.Add(d)
	}
	if want := now.Add(48 * time.Millisecond); last.After(want) {
		t.Errorf("the last queued call goes at %v, want by %v", last.Sub(t0), want.Sub(t0))
	}
	// A slot not voided keeps its time.
	d, _ := th.reserve(now)
	if d2, _ := th.rebook(now.Add(time.Millisecond), now.Add(d), th.gen); d2 != d-time.Millisecond {
		t.Errorf("a valid slot %v ahead waits %v a millisecond later", d, d2)
	}
}

// TestThrottle_FirstCutIsMeasuredInFlight: the run's first 429, against
// 50/s, comes after the API's burst, which makes anything measured up to
// it read about ten times too high (the cut was to 97% of it, 388/s from
// 400/s). The rate drops to a quarter at once, and is then measured over
// the calls sent while the API refused, those in flight at the cut
// included: near 50/s within 100 ms.
func TestThrottle_FirstCutIsMeasuredInFlight(t *testing.T) {
	th, _ := fakeThrottle(0)
	now := t0
	api := newGCRA(50, 5)
	thr := drive(th, &now, 100*time.Millisecond, 20*time.Millisecond, api)
	if l := th.Limit(); l < 0.8*50 || l > 1.2*50 {
		t.Errorf("after 100 ms the limit is %.1f/s, want about 50", l)
	}
	// 7 of them from the calls in flight at 400/s when the first came.
	if thr > 12 {
		t.Errorf("%d 429s in 100 ms, want at most 12", thr)
	}
	thr += drive(th, &now, 900*time.Millisecond, 20*time.Millisecond, api)
	if thr > 15 {
		t.Errorf("%d 429s in 1 s, want at most 15", thr)
	}
}

// TestThrottle_LateAnswerDoesNotRemeasure: answers to calls sent before
// the last cut, from the window it measures, that arrive over estWindow
// after it (calls that hung) leave the rate where it got to since, instead
// of setting it again from that window.
func TestThrottle_LateAnswerDoesNotRemeasure(t *testing.T) {
	th, _ := fakeThrottle(0)
	now := t0
	// 40 ms against 50/s: the first 429 has cut the rate, and every call
	// sent since the API started refusing was refused.
	drive(th, &now, 40*time.Millisecond, 20*time.Millisecond, newGCRA(50, 5))
	if th.cuts != 1 || !th.refusedFrom.Before(th.lastCut) {
		t.Fatalf("%d cuts, refused from %v, cut at %v: want one cut measured over the calls in flight", th.cuts, th.refusedFrom.Sub(t0), th.lastCut.Sub(t0))
	}
	th.setLimit(150, now) // where the rate got to since
	late := th.lastCut.Add(2 * estWindow)
	for _, sent := range []time.Time{th.lastCut.Add(-2 * time.Millisecond), th.lastCut.Add(-time.Millisecond)} {
		th.answered(sent, late, true)
	}
	if got := th.Limit(); got != 150 {
		t.Errorf("two late answers moved the limit from 150/s to %.1f/s", got)
	}
}
