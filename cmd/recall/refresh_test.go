package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/simulator"
	"github.com/recallhq/recall/state/local"
)

func TestParseRefreshArgs(t *testing.T) {
	e, _, _ := testEnv(nil, false)
	a, err := parseApplyArgs(e, []string{"-refresh-only", "-auto-approve"})
	if err != nil || !a.refreshOnly || !a.autoApprove {
		t.Fatalf("apply -refresh-only: %+v, %v", a, err)
	}
	if _, err := parseApplyArgs(e, []string{"-refresh-only", "p.plan"}); err == nil || !strings.Contains(err.Error(), "-refresh-only cannot be used with a saved plan") {
		t.Errorf("apply -refresh-only PLANFILE: %v", err)
	}
	p, err := parsePlanArgs(e, []string{"--refresh-only", "-target", "x"})
	if err != nil || !p.refreshOnly || len(p.targets) != 1 {
		t.Fatalf("plan -refresh-only: %+v, %v", p, err)
	}
}

// On a terminal, apply -refresh-only shows what it found and records it
// only after 'yes'; anything else records nothing.
func TestApplyRefresh_Confirm(t *testing.T) {
	const (
		portal = "11111111111111111111111111111111"
		sched  = "33333333333333333333333333333333"
	)
	sim, err := simulator.New(simulator.Config{Token: testToken, Cancelled: []string{portal}, Scheduled: []string{sched}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	defer srv.Close()
	dir := t.TempDir()
	mf := filepath.Join(dir, "recall.yaml")
	if err := os.WriteFile(mf, []byte("version: 1\ncancel:\n  - name: g\n    ids: ["+portal+", "+sched+"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(dir, "s.json")
	vars := map[string]string{"CLICKATELL_TOKEN": testToken, "CLICKATELL_ENDPOINT": srv.URL}
	for _, tc := range []struct {
		answer string
		code   int
		out    []string
		stored int
	}{
		{"no\n", 1, []string{"recall would record 1 message in 1 group:", "~ " + portal + " cancelled: 006", "Do you want to record these statuses? Only 'yes' will be accepted: "}, 0},
		{"yes\n", 0, []string{"Refresh: 1 would be recorded (1 cancelled), 1 still scheduled, 0 unchanged, 0 drifted.", "Refresh complete! Messages: 1 recorded (1 cancelled), 1 still scheduled, 0 unchanged, 0 drifted."}, 1},
	} {
		e, out, errb := testEnv(vars, true)
		e.stdin = strings.NewReader(tc.answer)
		if code := Main(context.Background(), []string{"apply", "-refresh-only", "-f", mf, "-state", sf, "-no-color"}, e); code != tc.code {
			t.Fatalf("answer %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.answer, code, tc.code, out, errb)
		}
		for _, w := range tc.out {
			if !strings.Contains(out.String(), w) {
				t.Errorf("answer %q: stdout lacks %q:\n%s", tc.answer, w, out)
			}
		}
		if tc.code == 1 && !strings.Contains(errb.String(), "Refresh cancelled: nothing was recorded.") {
			t.Errorf("stderr: %s", errb)
		}
		st, err := local.New(sf).Read(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if st.Len() != tc.stored {
			t.Errorf("answer %q: %d messages in state, want %d", tc.answer, st.Len(), tc.stored)
		}
		for _, r := range st.All() {
			if r.Outcome != outcome.Cancelled || r.Status != "006" {
				t.Errorf("recorded %+v", r)
			}
		}
	}
	if st := sim.Stats(); st.Stops != 0 || st.Lookups != 4 {
		t.Errorf("simulator saw %s: want no stops, 4 lookups", st)
	}
}

// TestApplyRefresh_Interrupt: recall as a process, against the simulator:
// an interrupt stops a refresh as it stops apply (no new calls, those in
// flight waited for), what was answered is recorded, and a rerun (which
// asks every listed message again) records the rest; neither sends a
// DELETE.
func TestApplyRefresh_Interrupt(t *testing.T) {
	dir := t.TempDir()
	list := ids('r', 400)
	sim, url := startSim(t, simulator.Config{Latency: 20 * time.Millisecond})
	for _, id := range list {
		if _, err := sim.AddStatus(msgid.MustParse(id), simulator.StatusCancelled); err != nil {
			t.Fatal(err)
		}
	}
	writeManifest(t, dir, group{name: "portal", ids: list})
	cmd, stdout, stderr := startRecall(t, dir, url, "apply", "-refresh-only", "-auto-approve", "-parallelism", "4")
	waitFor(t, "40 calls", func() bool { return sim.Stats().Requests >= 40 })
	cmd.Process.Signal(syscall.SIGINT)
	if code := exitCode(t, cmd); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if !strings.Contains(stdout.String(), "Refresh interrupted!") || !strings.Contains(stderr.String(), "not refreshed; what was answered is recorded. Run apply -refresh-only again to finish.") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", tail(stdout.String()), stderr.String())
	}
	st := readState(t, filepath.Join(dir, "recall.state.json"))
	first := sim.Stats()
	if len(st.Messages) == 0 || len(st.Messages) == len(list) || int(first.Lookups) != len(st.Messages) {
		t.Errorf("%d recorded of %d, the simulator answered %d: want every answer recorded, some left", len(st.Messages), len(list), first.Lookups)
	}
	r := runRecall(t, dir, url, "apply", "-refresh-only", "-auto-approve", "-parallelism", "8")
	if r.code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", r.code, tail(r.stdout), r.stderr)
	}
	if st := readState(t, filepath.Join(dir, "recall.state.json")); len(st.Messages) != len(list) {
		t.Errorf("after the rerun %d recorded, want %d", len(st.Messages), len(list))
	}
	if s := sim.Stats(); s.Stops != 0 {
		t.Errorf("the simulator saw %d DELETEs", s.Stops)
	}
	assertNoToken(t, "output", stdout.String()+stderr.String()+r.stdout+r.stderr)
}
