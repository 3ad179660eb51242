//go:build unix

package local

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

// Helper processes: the test binary re-executed with helperEnv set runs
// one of these instead of the tests.
const (
	helperEnv  = "RECALL_LOCAL_TEST_HELPER"
	helperPath = "RECALL_LOCAL_TEST_PATH"
)

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "":
		os.Exit(m.Run())
	case "writer":
		helperWriter(os.Getenv(helperPath))
	case "hold-lock":
		helperHoldLock(os.Getenv(helperPath))
	case "wait-lock":
		helperWaitLock(os.Getenv(helperPath))
	}
	fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv(helperEnv))
	os.Exit(2)
}

func helperFail(err error) {
	fmt.Fprintln(os.Stderr, "helper:", err)
	os.Exit(3)
}

// writerBatch is how many messages each writer commit adds.
const writerBatch = 400

// writerChanges is the commit that takes the writer's state from serial
// s-1 to s: it adds a writerBatch of messages, rewrites the first one, and
// removes one message of the previous writerBatch.
func writerChanges(s int) []state.Change {
	cs := statetest.Changes(writerBatch*(s-1), writerBatch)
	r := statetest.Record(0)
	r.Description = fmt.Sprintf("rewritten by commit %d", s)
	cs = append(cs, state.Change{ID: statetest.ID(0), Record: &r})
	if s > 1 {
		cs = append(cs, state.Change{ID: statetest.ID(writerBatch*(s-2) + 7)})
	}
	return cs
}

// checkWriterState checks that st is exactly what serial st.Serial of the
// writer's sequence holds.
func checkWriterState(st *state.State) error {
	s := int(st.Serial)
	if s == 0 {
		if st.Len() != 0 {
			return fmt.Errorf("serial 0 with %d messages", st.Len())
		}
		return nil
	}
	if want := writerBatch*s - (s - 1); st.Len() != want {
		return fmt.Errorf("serial %d has %d messages, want %d", s, st.Len(), want)
	}
	for i := 0; i < writerBatch*s; i++ {
		r, ok := st.Lookup(statetest.ID(i))
		removed := i%writerBatch == 7 && i/writerBatch < s-1
		switch {
		case removed && ok:
			return fmt.Errorf("serial %d: message %d should have been removed", s, i)
		case removed:
		case !ok:
			return fmt.Errorf("serial %d: message %d missing", s, i)
		case i == 0:
			if want := fmt.Sprintf("rewritten by commit %d", s); r.Description != want {
				return fmt.Errorf("serial %d: first message says %q, want %q", s, r.Description, want)
			}
		case r != statetest.Record(i):
			return fmt.Errorf("serial %d: message %d is %+v", s, i, r)
		}
	}
	return nil
}

// helperWriter commits to the state at path until it is killed.
func helperWriter(path string) {
	b := New(path)
	st, err := b.Read(context.Background())
	if err != nil {
		helperFail(err)
	}
	for {
		if err := b.Commit(context.Background(), writerChanges(int(st.Serial)+1)); err != nil {
			helperFail(err)
		}
	}
}

// TestCommit_KilledWriter kills a process that commits in a loop with
// SIGKILL at random instants, and checks each time that the state and its
// backup read as whole versions of the writer's sequence.
func TestCommit_KilledWriter(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	path := statePath(t)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var last uint64
	for i := 0; i < 12; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"=writer", helperPath+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("writer did not die by SIGKILL: %v\n%s", err, stderr.String())
		}

		st, err := New(path).Read(ctx)
		if err != nil {
			t.Fatalf("kill %d: state does not read: %v", i, err)
		}
		if err := checkWriterState(st); err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		if st.Serial < last {
			t.Fatalf("kill %d: serial went back from %d to %d", i, last, st.Serial)
		}
		last = st.Serial
		if data, err := os.ReadFile(path + BackupSuffix); err == nil {
			bak, err := Decode(strings.NewReader(string(data)), "backup")
			if err != nil {
				t.Fatalf("kill %d: backup does not read: %v", i, err)
			}
			if err := checkWriterState(bak); err != nil {
				t.Fatalf("kill %d: backup: %v", i, err)
			}
			if bak.Serial != st.Serial && bak.Serial+1 != st.Serial {
				t.Fatalf("kill %d: backup has serial %d, state %d", i, bak.Serial, st.Serial)
			}
		} else if st.Serial > 1 {
			t.Fatalf("kill %d: no backup at serial %d: %v", i, st.Serial, err)
		}
	}
	if last < 5 {
		t.Fatalf("the writers made only %d commits in all; the test proves little", last)
	}
	t.Logf("%d commits in all", last)
}

// helperHoldLock takes the lock, prints its LockInfo and waits to be
// killed.
func helperHoldLock(path string) {
	l, err := New(path).Lock(context.Background(), state.LockRequest{Operation: "apply"})
	if err != nil {
		helperFail(err)
	}
	json.NewEncoder(os.Stdout).Encode(l.Info())
	select {}
}

// helperWaitLock waits up to a minute for the lock, then prints its info
// and releases it.
func helperWaitLock(path string) {
	fmt.Println("waiting")
	l, err := state.LockWithContext(context.Background(), New(path), state.LockRequest{Operation: "state rm", Timeout: time.Minute})
	if err != nil {
		helperFail(err)
	}
	json.NewEncoder(os.Stdout).Encode(l.Info())
	if err := l.Unlock(); err != nil {
		helperFail(err)
	}
	os.Exit(0)
}

// startHelper starts a helper process and returns it with its stdout.
func startHelper(t *testing.T, mode, path string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperPath+"="+path)
	cmd.Stderr = os.Stderr
	return cmd, testkit.Start(t, cmd)
}

func readInfoLine(t *testing.T, r *bufio.Reader) state.LockInfo {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading from the helper: %v", err)
	}
	var info state.LockInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("helper printed %q: %v", line, err)
	}
	return info
}

// TestLock_OtherProcess: a lock held by another process refuses this one
// with the holder named; killing the holder releases it at once.
func TestLock_OtherProcess(t *testing.T) {
	path := statePath(t)
	cmd, out := startHelper(t, "hold-lock", path)
	holder := readInfoLine(t, out)
	if holder.Operation != "apply" || holder.ID == "" || holder.Who == "" || holder.Path != path {
		t.Fatalf("helper's LockInfo: %+v", holder)
	}

	b := New(path)
	_, err := b.Lock(ctx, state.LockRequest{Operation: "apply"})
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("Lock while another process holds it: %v, want a *state.LockError", err)
	}
	if le.Info != holder {
		t.Errorf("LockError names %+v, want the holder %+v", le.Info, holder)
	}
	for _, want := range []string{holder.ID, holder.Who, `"apply"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	// Waiting does not help while it lives.
	_, err = state.LockWithContext(ctx, b, state.LockRequest{Operation: "apply", Timeout: 300 * time.Millisecond})
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "gave up after waiting 300ms") {
		t.Errorf("Lock with a timeout: %v", err)
	}
	// A live holder's lock cannot be forced, with the right ID or not.
	for _, id := range []string{holder.ID, "wrong-id"} {
		err := b.ForceUnlock(ctx, id)
		if !errors.As(err, &le) || le.Info.ID != holder.ID {
			t.Errorf("ForceUnlock(%q) of a live lock: %v, want a *state.LockError naming the holder", id, err)
		}
	}

	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The holder's lock file is still there, but the OS released the lock.
	if data, err := os.ReadFile(b.LockPath()); err != nil || !strings.Contains(string(data), holder.ID) {
		t.Fatalf("stale lock file: %q, %v", data, err)
	}
	err = b.ForceUnlock(ctx, holder.ID)
	if err == nil || !strings.Contains(err.Error(), "has exited") {
		t.Errorf("ForceUnlock after the holder died: %v, want an error saying it exited", err)
	}
	l, err := b.Lock(ctx, state.LockRequest{Operation: "state rm"})
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	var onDisk state.LockInfo
	if data, err := os.ReadFile(b.LockPath()); err != nil || json.Unmarshal(data, &onDisk) != nil || onDisk != l.Info() {
		t.Errorf("lock file holds %q (%v), want the new holder's info", data, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(b.LockPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Unlock left the lock file (%v)", err)
	}
}

// TestLock_OtherProcessWaits: a process waiting for the lock gets it when
// this one unlocks.
func TestLock_OtherProcessWaits(t *testing.T) {
	path := statePath(t)
	l, err := New(path).Lock(ctx, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	cmd, out := startHelper(t, "wait-lock", path)
	if line, err := out.ReadString('\n'); err != nil || line != "waiting\n" {
		t.Fatalf("helper: %q, %v", line, err)
	}
	time.Sleep(200 * time.Millisecond)
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	info := readInfoLine(t, out)
	if info.Operation != "state rm" || info.ID == l.Info().ID {
		t.Errorf("waiter's lock: %+v", info)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("waiter: %v", err)
	}
}

// TestLock_MutualExclusion hammers the lock from several Backends at once
// (each Unlock unlinks the file others may have open) and checks that no
// two ever hold it together.
func TestLock_MutualExclusion(t *testing.T) {
	path := statePath(t)
	var holders, most atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			b := New(path)
			for i := 0; i < 40; i++ {
				l, err := state.LockWithContext(ctx, b, state.LockRequest{Operation: "apply", Timeout: time.Minute})
				if err != nil {
					errs <- err
					return
				}
				if n := holders.Add(1); n > 1 {
					most.Store(n)
				}
				time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
				holders.Add(-1)
				if err := l.Unlock(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m := most.Load(); m != 0 {
		t.Errorf("%d holders at once", m)
	}
}

// TestLock_UnlinkRace: between this process opening the lock file and
// locking it, the holder unlocks (removing the file) and a third process
// takes the lock on a new file. Locking the old, unlinked file must not
// count as holding the lock.
func TestLock_UnlinkRace(t *testing.T) {
	path := statePath(t)
	a, b, c := New(path), New(path), New(path)
	la, err := a.Lock(ctx, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	var lc state.Lock
	lockOpenedHook = func() {
		lockOpenedHook = nil
		if err := la.Unlock(); err != nil {
			t.Error(err)
		}
		if lc, err = c.Lock(ctx, state.LockRequest{Operation: "state rm"}); err != nil {
			t.Error(err)
		}
	}
	defer func() { lockOpenedHook = nil }()
	lb, err := b.Lock(ctx, state.LockRequest{Operation: "apply"})
	if err == nil {
		lb.Unlock()
		t.Fatal("Lock succeeded on the unlinked lock file while another process holds the lock")
	}
	var le *state.LockError
	if !errors.As(err, &le) || lc == nil || le.Info.ID != lc.Info().ID {
		t.Errorf("Lock: %v, want a *state.LockError naming the third process", err)
	}
	if lc != nil {
		lc.Unlock()
	}
}

// TestLock_UnreadableInfo: a lock whose file holds no LockInfo (a holder
// from before the info was written, or a foreign file) is still refused.
func TestLock_UnreadableInfo(t *testing.T) {
	path := statePath(t)
	f, err := os.OpenFile(path+LockSuffix, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := tryLockFile(f); err != nil {
		t.Fatal(err)
	}
	_, err = New(path).Lock(ctx, state.LockRequest{Operation: "apply"})
	var le *state.LockError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "could not be read") {
		t.Errorf("Lock: %v", err)
	}
	io.WriteString(f, "not json")
	_, err = New(path).Lock(ctx, state.LockRequest{Operation: "apply"})
	if !errors.As(err, &le) {
		t.Errorf("Lock: %v", err)
	}
}
