package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state/local"
)

// testEnv is an env with buffers for output and the given variables.
func testEnv(vars map[string]string, tty bool) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdin:     strings.NewReader(""),
		stdout:    &out,
		stderr:    &errb,
		getenv:    func(k string) string { return vars[k] },
		stdoutTTY: tty,
		stdinTTY:  tty,
		now:       func() time.Time { return viewNow },
	}, &out, &errb
}

func TestParsePlanArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    planArgs
		wantErr string
	}{
		{name: "defaults", args: nil, want: planArgs{commonFlags: commonFlags{state: "recall.state.json", workspace: "default"}, outputFlags: outputFlags{format: "human"}, input: true}},
		{
			name: "everything",
			args: []string{"-f", "a.yaml", "--f=dir", "-state", "s.json", "-out=p.json", "-format", "markdown", "-detailed-exitcode", "-target", "x", "--target", "y", "-no-color", "-workspace", "w"},
			want: planArgs{
				commonFlags:      commonFlags{files: stringsFlag{"a.yaml", "dir"}, state: "s.json", workspace: "w", noColor: true, stateFrom: "-state", workspaceFrom: "-workspace"},
				out:              "p.json",
				outputFlags:      outputFlags{format: "markdown"},
				detailedExitcode: true,
				targets:          stringsFlag{"x", "y"},
				input:            true,
			},
		},
		{name: "bad format", args: []string{"-format", "xml"}, wantErr: `plan: -format: "xml" is not one of human, json, markdown`},
		{name: "unknown flag", args: []string{"-auto-approve"}, wantErr: "plan: -auto-approve is not a flag of recall plan: plan changes nothing and never asks; -auto-approve is apply's"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: "plan: flag provided but not defined: -nope; run 'recall plan -h' for usage"},
		{name: "positional", args: []string{"recall.yaml"}, wantErr: `unexpected argument "recall.yaml"; to read a manifest, use -f recall.yaml`},
		{name: "missing value", args: []string{"-out"}, wantErr: "flag needs an argument: -out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := testEnv(nil, false)
			got, err := parsePlanArgs(e, tt.args)
			if parseFailed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, *got, cmp.AllowUnexported(planArgs{}, commonFlags{}, outputFlags{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestUseColor(t *testing.T) {
	tests := []struct {
		name    string
		tty     bool
		noColor bool
		vars    map[string]string
		want    bool
	}{
		{"terminal", true, false, nil, true},
		{"not a terminal", false, false, nil, false},
		{"NO_COLOR", true, false, map[string]string{"NO_COLOR": "1"}, false},
		{"-no-color", true, true, nil, false},
		{"TERM=dumb", true, false, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := testEnv(tt.vars, tt.tty)
			cf := commonFlags{noColor: tt.noColor}
			if got := cf.useColor(e); got != tt.want {
				t.Errorf("useColor = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPlanColor runs plan in-process with stdout on a (pretend) terminal:
// colour then, and never with NO_COLOR or -no-color.
func TestPlanColor(t *testing.T) {
	dir := t.TempDir()
	manifestPath := filepath.Join(dir, "recall.yaml")
	os.WriteFile(manifestPath, []byte("version: 1\ncancel:\n  - name: g\n    scheduled_at: 2001-01-01T00:00:00Z\n    ids: [360586640fe9846954897dffe6c13dfc]\n"), 0o644)
	statePath := filepath.Join(dir, "s.json")
	tests := []struct {
		name  string
		vars  map[string]string
		extra []string
		want  bool
	}{
		{"terminal", nil, nil, true},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, nil, false},
		{"-no-color", nil, []string{"-no-color"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, out, errb := testEnv(tt.vars, true)
			args := append([]string{"plan", "-f", manifestPath, "-state", statePath}, tt.extra...)
			if code := Main(context.Background(), args, e); code != 0 {
				t.Fatalf("exit %d: %s", code, errb)
			}
			for name, b := range map[string]*bytes.Buffer{"stdout": out, "stderr": errb} {
				if got := strings.Contains(b.String(), "\x1b["); got != tt.want {
					t.Errorf("%s has colour = %v, want %v:\n%q", name, got, tt.want, b)
				}
			}
			if !strings.Contains(out.String(), "Plan: 1 to cancel") {
				t.Errorf("no plan:\n%s", out)
			}
		})
	}
}

// TestStateRmLocked: state rm waits for the lock, then fails naming the
// holder, and removes nothing.
func TestStateRmLocked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	id := "360586640fe9846954897dffe6c13dfc"
	s, lock := lockedLocalState(t, path, id)
	before, _ := os.ReadFile(path)

	e, out, errb := testEnv(nil, false)
	code := Main(context.Background(), []string{"state", "rm", "-state", path, "-lock-timeout", "200ms", id}, e)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errb)
	}
	msg := errb.String()
	for _, want := range []string{"Error: ", "state is locked by", `operation "apply"`, lock.Info().ID, "pass a longer -lock-timeout"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr does not mention %q:\n%s", want, msg)
		}
	}
	if out.Len() != 0 {
		t.Errorf("stdout: %q", out)
	}

	// Without -lock-timeout, state rm and state push fail at once and
	// suggest one, in the same words as apply.
	pushed := filepath.Join(dir, "pushed.json")
	if err := local.WriteFile(pushed, s); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"state", "rm", "-state", path, id}, {"state", "push", "-state", path, pushed}} {
		e, _, errb := testEnv(nil, false)
		if code := Main(context.Background(), args, e); code != 1 {
			t.Fatalf("%v: exit %d, want 1; stderr:\n%s", args, code, errb)
		}
		want := "Error: state is locked by "
		if msg := errb.String(); !strings.HasPrefix(msg, want) || !strings.Contains(msg, "\n\nAnother recall run is applying or changing this state. Wait for it to finish, or pass -lock-timeout to wait for it (e.g. -lock-timeout=5m)\n") {
			t.Errorf("%v: stderr:\n%s", args, msg)
		}
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("state changed although the lock was refused")
	}

	// Once released, the same command succeeds.
	lock.Unlock()
	e, out, errb = testEnv(nil, false)
	if code := Main(context.Background(), []string{"state", "rm", "-state", path, id}, e); code != 0 {
		t.Fatalf("exit %d after unlock: %s", code, errb)
	}
	if out.String() != "Removed 1 message.\n" {
		t.Errorf("stdout = %q", out)
	}
}

func TestParseInterspersed(t *testing.T) {
	e, _, _ := testEnv(nil, false)
	fs := newFlagSet(e, "x", "help")
	format := fs.String("format", "human", "")
	pos, err := parseArgs(e, fs, []string{"a", "-format", "json", "b", "--", "-c"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b", "-c"}, pos); diff != "" || *format != "json" {
		t.Errorf("pos %v format %q: %s", pos, *format, diff)
	}
}

func mustID(s string) msgid.ID { return msgid.MustParse(s) }

// TestREADMEQuickStart keeps the README honest: the quick start's plan
// output is what recall prints for examples/quickstart today.
func TestREADMEQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	e, out, errb := testEnv(nil, false)
	args := []string{"plan", "-f", "../../examples/quickstart", "-state", filepath.Join(t.TempDir(), "s.json")}
	if code := Main(context.Background(), args, e); code != 0 {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if !strings.Contains(string(readme), out.String()) {
		t.Errorf("README.md's quick start does not show the current plan output; update it to:\n%s", out)
	}
	e, out, _ = testEnv(nil, false)
	if code := Main(context.Background(), []string{"validate", "-f", "../../examples/quickstart"}, e); code != 0 || !strings.Contains(string(readme), strings.TrimSpace(out.String())) {
		t.Errorf("README.md does not show validate's output %q", out)
	}
}

// TestPlanWhileLocked: plan reads without the lock, so a running apply
// (here: the lock held by this process) does not block it.
func TestPlanWhileLocked(t *testing.T) {
	dir := t.TempDir()
	manifestPath := filepath.Join(dir, "recall.yaml")
	os.WriteFile(manifestPath, []byte("version: 1\ncancel:\n  - name: g\n    ids: [360586640fe9846954897dffe6c13dfc]\n"), 0o644)
	path := filepath.Join(dir, "s.json")
	lockedLocalState(t, path)
	e, out, errb := testEnv(nil, false)
	if code := Main(context.Background(), []string{"plan", "-f", manifestPath, "-state", path, "-detailed-exitcode"}, e); code != 2 {
		t.Fatalf("exit %d, want 2; stderr:\n%s", code, errb)
	}
	if !strings.Contains(out.String(), "Plan: 1 to cancel") {
		t.Errorf("stdout:\n%s", out)
	}
}

// TestStateArgs: the apply command plan prints names the plan's state, so
// that it is applied against the state it was made against; a password
// in a URL is not repeated.
func TestStateArgs(t *testing.T) {
	for _, tc := range []struct {
		state, workspace, want string
	}{
		{defaultState, defaultWorkspace, ""},
		{"s.json", defaultWorkspace, " -state s.json"},
		{"my state.json", defaultWorkspace, " -state 'my state.json'"},
		{"postgres://recall@db/recall?sslmode=disable", "eu", " -state 'postgres://recall@db/recall?sslmode=disable' -workspace eu"},
		{"postgresql://recall:s3cret@db/recall", defaultWorkspace, " -state <the same -state URL>"},
		{"POSTGRES://recall:s3cret@db/recall", defaultWorkspace, " -state <the same -state URL>"},
	} {
		c := commonFlags{state: tc.state, workspace: tc.workspace}
		if got := c.stateArgs(); got != tc.want {
			t.Errorf("state %q workspace %q: got %q, want %q", tc.state, tc.workspace, got, tc.want)
		}
	}
}
