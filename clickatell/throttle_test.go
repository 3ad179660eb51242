package clickatell

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
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

func TestThrottle_Unlimited(t *testing.T) {
	th, _ := fakeThrottle(0)
	for i := 0; i < 1000; i++ {
		if d := th.reserve(t0); d != 0 {
			t.Fatalf("call %d waits %v without a limit", i, d)
		}
	}
	if th.Limit() != 0 {
		t.Errorf("Limit() = %v, want 0", th.Limit())
	}
	for _, l := range []float64{-1, math.Inf(1), math.NaN()} {
		if NewThrottle(l).Limit() != 0 {
			t.Errorf("NewThrottle(%v) has a limit", l)
		}
	}
}

func TestThrottle_CapPaces(t *testing.T) {
	th, _ := fakeThrottle(100)
	for i := 0; i < 50; i++ {
		if d, want := th.reserve(t0), time.Duration(i)*10*time.Millisecond; d != want {
			t.Fatalf("call %d waits %v, want %v", i, d, want)
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
		th.succeededAt(now)
		if i%5000 == 2499 {
			th.throttledAt(now, 0)
		}
		if th.limit > 300 {
			t.Fatalf("limit %v above the cap at step %d", th.limit, i)
		}
	}
	if th.Limit() != 300 {
		t.Errorf("after a long run of successes the limit is %v, want the cap", th.Limit())
	}
}

func TestThrottle_CutsToTheAcceptedRate(t *testing.T) {
	th, _ := fakeThrottle(0)
	now := t0
	th.reserve(now)
	// 2 s of successes at 500/s, then a 429.
	for i := 0; i < 1000; i++ {
		now = now.Add(2 * time.Millisecond)
		th.succeededAt(now)
	}
	if th.Limit() != 0 {
		t.Fatalf("limit %v before any 429", th.Limit())
	}
	th.throttledAt(now, 0)
	if l := th.Limit(); math.Abs(l-cutFactor*500) > 5 {
		t.Fatalf("after a 429 at 500/s accepted, limit %v, want about %v", l, cutFactor*500)
	}
	first := th.Limit()

	// More 429s within cutEvery do not cut again: they answer calls
	// sent before the cut.
	th.throttledAt(now.Add(cutEvery/2), 0)
	if th.Limit() != first {
		t.Errorf("cut again within %v: %v", cutEvery, th.Limit())
	}

	// Successes raise it again: quickly back to near the rate that drew
	// the 429 (here within half a second), then slowly.
	for i := 0; i < 5; i++ {
		now = now.Add(raiseEvery)
		th.succeededAt(now)
	}
	if l, want := th.Limit(), recoverShare*500; math.Abs(l-want) > 10 {
		t.Errorf("0.5 s of successes raised the limit from %v to %v, want about %v", first, l, want)
	}
	recovered := th.Limit()
	for i := 0; i < 5; i++ {
		now = now.Add(raiseEvery)
		th.succeededAt(now)
	}
	if l := th.Limit(); l <= recovered || l > recovered*1.05 {
		t.Errorf("near the old rate, 0.5 s of successes moved the limit from %v to %v, want a small raise", recovered, l)
	}

	// Sustained 429s cut again, never below half at once.
	before := th.Limit()
	th.throttledAt(now, 0)
	if l := th.Limit(); l >= before || l < before*maxCut {
		t.Errorf("sustained 429s: limit %v after %v", l, before)
	}
}

func TestThrottle_OpeningBurstDoesNotCut(t *testing.T) {
	th, _ := fakeThrottle(0)
	th.reserve(t0)
	th.succeededAt(t0.Add(time.Millisecond))
	th.throttledAt(t0.Add(2*time.Millisecond), 0)
	if th.Limit() != 0 {
		t.Errorf("a 429 2ms into the run set limit %v", th.Limit())
	}
	// With a Retry-After, it does (the pause ends the burst anyway).
	th.throttledAt(t0.Add(3*time.Millisecond), time.Second)
	if th.Limit() <= 0 {
		t.Error("no limit after a 429 with Retry-After")
	}
}

func TestThrottle_RetryAfterPausesEveryone(t *testing.T) {
	th, clock := fakeThrottle(0)
	th.Throttled(time.Second)
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock() // the fake clock is not safe for concurrent use
			defer mu.Unlock()
			start := *clock
			if err := th.Wait(context.Background()); err != nil {
				t.Error(err)
			}
			if clock.Before(t0.Add(2*time.Second)) || start.After(*clock) {
				t.Errorf("a worker went at %v, inside the pause", clock.Sub(t0))
			}
		}()
	}
	wg.Wait()
}

func TestThrottle_WaitEndsWithContext(t *testing.T) {
	th := NewThrottle(0)
	th.Throttled(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- th.Wait(ctx) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait = %v, want context.Canceled", err)
	}
}

func TestThrottle_MeterIgnoresPauses(t *testing.T) {
	th, _ := fakeThrottle(0)
	now := t0
	th.reserve(now)
	for i := 0; i < 500; i++ {
		now = now.Add(2 * time.Millisecond)
		th.succeededAt(now)
	}
	th.Pause(0)
	th.mu.Lock()
	th.pauseLocked(now, 5*time.Second)
	th.mu.Unlock()
	now = now.Add(5 * time.Second)
	th.succeededAt(now)
	r, _ := th.successRate(now)
	if r < 400 || r > 600 {
		t.Errorf("after a 5 s pause the meter reads %v/s, want about 500", r)
	}
}
