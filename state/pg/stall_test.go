package pg

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/internal/stall"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

// TestBackend_StalledConnection: through a real toxiproxy whose timeout
// toxic makes PostgreSQL stop answering (a firewall dropping packets, a
// hung pooler), every operation fails within its deadline instead of
// hanging: a Commit under the lock says the lock is lost and why, Unlock
// and Close return, and a fresh Backend's Read and Lock fail in time.
func TestBackend_StalledConnection(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	px := stall.Start(t, stall.Upstream(t, loc))
	through := px.Through(t, loc)
	const timeout = time.Second
	// bound is what "did not hang" means here: the deadline, the
	// connect timeout of a reconnection, and slack for a loaded machine.
	const bound = 15 * time.Second

	b := open(t, through, "stall")
	b.SetTimeout(timeout)
	l, err := b.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	statetest.MustRead(t, b)
	if err := b.Commit(bg, changesFor(0, 10)); err != nil {
		t.Fatal(err)
	}

	px.Stall(t)
	start := time.Now()
	err = b.Commit(bg, changesFor(10, 10))
	took := time.Since(start)
	if err == nil || !errors.Is(err, state.ErrLockLost) || !strings.Contains(err.Error(), "did not answer within 1s") || !errors.As(err, new(*TimeoutError)) {
		t.Errorf("Commit on a stalled connection: %v, want a lost lock that says PostgreSQL did not answer within 1s", err)
	}
	if took > bound {
		t.Errorf("Commit took %s on a stalled connection", took)
	}
	start = time.Now()
	if err := l.Unlock(); err == nil {
		t.Error("Unlock on a stalled connection succeeded")
	}
	b.Close()
	if took := time.Since(start); took > bound {
		t.Errorf("Unlock and Close took %s", took)
	}

	fresh := open(t, through, "stall")
	fresh.SetTimeout(timeout)
	start = time.Now()
	if _, err := fresh.Read(bg); err == nil {
		t.Error("Read through a stalled proxy succeeded")
	}
	if _, err := fresh.Lock(bg, state.LockRequest{Operation: "apply"}); err == nil {
		t.Error("Lock through a stalled proxy succeeded")
	}
	if took := time.Since(start); took > 2*bound {
		t.Errorf("Read and Lock through a stalled proxy took %s", took)
	}

	// Once the network answers again, the state holds the first commit
	// only, and the lock was freed by the server.
	px.Resume(t)
	again := open(t, through, "stall")
	ctx, cancel := context.WithTimeout(bg, time.Minute)
	defer cancel()
	l2, err := state.LockWithContext(ctx, again, state.LockRequest{Operation: "apply", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Lock after the stall: %v", err)
	}
	defer l2.Unlock()
	if s := statetest.MustRead(t, again); s.Len() != 10 || s.Serial != 1 {
		t.Errorf("after the stall: serial %d, %d messages; want 1, 10", s.Serial, s.Len())
	}
}

// changesFor returns n cancelled records for the IDs from first.
func changesFor(first, n int) []state.Change {
	cs := make([]state.Change, n)
	for i := range cs {
		r := state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "g", At: time.Unix(1700000000, 0).UTC()}
		cs[i] = state.Change{ID: statetest.ID(first + i), Record: &r}
	}
	return cs
}
