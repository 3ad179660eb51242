package pg

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

// The test binary doubles as a lock holder in another process: with
// holderEnv set, it takes the lock, prints its LockInfo as JSON, and holds
// the lock until its stdin closes.
const holderEnv = "RECALL_PG_TEST_HOLDER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(holderEnv); spec != "" {
		os.Exit(holdLock(spec))
	}
	os.Exit(m.Run())
}

func holdLock(spec string) int {
	loc, ws, _ := strings.Cut(spec, " ")
	b, err := Open(loc, ws)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	l, err := b.Lock(context.Background(), state.LockRequest{Operation: "apply"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(l.Info())
	io.Copy(io.Discard, os.Stdin)
	if err := l.Unlock(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startHolder runs a lock holder process and returns it with its LockInfo
// and its stdin, whose closing makes it unlock and exit.
func startHolder(t *testing.T, loc, ws string) (*exec.Cmd, state.LockInfo, io.Closer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+loc+" "+ws)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout := testkit.Start(t, cmd)
	t.Cleanup(func() { stdin.Close() })
	line, err := stdout.ReadBytes('\n')
	if err != nil {
		t.Fatalf("lock holder process: %v; stderr: %s", err, stderr.String())
	}
	var info state.LockInfo
	if err := json.Unmarshal(line, &info); err != nil {
		t.Fatalf("lock holder printed %q: %v", line, err)
	}
	return cmd, info, stdin
}

// TestLock_OtherProcess: a second process waits up to its timeout, then
// fails naming the holder; when the holder is killed with SIGKILL, the
// server releases its lock and the waiter gets it.
func TestLock_OtherProcess(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	holder, info, _ := startHolder(t, loc, "shared")
	b := open(t, loc, "shared")

	const timeout = 500 * time.Millisecond
	start := time.Now()
	_, err := state.LockWithContext(bg, b, state.LockRequest{Operation: "apply", Timeout: timeout})
	waited := time.Since(start)
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it: %v, want a *state.LockError", err)
	}
	if le.Info.ID != info.ID || le.Info.Who != info.Who || le.Info.Operation != "apply" || !le.Info.Created.Equal(info.Created) {
		t.Errorf("LockError names %+v, want the holder %+v", le.Info, info)
	}
	for _, want := range []string{info.ID, info.Who, `"apply"`, "gave up after waiting 500ms"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if waited < timeout {
		t.Errorf("Lock gave up after %v, before its %v timeout", waited, timeout)
	}
	// Another workspace is not affected.
	other := open(t, loc, "other")
	l, err := other.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock of another workspace: %v", err)
	}
	l.Unlock()

	if err := holder.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	holder.Wait()
	l, err = state.LockWithContext(bg, b, state.LockRequest{Operation: "state rm", Timeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	defer l.Unlock()
	// The dead holder's row was overwritten with ours.
	h, err := b.holder(bg, b.lock.conn)
	if err != nil {
		t.Fatal(err)
	}
	if h.info.ID != l.Info().ID || h.info.Operation != "state rm" {
		t.Errorf("holder row after taking over: %+v, want ours %+v", h.info, l.Info())
	}
}

// TestForceUnlock_EndsHolderSession: force-unlock with the holder's ID ends
// the holder's session; the holder can then write nothing, and its Unlock
// says the lock was lost.
func TestForceUnlock_EndsHolderSession(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	a, b := open(t, loc, ""), open(t, loc, "")
	statetest.MustRead(t, a)
	la, err := a.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(bg, statetest.Changes(0, 2)); err != nil {
		t.Fatal(err)
	}
	err = b.ForceUnlock(bg, "0b6d3a1e-0000-4000-8000-000000000000")
	if err == nil || !strings.Contains(err.Error(), "does not match") || !strings.Contains(err.Error(), la.Info().ID) {
		t.Fatalf("ForceUnlock with a wrong ID: %v, want an error naming the held lock %s", err, la.Info().ID)
	}
	if err := b.ForceUnlock(bg, la.Info().ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	// The lock is free at once.
	lb, err := b.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	defer lb.Unlock()
	// The old holder cannot write any more.
	if err := a.Commit(bg, statetest.Changes(2, 1)); !errors.Is(err, ErrLockLost) || !errors.Is(err, state.ErrLockLost) {
		t.Errorf("Commit by a force-unlocked holder: %v, want ErrLockLost", err)
	} else if n := strings.Count(err.Error(), ErrLockLost.Error()); n != 1 {
		t.Errorf("Commit by a force-unlocked holder: %q says %q %d times, want once", err, ErrLockLost, n)
	}
	if err := la.Unlock(); !errors.Is(err, ErrLockLost) {
		t.Errorf("Unlock by a force-unlocked holder: %v, want ErrLockLost", err)
	}
	if got := statetest.MustRead(t, b); got.Serial != 1 || got.Len() != 2 {
		t.Errorf("state after force-unlock: serial %d, %d messages; want 1, 2", got.Serial, got.Len())
	}
}

// TestForceUnlock_OtherProcess ends a holder in another process.
func TestForceUnlock_OtherProcess(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	holder, info, stdin := startHolder(t, loc, "default")
	b := open(t, loc, "")
	if err := b.ForceUnlock(bg, info.ID); err != nil {
		t.Fatalf("ForceUnlock: %v", err)
	}
	l, err := b.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock after ForceUnlock: %v", err)
	}
	l.Unlock()
	// The holder finds out when it unlocks.
	stdin.Close()
	if err := holder.Wait(); err == nil {
		t.Error("the force-unlocked holder's Unlock succeeded, want it to report the lost lock")
	}
}

// TestLock_StaleRow: a holder row whose advisory lock is free (its holder's
// session ended before it could delete the row) does not block anyone;
// force-unlock with its ID just removes it.
func TestLock_StaleRow(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	b := open(t, loc, "")
	statetest.MustRead(t, b)
	admin := pgtest.Connect(t)
	stale := "11111111-2222-4333-8444-555555555555"
	if _, err := admin.Exec(bg, b.expand(`INSERT INTO {locks} VALUES ('default', $1, 'apply', 'ghost@gone', '0.0.1', now(), 'x', 1)`), stale); err != nil {
		t.Fatal(err)
	}
	if err := b.ForceUnlock(bg, "not-"+stale); err == nil || !strings.Contains(err.Error(), "is not locked") {
		t.Errorf("ForceUnlock of a stale row with another ID: %v, want 'is not locked'", err)
	}
	if err := b.ForceUnlock(bg, stale); err != nil {
		t.Errorf("ForceUnlock of a stale row: %v", err)
	}
	var n int
	admin.QueryRow(bg, b.expand(`SELECT count(*) FROM {locks}`)).Scan(&n)
	if n != 0 {
		t.Errorf("%d lock rows after force-unlocking the stale one, want 0", n)
	}
	if _, err := admin.Exec(bg, b.expand(`INSERT INTO {locks} VALUES ('default', $1, 'apply', 'ghost@gone', '0.0.1', now(), 'x', 1)`), stale); err != nil {
		t.Fatal(err)
	}
	l, err := b.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock over a stale row: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	admin.QueryRow(bg, b.expand(`SELECT count(*) FROM {locks}`)).Scan(&n)
	if n != 0 {
		t.Errorf("%d lock rows after Unlock, want 0", n)
	}
}

// TestLock_Keepalives: the lock's session asks the server to probe its
// client, so that the lock of a vanished machine is released in minutes;
// a URL's own setting wins.
func TestLock_Keepalives(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	for _, tc := range []struct{ loc, want string }{
		{loc, "60"},
		{loc + "&tcp_keepalives_idle=30", "30"},
	} {
		b := open(t, tc.loc, "")
		l, err := b.Lock(bg, state.LockRequest{Operation: "apply"})
		if err != nil {
			t.Fatal(err)
		}
		var idle string
		if err := b.lock.conn.QueryRow(bg, `SHOW tcp_keepalives_idle`).Scan(&idle); err != nil {
			t.Fatal(err)
		}
		if idle != tc.want {
			t.Errorf("%s: the lock session's tcp_keepalives_idle = %s, want %s", tc.loc, idle, tc.want)
		}
		l.Unlock()
	}
}

// TestForceUnlock_NoRightToTerminate: a role that may not end the holder's
// session (another role, not a superuser nor in pg_signal_backend) gets an
// error saying who can, and the lock stays.
func TestForceUnlock_NoRightToTerminate(t *testing.T) {
	schema := pgtest.Schema(t)
	owner := open(t, pgtest.WithSchema(t, pgtest.URL(t), schema), "")
	statetest.MustRead(t, owner)
	admin := pgtest.Connect(t)
	var locs []string
	for _, suffix := range []string{"holder", "other"} {
		loc, name := roleNamed(t, "recall_test_fu_"+suffix)
		for _, q := range []string{
			`GRANT USAGE ON SCHEMA %[1]s TO %[2]s`,
			`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %[1]s TO %[2]s`,
		} {
			if _, err := admin.Exec(bg, fmt.Sprintf(q, pgx.Identifier{schema}.Sanitize(), pgx.Identifier{name}.Sanitize())); err != nil {
				t.Fatal(err)
			}
		}
		locs = append(locs, pgtest.WithSchema(t, loc, schema))
	}
	holder, other := open(t, locs[0], ""), open(t, locs[1], "")
	l, err := holder.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	err = other.ForceUnlock(bg, l.Info().ID)
	if err == nil || !strings.Contains(err.Error(), "pg_signal_backend") || !strings.Contains(err.Error(), "SELECT pg_terminate_backend(") {
		t.Fatalf("ForceUnlock by a role without the right: %v, want an error saying who may end the session", err)
	}
	t.Logf("refused: %v", err)
	if _, err := other.Lock(bg, state.LockRequest{Operation: "apply"}); err == nil {
		t.Error("the lock was released by a refused force-unlock")
	}
	// The holder's own role may.
	if err := open(t, locs[0], "").ForceUnlock(bg, l.Info().ID); err != nil {
		t.Errorf("ForceUnlock by the holder's role: %v", err)
	}
}
