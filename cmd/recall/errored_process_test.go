package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/simulator"
)

// TestApply_ErroredStateIsNeverOverwritten: an apply that cannot save its
// state writes it to recall.state.errored.json; if that file is already
// there (an earlier run's, not pushed yet), the earlier run's answers are
// in it alone, so the new run writes its state to another file and says
// so. Following both recoveries then recovers every answer of both runs:
// the next apply has nothing to send.
func TestApply_ErroredStateIsNeverOverwritten(t *testing.T) {
	work, stateDir := t.TempDir(), t.TempDir()
	a, b := ids('e', 200), ids('f', 200)
	sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 10 * time.Millisecond})
	writeManifest(t, work, group{name: "first", ids: a}, group{name: "second", ids: b})
	statePath := filepath.Join(stateDir, "recall.state.json")

	// Each run: the state is written once (so both runs share its
	// lineage), then its directory becomes unwritable, so that the rest
	// of the run's answers are saved only in the errored file.
	fail := func(target string) string {
		t.Helper()
		makeWritable(t, stateDir)
		before, _ := os.Stat(statePath)
		cmd, _, stderr := startRecall(t, work, url, "apply", "-auto-approve", "-parallelism", "2", "-state", statePath, "-target", target)
		waitFor(t, "a checkpoint of "+target, func() bool {
			fi, err := os.Stat(statePath)
			return err == nil && (before == nil || !os.SameFile(fi, before))
		})
		makeUnwritable(t, stateDir)
		if code := exitCode(t, cmd); code != 1 {
			t.Fatalf("apply -target %s: exit %d, want 1\n%s", target, code, stderr.String())
		}
		msg := stderr.String()
		assertNoToken(t, "stderr", msg)
		m := regexp.MustCompile(`run 'recall state push -state \S+ (\S+)'`).FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("apply -target %s: no recovery command:\n%s", target, msg)
		}
		return m[1]
	}
	first := fail("first")
	second := fail("second")
	makeWritable(t, stateDir)
	if first == second {
		t.Errorf("both runs name %s for their state: the second overwrote the first's", first)
	}
	for _, f := range []string{first, second} {
		if r := runRecall(t, work, url, "state", "push", "-state", statePath, f); r.code != 0 {
			t.Fatalf("state push %s: exit %d\n%s\n%s", f, r.code, r.stdout, r.stderr)
		}
	}
	st := readState(t, statePath)
	var lost []string
	for _, id := range append(a, b...) {
		if _, ok := st.Messages[id]; !ok && sim.Calls(id) > 0 {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d answered messages are in neither the state nor an errored file (e.g. %s)", len(lost), strings.Join(lost[:min(3, len(lost))], ", "))
	}
}
