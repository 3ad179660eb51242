package main

// End-to-end tests of apply: recall as a real process, against the real
// simulator on loopback, with the real local state file.

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/simulator"
)

// waitFor polls cond until it holds; it fails the test after a generous
// minute (a hang, not a speed check).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// startRecall starts recall in the background with its output captured.
func startRecall(t *testing.T, dir, endpoint string, args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	t.Helper()
	cmd := recallCommand(dir, endpoint, args...)
	out, errb := startCommand(t, cmd)
	return cmd, out, errb
}

// startCommand starts cmd with its output captured, and kills it when the
// test ends if it is still running.
func startCommand(t *testing.T, cmd *exec.Cmd) (stdout, stderr *syncBuffer) {
	t.Helper()
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return &out, &errb
}

// exitCode waits for cmd and returns its exit code.
func exitCode(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	if err == nil {
		return 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// syncBuffer is the shared testkit one, under the name these tests use.
type syncBuffer = testkit.SyncBuffer

// TestApply_Faults: through 503s, dropped connections (before and after
// the API acted) and throttling, every scheduled message ends cancelled,
// delivered ones too_late, unknown ones not_found; no message gets more
// than 1+max-retries calls; never more than -parallelism calls are in
// flight; and a rerun sends nothing.
func TestApply_Faults(t *testing.T) {
	dir := t.TempDir()
	early, late, none := ids('a', 900), ids('b', 900), ids('c', 200)
	delivered, unknown := ids('d', 100), ids('e', 50)
	scheduled := append(append(append([]string{}, early...), late...), none...)
	sim, url := startSim(t, simulator.Config{
		Scheduled:     scheduled,
		Delivered:     delivered,
		FailRate:      0.03,
		DropRate:      0.01,
		DropAfterRate: 0.01,
		Rate:          600,
		Latency:       5 * time.Millisecond,
		Jitter:        5 * time.Millisecond,
	})
	writeManifest(t, dir,
		group{name: "late", scheduledAt: "2099-12-01T10:00:00Z", ids: append(append([]string{}, late...), unknown...)},
		group{name: "early", scheduledAt: "2099-11-28T09:00:00Z", ids: append(append([]string{}, early...), delivered...)},
		group{name: "unscheduled", ids: none},
	)
	const parallelism, maxRetries = 8, 5
	r := runRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", strconv.Itoa(parallelism), "-max-retries", strconv.Itoa(maxRetries))
	stats := sim.Stats()
	t.Logf("simulator: %s", stats)
	if r.code != 1 {
		t.Errorf("exit code %d, want 1 (messages too late and not found)", r.code)
	}
	want := fmt.Sprintf("Apply complete! Messages: %s cancelled, %s too late, %s not found, 0 failed.", commas(len(scheduled)), commas(len(delivered)), commas(len(unknown)))
	if !strings.Contains(r.stdout, want+"\n") {
		t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", want, tail(r.stdout), r.stderr)
	}
	st := readState(t, filepath.Join(dir, "recall.state.json"))
	check := func(list []string, outcome, group string) {
		t.Helper()
		bad := 0
		for _, id := range list {
			if m, ok := st.Messages[id]; !ok || m.Outcome != outcome || m.Group != group {
				if bad++; bad <= 3 {
					t.Errorf("state for %s = %+v (present %v), want %s in group %s", id, m, ok, outcome, group)
				}
			}
		}
	}
	check(early, "cancelled", "early")
	check(late, "cancelled", "late")
	check(none, "cancelled", "unscheduled")
	check(delivered, "too_late", "early")
	check(unknown, "not_found", "late")
	for _, list := range [][]string{scheduled, delivered, unknown} {
		for _, id := range list {
			if n := sim.Calls(id); n < 1 || n > 1+maxRetries {
				t.Errorf("%s got %d calls, want 1 to %d", id, n, 1+maxRetries)
			}
		}
	}
	if stats.MaxInFlight > parallelism {
		t.Errorf("%d calls in flight at once, want at most %d", stats.MaxInFlight, parallelism)
	}
	if stats.Throttled+stats.Failed+stats.Dropped == 0 {
		t.Errorf("no faults were injected (%s): the test proves nothing", stats)
	}

	r = runRecall(t, dir, url, "apply", "-auto-approve")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("rerun: exit %d, stdout:\n%s", r.code, r.stdout)
	}
	if after := sim.Stats().Requests; after != stats.Requests {
		t.Errorf("rerun sent %d calls, want none", after-stats.Requests)
	}
	assertNoTokenInDir(t, dir)
}

// TestApply_KillAnyInstant kills apply with SIGKILL at random instants: the
// state and its backup always parse, and a rerun finishes the job.
func TestApply_KillAnyInstant(t *testing.T) {
	dir := t.TempDir()
	list := ids('k', 4000)
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 10 * time.Millisecond})
	writeManifest(t, dir, group{name: "kill", ids: list})
	statePath := filepath.Join(dir, "recall.state.json")
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d", seed)
	kills := 0
	for i := 0; i < 8; i++ {
		before := sim.Stats().Requests
		cmd, _, _ := startRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", "8")
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		// Kill at a random instant after it has started sending, so that
		// checkpoints are being written.
		waitFor(t, "the first call", func() bool {
			select {
			case <-exited:
				return true
			default:
				return sim.Stats().Requests > before
			}
		})
		select {
		case <-exited:
		case <-time.After(time.Duration(rng.IntN(3000)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			kills++
		}
		st := readState(t, statePath)
		backup := readState(t, statePath+".backup")
		t.Logf("run %d: %d settled in state (serial %d), backup serial %d", i, len(st.Messages), st.Serial, backup.Serial)
		if backup.Serial > st.Serial || (backup.Lineage != "" && backup.Lineage != st.Lineage) {
			t.Errorf("backup (lineage %s serial %d) does not precede the state (lineage %s serial %d)", backup.Lineage, backup.Serial, st.Lineage, st.Serial)
		}
		if len(st.Messages) == len(list) {
			break
		}
	}
	if kills == 0 {
		t.Fatal("every run finished before it could be killed: the test proves nothing")
	}
	r := runRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", "8")
	if r.code != 0 {
		t.Fatalf("final run: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, tail(r.stdout), r.stderr)
	}
	st := readState(t, statePath)
	if got := st.outcomes()["cancelled"]; got != len(list) || len(st.Messages) != len(list) {
		t.Errorf("after the final run: %v in state, want %d cancelled", st.outcomes(), len(list))
	}
	for _, id := range list {
		if sim.Calls(id) < 1 {
			t.Fatalf("%s was never sent", id)
		}
	}
	r = runRecall(t, dir, url, "apply", "-auto-approve")
	if !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("rerun after completion: %s", r.stdout)
	}
	assertNoTokenInDir(t, dir)
}

var interruptedRE = regexp.MustCompile(`(?m)^Interrupted: ([0-9,]+) messages? not yet cancelled; run apply again to finish\.$`)

// TestApply_Interrupt: the first SIGINT, SIGTERM or SIGHUP stops new calls, waits
// for those in flight, saves every answer, and exits 1 saying how many
// messages remain; the rerun finishes without sending any message twice.
func TestApply_Interrupt(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			list := ids('i', 2000)
			sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 20 * time.Millisecond})
			writeManifest(t, dir, group{name: "sig", ids: list})
			cmd, stdout, stderr := startRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", "4")
			waitFor(t, "100 calls", func() bool { return sim.Stats().Requests >= 100 })
			cmd.Process.Signal(sig)
			if code := exitCode(t, cmd); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			m := interruptedRE.FindStringSubmatch(stderr.String())
			if m == nil {
				t.Fatalf("stderr lacks the Interrupted line:\n%s", stderr.String())
			}
			remaining, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			st := readState(t, filepath.Join(dir, "recall.state.json"))
			stats := sim.Stats()
			if len(st.Messages)+remaining != len(list) || remaining == 0 {
				t.Errorf("%d in state + %d remaining, want %d in all, some remaining", len(st.Messages), remaining, len(list))
			}
			if stats.MaxInFlight > 4 {
				t.Errorf("%d calls in flight at once, want at most 4", stats.MaxInFlight)
			}
			// Every call the API acted on was waited for and recorded.
			if int(stats.Cancelled) != len(st.Messages) {
				t.Errorf("the simulator cancelled %d messages, the state records %d: calls in flight were lost", stats.Cancelled, len(st.Messages))
			}
			if !strings.Contains(stdout.String(), "Apply interrupted!") {
				t.Errorf("stdout lacks the summary:\n%s", tail(stdout.String()))
			}
			r := runRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", "8")
			if r.code != 0 {
				t.Fatalf("rerun: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
			}
			if want := fmt.Sprintf("Apply complete! Messages: %s cancelled,", commas(remaining)); !strings.Contains(r.stdout, want) {
				t.Errorf("rerun stdout lacks %q:\n%s", want, tail(r.stdout))
			}
			for _, id := range list {
				if n := sim.Calls(id); n != 1 {
					t.Fatalf("%s got %d calls over both runs, want 1", id, n)
				}
			}
			assertNoToken(t, "output", stdout.String()+stderr.String())
		})
	}
}

// TestApply_SecondInterrupt: a second signal abandons the calls in flight
// (here, calls the API holds for a minute) and still saves the state.
func TestApply_SecondInterrupt(t *testing.T) {
	dir := t.TempDir()
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: time.Minute})
	writeManifest(t, dir, group{name: "slow", ids: ids('s', 50)})
	cmd, _, stderr := startRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", "4")
	waitFor(t, "4 calls in flight", func() bool { return sim.Stats().Requests >= 4 })
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, "the first interrupt to be taken", func() bool { return strings.Contains(stderr.String(), "Interrupt received") })
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !interruptedRE.MatchString(stderr.String()) || !strings.Contains(stderr.String(), "50 messages not yet cancelled") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
	waitFor(t, "the simulator to see the calls abandoned", func() bool { return sim.Stats().Abandoned == 4 })
}

// TestApply_Locked: a second apply on the same state is refused, naming
// the holder; with -lock-timeout it waits for the first to finish.
func TestApply_Locked(t *testing.T) {
	dir := t.TempDir()
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 20 * time.Millisecond})
	writeManifest(t, dir, group{name: "lock", ids: ids('l', 400)})
	first, _, _ := startRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", "2")
	waitFor(t, "the first apply to send", func() bool { return sim.Stats().Requests > 0 })

	r := runRecall(t, dir, url, "apply", "-auto-approve")
	if r.code != 1 || !strings.Contains(r.stderr, "state is locked by") || !strings.Contains(r.stderr, `operation "apply"`) || !strings.Contains(r.stderr, "-lock-timeout") {
		t.Errorf("second apply: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "Apply complete") {
		t.Errorf("second apply ran:\n%s", r.stdout)
	}

	// Waiting: by the time it gets the lock, everything is settled.
	r = runRecall(t, dir, url, "apply", "-auto-approve", "-lock-timeout", "2m")
	if code := exitCode(t, first); code != 0 {
		t.Errorf("first apply: exit %d", code)
	}
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("waiting apply: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if got := sim.Stats().Requests; got != 400 {
		t.Errorf("%d calls for 400 messages", got)
	}
}

// TestApply_RevokedToken: a token revoked mid-run stops the run with one
// error, not one per message, and no calls beyond those in flight.
func TestApply_RevokedToken(t *testing.T) {
	const parallelism = 8
	dir := t.TempDir()
	list := ids('r', 5000)
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: time.Millisecond})
	writeManifest(t, dir, group{name: "revoke", ids: list})
	cmd, stdout, stderr := startRecall(t, dir, url, "apply", "-auto-approve", "-parallelism", strconv.Itoa(parallelism))
	waitFor(t, "300 calls", func() bool { return sim.Stats().Requests >= 300 })
	sim.SetToken("rotated-token")
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	stats := sim.Stats()
	if stats.Unauthorized < 1 || stats.Unauthorized > parallelism {
		t.Errorf("%d calls answered 401, want 1 to %d (those in flight when the first 401 came)", stats.Unauthorized, parallelism)
	}
	errLines := 0
	sc := bufio.NewScanner(strings.NewReader(stderr.String()))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "Error:") {
			errLines++
		}
	}
	if errLines != 1 || !strings.Contains(stderr.String(), "Clickatell refused the call") || !strings.Contains(stderr.String(), "CLICKATELL_TOKEN") {
		t.Errorf("want exactly one error naming the token; stderr:\n%s", stderr.String())
	}
	st := readState(t, filepath.Join(dir, "recall.state.json"))
	if len(st.Messages) == 0 || int64(len(st.Messages)) > stats.Cancelled {
		t.Errorf("%d in state, %d cancelled by the simulator", len(st.Messages), stats.Cancelled)
	}
	if !strings.Contains(stdout.String(), "Apply stopped!") {
		t.Errorf("stdout:\n%s", tail(stdout.String()))
	}

	// With the new token in place, a rerun finishes.
	sim.SetToken(testToken)
	r := runRecall(t, dir, url, "apply", "-auto-approve")
	if r.code != 0 {
		t.Errorf("rerun: exit %d\n%s", r.code, r.stderr)
	}
	if st := readState(t, filepath.Join(dir, "recall.state.json")); st.outcomes()["cancelled"] != len(list) {
		t.Errorf("after rerun: %v", st.outcomes())
	}
}

// makeUnwritable stops files being created in dir: chmod for ordinary
// users, the immutable attribute for root (whom permissions do not stop).
func makeUnwritable(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		return
	}
	if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s unwritable as root (chattr +i: %v: %s)", dir, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
}

func makeWritable(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		os.Chmod(dir, 0o755)
		return
	}
	if out, err := exec.Command("chattr", "-i", dir).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i: %v: %s", err, out)
	}
}

// TestApply_UnwritableState: when the state cannot be written, the
// checkpoint that finds out stops new calls (answers that cannot be saved
// must not pile up); after the calls in flight, the whole state goes to
// recall.state.errored.json in the working directory, and the error says
// how to recover; following it works.
func TestApply_UnwritableState(t *testing.T) {
	work, stateDir := t.TempDir(), t.TempDir()
	list := ids('w', 800)
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 5 * time.Millisecond})
	writeManifest(t, work, group{name: "disk", ids: list})
	statePath := filepath.Join(stateDir, "recall.state.json")
	cmd, stdout, stderr := startRecall(t, work, url, "apply", "-auto-approve", "-parallelism", "4", "-state", statePath)
	waitFor(t, "the first call", func() bool { return sim.Stats().Requests > 0 })
	makeUnwritable(t, stateDir)
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	msg := stderr.String()
	for _, want := range []string{"Could not write a state checkpoint, so no new calls are sent", "failed to save state to " + statePath,
		"The run stopped there, with no further calls", "recall state push -state " + statePath + " recall.state.errored.json", "it merges those messages into the state"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
	errored := readState(t, filepath.Join(work, "recall.state.errored.json"))
	answered := int(sim.Stats().Cancelled)
	if got := errored.outcomes()["cancelled"]; got != answered || answered == len(list) {
		t.Errorf("errored state holds %v; the simulator cancelled %d of %d (want all of those, not all messages)", errored.outcomes(), answered, len(list))
	}
	// Not "Apply complete!" above an error saying the state is lost, nor
	// "finished": the run stopped at the failed checkpoint.
	if want := fmt.Sprintf("\nApply stopped, and the state could not be saved! Messages: %s cancelled, 0 too late, 0 not found, 0 failed.\n", commas(answered)); !strings.Contains(stdout.String(), want) || strings.Contains(stdout.String(), "Apply complete!") {
		t.Errorf("stdout lacks %q:\n%s", want, stdout.String())
	}
	if st := readState(t, statePath); st.Lineage != "" && st.Lineage != errored.Lineage {
		t.Errorf("errored state lineage %s, state's %s", errored.Lineage, st.Lineage)
	}
	assertNoToken(t, "output", stdout.String()+msg)
	assertNoTokenInDir(t, work)

	// Recover as told: push it over the state, then apply sends nothing.
	makeWritable(t, stateDir)
	if r := runRecall(t, work, url, "state", "push", "-state", statePath, "recall.state.errored.json"); r.code != 0 {
		t.Fatalf("state push: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r := runRecall(t, work, url, "apply", "-auto-approve", "-state", statePath)
	if want := fmt.Sprintf("Apply complete! Messages: %s cancelled,", commas(len(list)-answered)); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("after recovery: exit %d, want %q\n%s\n%s", r.code, want, tail(r.stdout), r.stderr)
	}
	for _, id := range list {
		if n := sim.Calls(id); n != 1 {
			t.Fatalf("%s got %d calls over both runs, want 1", id, n)
		}
	}
}

// TestApply_XMLEndToEnd: with -api-format xml every call asks for XML,
// and the XML answers settle every kind of message.
func TestApply_XMLEndToEnd(t *testing.T) {
	dir := t.TempDir()
	scheduled, delivered, unknown := ids('x', 20), ids('y', 5), ids('z', 3)
	sim, err := simulator.New(simulator.Config{Token: testToken, Scheduled: scheduled, Delivered: delivered})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	accept := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		accept[r.Header.Get("Accept")]++
		mu.Unlock()
		sim.ServeHTTP(w, r)
	}))
	defer srv.Close()
	writeManifest(t, dir, group{name: "xml", ids: append(append(append([]string{}, scheduled...), delivered...), unknown...)})
	r := runRecall(t, dir, srv.URL, "apply", "-auto-approve", "-api-format", "xml")
	if !strings.Contains(r.stdout, "Apply complete! Messages: 20 cancelled, 5 too late, 3 not found, 0 failed.") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	if len(accept) != 1 || accept["application/xml"] != 28 {
		t.Errorf("Accept headers seen: %v, want application/xml on all 28 calls", accept)
	}
}

// tail returns the last lines of s, for failure messages.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	return strings.Join(lines, "\n")
}

// TestApply_PostgresState: apply on PostgreSQL state: a second apply on
// the same workspace is refused naming the holder; kill -9 of the holder
// frees the lock; the next apply finishes the job, and a rerun sends
// nothing.
func TestApply_PostgresState(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	dir := t.TempDir()
	list := ids('g', 400)
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 20 * time.Millisecond})
	writeManifest(t, dir, group{name: "pg", ids: list})
	args := []string{"apply", "-auto-approve", "-state", loc, "-workspace", "apply-test"}

	first, _, _ := startRecall(t, dir, url, append(args, "-parallelism", "2")...)
	waitFor(t, "the first apply to send", func() bool { return sim.Stats().Requests > 0 })
	r := runRecall(t, dir, url, args...)
	if r.code != 1 || !strings.Contains(r.stderr, "state is locked by") || !strings.Contains(r.stderr, `operation "apply"`) {
		t.Errorf("second apply: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	// Let a checkpoint or two land, then kill the holder.
	waitFor(t, "150 calls", func() bool { return sim.Stats().Requests >= 150 })
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()

	r = runRecall(t, dir, url, append(args, "-lock-timeout", "1m")...)
	if r.code != 0 {
		t.Fatalf("apply after the kill: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	m := regexp.MustCompile(`Apply complete! Messages: (\d+) cancelled, 0 too late, 0 not found, 0 failed\.`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("stdout:\n%s", tail(r.stdout))
	}
	if n, _ := strconv.Atoi(m[1]); n >= len(list) {
		t.Errorf("the run after the kill cancelled %d of %d: nothing the killed run settled was saved", n, len(list))
	}
	r = runRecall(t, dir, url, args...)
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Errorf("rerun: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, id := range list {
		if sim.Calls(id) < 1 {
			t.Fatalf("%s never sent", id)
		}
	}
}
