package main

import (
	"context"
	"strings"
	"testing"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/pg"
)

// lockPG takes the lock of the default workspace of the PostgreSQL state
// at loc, for operation op, on a connection of its own: unlock releases
// the lock and closes the connection. A failure to connect is fatal; one
// to lock is returned (and the connection closed).
func lockPG(t *testing.T, loc, op string) (l state.Lock, unlock func(), err error) {
	t.Helper()
	b, err := pg.Open(loc, "")
	if err != nil {
		t.Fatal(err)
	}
	l, err = b.Lock(context.Background(), state.LockRequest{Operation: op})
	if err != nil {
		b.Close()
		return nil, nil, err
	}
	return l, func() {
		l.Unlock()
		b.Close()
	}, nil
}

// TestForceUnlock_AsksOnATerminal: on a terminal, force-unlock asks, and
// anything but "yes" leaves the lock alone.
func TestForceUnlock_AsksOnATerminal(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	l, unlock, err := lockPG(t, loc, "apply")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	id := l.Info().ID

	run := func(answer string) (int, string, string) {
		var stdout, stderr strings.Builder
		e := &env{stdin: strings.NewReader(answer), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, stdinTTY: true, stdoutTTY: true}
		code := Main(context.Background(), []string{"force-unlock", "-state", loc, id}, e)
		return code, stdout.String(), stderr.String()
	}
	locked := func() bool {
		_, unlock, err := lockPG(t, loc, "probe")
		if err != nil {
			return true
		}
		unlock()
		return false
	}

	for _, answer := range []string{"no\n", "y\n", ""} {
		code, stdout, stderr := run(answer)
		if code != 1 || !strings.Contains(stdout, "Only 'yes' will be accepted") || !strings.Contains(stderr, "Force-unlock cancelled; the lock was not touched.") {
			t.Errorf("answer %q: exit %d, stdout %q, stderr %q; want exit 1, the question, and a cancellation", answer, code, stdout, stderr)
		}
		if !locked() {
			t.Fatalf("answer %q released the lock", answer)
		}
	}
	code, stdout, stderr := run("yes\n")
	if code != 0 || !strings.Contains(stdout, "Lock "+id+" on ") || !strings.Contains(stdout, "released") {
		t.Fatalf("answer yes: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if locked() {
		t.Error("the lock is still held after force-unlock")
	}
}
