package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recallhq/recall/simulator"
	"github.com/recallhq/recall/state"
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
		if len(st.Messages) != tc.stored {
			t.Errorf("answer %q: %d messages in state, want %d", tc.answer, len(st.Messages), tc.stored)
		}
		for _, r := range st.Messages {
			if r.Outcome != state.Cancelled || r.Status != "006" {
				t.Errorf("recorded %+v", r)
			}
		}
	}
	if st := sim.Stats(); st.Stops != 0 || st.Lookups != 4 {
		t.Errorf("simulator saw %s: want no stops, 4 lookups", st)
	}
}
