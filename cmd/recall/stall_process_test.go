package main

// Process tests of apply against a PostgreSQL state that stops answering
// mid-run: a real toxiproxy (internal/stall) between recall and the
// server, whose timeout toxic drops everything without closing anything,
// as a firewall dropping packets or a hung pooler does.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/internal/stall"
	"github.com/recallhq/recall/simulator"
	"github.com/recallhq/recall/state/pg"
)

// waitExit waits up to d for cmd to end and returns its exit code; a
// recall still running after d fails the test (it hangs).
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration, what string) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("recall still running %s after %s: it hangs", what, d)
		return -1
	}
}

// settledInPG counts the messages a workspace holds, read directly (not
// through the proxy), or -1 if it cannot be read.
func settledInPG(t *testing.T, loc, workspace string) int {
	b, err := pg.Open(loc, workspace)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := b.Read(ctx)
	if err != nil {
		return -1
	}
	return s.Len()
}

// cancelledBySim returns the IDs of list the simulator has cancelled.
func cancelledBySim(sim *simulator.Simulator, list []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range list {
		if st, _ := sim.Status(id); st == simulator.StatusCancelled {
			out[id] = true
		}
	}
	return out
}

// stalledApply is a recall apply whose PostgreSQL state stopped answering
// mid-run.
type stalledApply struct {
	loc, dir, url  string
	list           []string
	sim            *simulator.Simulator
	px             *stall.Proxy
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
}

// startStalledApply starts an apply of 6000 messages (IDs made with
// prefix) on workspace ws of a PostgreSQL state reached through a
// toxiproxy, lets it checkpoint, and stalls the proxy once some hundreds
// of answers have come. The simulator answers about 400 a second.
func startStalledApply(t *testing.T, prefix byte, ws, stateTimeout string) *stalledApply {
	t.Helper()
	r := &stalledApply{loc: pgtest.SchemaURL(t), dir: t.TempDir(), list: ids(prefix, 6000)}
	r.px = stall.Start(t, stall.Upstream(t, r.loc))
	r.sim, r.url = startSim(t, simulator.Config{AnyScheduled: true, Latency: 20 * time.Millisecond})
	writeManifest(t, r.dir, group{name: ws, ids: r.list})
	r.cmd = recallCommand(r.dir, r.url, "apply", "-auto-approve", "-parallelism", "8", "-state", r.px.Through(t, r.loc), "-workspace", ws)
	r.cmd.Env = append(r.cmd.Env, envStateTimeout+"="+stateTimeout)
	r.stdout, r.stderr = startCommand(t, r.cmd)
	waitFor(t, "500 answers and a checkpoint", func() bool {
		return r.sim.Stats().Cancelled >= 500 && settledInPG(t, r.loc, ws) > 0
	})
	r.px.Stall(t)
	return r
}

// TestApply_PostgresStalls: the connection to PostgreSQL stalls mid-run.
// The checkpoint that meets the stall fails within RECALL_STATE_TIMEOUT,
// which stops new calls; the calls in flight finish and recall exits 1
// (it does not hang) with recall.state.errored.json holding every message
// the simulator cancelled. Once the network is back, the printed recovery
// (state push) merges it, and a rerun sends only what was never sent.
func TestApply_PostgresStalls(t *testing.T) {
	// About 400 answers a second: the run is far from done when the
	// checkpoint that met the stall gives up, 2s later.
	run := startStalledApply(t, 't', "stall", "2s")
	stalledAt := run.sim.Stats().Requests
	code := waitExit(t, run.cmd, 90*time.Second, "after the stall")
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	msg := run.stderr.String()
	mustContain(t, "stderr", msg, "did not answer within 2s", envStateTimeout, "recall.state.errored.json", "state push", "not yet cancelled")
	stats := run.sim.Stats()
	if stats.Requests >= int64(len(run.list)) || stats.Requests-stalledAt > 2000 {
		t.Errorf("%d calls in all, %d after the stall: the run did not stop sending", stats.Requests, stats.Requests-stalledAt)
	}
	errored := readState(t, filepath.Join(run.dir, erroredStateFile))
	want := cancelledBySim(run.sim, run.list)
	t.Logf("%d calls, %d after the stall; %d cancelled by the simulator, %d in the errored state", stats.Requests, stats.Requests-stalledAt, len(want), len(errored.Messages))
	if len(errored.Messages) != len(want) {
		t.Errorf("errored state holds %d messages, the simulator cancelled %d", len(errored.Messages), len(want))
	}
	for id := range want {
		if m, ok := errored.Messages[id]; !ok || m.Outcome != "cancelled" {
			t.Fatalf("%s, cancelled by the simulator, is not cancelled in the errored state", id)
		}
	}
	if !strings.Contains(run.stdout.String(), "could not be saved") {
		t.Errorf("stdout:\n%s", tail(run.stdout.String()))
	}
	assertNoTokenInDir(t, run.dir)

	// Recovery as printed, once PostgreSQL answers again (directly here:
	// the stalled proxy's connections are gone for good).
	run.px.Resume(t)
	r := runRecall(t, run.dir, run.url, "state", "push", "-state", run.loc, "-workspace", "stall", "-lock-timeout", "1m", erroredStateFile)
	if r.code != 0 || !strings.Contains(r.stdout, "messages") {
		t.Fatalf("state push: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runRecall(t, run.dir, run.url, "apply", "-auto-approve", "-state", run.loc, "-workspace", "stall", "-lock-timeout", "1m")
	if r.code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	for _, id := range run.list {
		if n := run.sim.Calls(id); n != 1 {
			t.Fatalf("%s got %d calls over both runs, want 1", id, n)
		}
	}
}

// TestApply_PostgresStallsSecondInterrupt: with a deadline too long to
// wait for, the first interrupt waits for the stalled save; the second
// writes recall.state.errored.json with every answer received and exits
// within seconds, although PostgreSQL still answers nothing.
func TestApply_PostgresStallsSecondInterrupt(t *testing.T) {
	run := startStalledApply(t, 'u', "stall2", "10m")
	run.cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, "the first interrupt to be taken", func() bool { return strings.Contains(run.stderr.String(), "Interrupt received") })
	// Let the calls in flight finish, so that the save is what waits.
	before := run.sim.Stats().Requests
	time.Sleep(200 * time.Millisecond)
	if after := run.sim.Stats().Requests; after != before {
		t.Logf("%d calls still went out after the first interrupt", after-before)
	}
	run.cmd.Process.Signal(syscall.SIGINT)
	start := time.Now()
	if code := waitExit(t, run.cmd, 20*time.Second, "after the second interrupt"); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	t.Logf("exited %s after the second interrupt", time.Since(start).Round(time.Millisecond))
	msg := run.stderr.String()
	if !strings.Contains(msg, "Second interrupt") || !strings.Contains(msg, erroredStateFile) || !strings.Contains(msg, "stopped at once") {
		t.Errorf("stderr:\n%s", msg)
	}
	errored := readState(t, filepath.Join(run.dir, erroredStateFile))
	want := cancelledBySim(run.sim, run.list)
	if len(errored.Messages) != len(want) || len(want) == 0 {
		t.Errorf("errored state holds %d messages, the simulator cancelled %d", len(errored.Messages), len(want))
	}
	for id := range want {
		if _, ok := errored.Messages[id]; !ok {
			t.Fatalf("%s, cancelled by the simulator, is missing from the errored state", id)
		}
	}
}

// TestApply_SignalsInBackgroundJob: a background job of a non-interactive
// shell starts with SIGINT ignored. recall still stops on it: gracefully
// during the run, and at once while it waits for a lock. A SIGHUP ignored
// on purpose (nohup) stays ignored.
func TestApply_SignalsInBackgroundJob(t *testing.T) {
	dir := t.TempDir()
	list := ids('j', 2000)
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 20 * time.Millisecond})
	writeManifest(t, dir, group{name: "bg", ids: list})
	ignoring := func(sig string, args ...string) (*exec.Cmd, *syncBuffer) {
		// trap '' SIG sets it to SIG_IGN, which exec keeps.
		quoted := make([]string, len(args))
		for i, a := range args {
			quoted[i] = strconv.Quote(a)
		}
		cmd := exec.Command("sh", "-c", "trap '' "+sig+"; exec recall "+strings.Join(quoted, " "))
		cmd.Dir, cmd.Env = dir, recallCommand(dir, url).Env
		_, errb := startCommand(t, cmd)
		return cmd, errb
	}
	first, stderr := ignoring("INT", "apply", "-auto-approve", "-parallelism", "2")
	waitFor(t, "100 calls", func() bool { return sim.Stats().Requests >= 100 })

	// A second apply waiting for the lock, also with SIGINT ignored.
	waiting, _ := ignoring("INT", "apply", "-auto-approve", "-lock-timeout", "5m")
	// Once the shell has exec'd recall, sent until it exits: one that came
	// before recall's handler was installed was rightly ignored.
	execd(t, waiting)
	stopSending := make(chan struct{})
	go func() {
		for {
			waiting.Process.Signal(syscall.SIGINT)
			select {
			case <-stopSending:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	code := waitExit(t, waiting, 20*time.Second, "waiting for the lock after SIGINT")
	close(stopSending)
	if code != 128+int(syscall.SIGINT) {
		t.Errorf("waiting apply: exit code %d, want %d", code, 128+int(syscall.SIGINT))
	}

	// SIGHUP ignored on purpose (nohup) stays ignored.
	nohup, _ := ignoring("HUP", "apply", "-auto-approve", "-lock-timeout", "5m")
	execd(t, nohup)
	time.Sleep(300 * time.Millisecond)
	nohup.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	if nohup.ProcessState != nil || nohup.Process.Signal(syscall.Signal(0)) != nil {
		t.Error("recall started with SIGHUP ignored (nohup) stopped on SIGHUP")
	}
	nohup.Process.Signal(syscall.SIGTERM)
	if code := waitExit(t, nohup, 20*time.Second, "waiting for the lock after SIGTERM"); code != 128+int(syscall.SIGTERM) {
		t.Errorf("nohup apply: exit code %d after SIGTERM, want %d", code, 128+int(syscall.SIGTERM))
	}

	first.Process.Signal(syscall.SIGINT)
	if code := waitExit(t, first, 60*time.Second, "after SIGINT"); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !interruptedRE.MatchString(stderr.String()) {
		t.Errorf("stderr lacks the Interrupted line:\n%s", stderr.String())
	}
	st := readState(t, filepath.Join(dir, "recall.state.json"))
	if n := len(cancelledBySim(sim, list)); len(st.Messages) != n || n == len(list) {
		t.Errorf("%d in state, %d cancelled by the simulator of %d", len(st.Messages), n, len(list))
	}
}

// execd waits until the shell started by cmd has exec'd recall (Linux:
// /proc/PID/cmdline), so that signals reach recall, not the shell.
func execd(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	path := fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("cannot tell when the shell has exec'd recall: %v", err)
	}
	waitFor(t, "the shell to exec recall", func() bool {
		b, err := os.ReadFile(path)
		return err == nil && strings.HasPrefix(string(b), "recall\x00")
	})
}
