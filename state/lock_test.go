package state_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/recallhq/recall/state"
)

// heldBackend is a Backend whose lock is held by holder until free, on
// virtual time; it records when Lock was tried.
type heldBackend struct {
	state.Backend // only Lock is called
	holder        state.LockInfo
	free          time.Time // zero: never
	tries         []time.Time
	err           error // returned by every try instead, if set
}

type fakeLock struct{ info state.LockInfo }

func (l fakeLock) Info() state.LockInfo { return l.info }
func (l fakeLock) Unlock() error        { return nil }

func (b *heldBackend) Lock(ctx context.Context, req state.LockRequest) (state.Lock, error) {
	now := time.Now()
	b.tries = append(b.tries, now)
	if b.err != nil {
		return nil, b.err
	}
	if !b.free.IsZero() && !now.Before(b.free) {
		return fakeLock{state.LockInfo{ID: "mine", Operation: req.Operation}}, nil
	}
	return nil, &state.LockError{Info: b.holder}
}

var holder = state.LockInfo{ID: "held-1", Operation: "apply", Who: "ann@ops"}

func TestLockWithContext_timeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &heldBackend{holder: holder}
		start := time.Now()
		_, err := state.LockWithContext(context.Background(), b, state.LockRequest{Operation: "apply", Timeout: 5 * time.Second})
		if got := time.Since(start); got != 5*time.Second {
			t.Errorf("gave up after %s, want exactly the 5s timeout", got)
		}
		var le *state.LockError
		if !errors.As(err, &le) || le.Info != holder {
			t.Fatalf("err = %v, want a *LockError naming %+v", err, holder)
		}
		if want := "state is locked by ann@ops"; !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), ": gave up after waiting 5s") {
			t.Errorf("err = %q, want %q … gave up after waiting 5s", err, want)
		}
		// Backoff: the gaps grow, by doubling with jitter, to at most a
		// second; the last try is at the deadline.
		if last := b.tries[len(b.tries)-1]; last != start.Add(5*time.Second) {
			t.Errorf("last try at +%s, want +5s", last.Sub(start))
		}
		lim := 20 * time.Millisecond
		for i := 1; i < len(b.tries)-1; i++ {
			gap := b.tries[i].Sub(b.tries[i-1])
			if gap < lim/2 || gap >= lim {
				t.Errorf("gap %d = %s, want within [%s, %s)", i, gap, lim/2, lim)
			}
			lim = min(2*lim, time.Second)
		}
		if n := len(b.tries); n < 8 || n > 20 {
			t.Errorf("%d tries in 5s, want the backoff's 8 to 20", n)
		}
	})
}

func TestLockWithContext_zeroTimeoutTriesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := &heldBackend{holder: holder}
		_, err := state.LockWithContext(context.Background(), b, state.LockRequest{Operation: "apply"})
		var le *state.LockError
		if !errors.As(err, &le) || le.Err != nil || len(b.tries) != 1 {
			t.Errorf("err = %v after %d tries, want the holder's *LockError after one, nothing added", err, len(b.tries))
		}
	})
}

func TestLockWithContext_waitsForRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		b := &heldBackend{holder: holder, free: start.Add(3 * time.Second)}
		l, err := state.LockWithContext(context.Background(), b, state.LockRequest{Operation: "state rm", Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if l.Info().Operation != "state rm" {
			t.Errorf("lock %+v", l.Info())
		}
		// Taken at the first try after the release: at most a second of
		// backoff late.
		if got := time.Since(start); got < 3*time.Second || got > 4*time.Second {
			t.Errorf("taken after %s, want 3-4s", got)
		}
	})
}

func TestLockWithContext_cancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(1500*time.Millisecond, cancel)
		b := &heldBackend{holder: holder}
		start := time.Now()
		_, err := state.LockWithContext(ctx, b, state.LockRequest{Operation: "apply", Timeout: time.Hour})
		if got := time.Since(start); got != 1500*time.Millisecond {
			t.Errorf("returned %s after the start, want at the cancel (1.5s)", got)
		}
		var le *state.LockError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &le) || le.Info != holder {
			t.Errorf("err = %v, want the holder's *LockError wrapping context.Canceled", err)
		}
	})
}

func TestLockWithContext_otherErrorStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		boom := errors.New("permission denied")
		b := &heldBackend{err: boom}
		_, err := state.LockWithContext(context.Background(), b, state.LockRequest{Operation: "apply", Timeout: time.Hour})
		if !errors.Is(err, boom) || len(b.tries) != 1 {
			t.Errorf("err = %v after %d tries, want the backend's error after one", err, len(b.tries))
		}
	})
}
