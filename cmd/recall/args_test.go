package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// commandPaths lists every command of the table as the words that run it
// ("plan", "state rm"), so that a test over them covers new commands too.
func commandPaths() [][]string {
	var paths [][]string
	for name, c := range commands {
		if c.sub != nil {
			for sub := range c.sub {
				paths = append(paths, []string{name, sub})
			}
			continue
		}
		paths = append(paths, []string{name})
	}
	slices.SortFunc(paths, func(a, b []string) int { return strings.Compare(strings.Join(a, " "), strings.Join(b, " ")) })
	return paths
}

// TestDoubleDash_EveryCommand: after "--" every argument is positional, in
// every command: "-h" asks for no help, an unknown flag is no flag error,
// and a real flag is not taken (apply -- PLAN -auto-approve).
func TestDoubleDash_EveryCommand(t *testing.T) {
	for _, path := range commandPaths() {
		for _, after := range []string{"-h", "-no-such-flag", "-auto-approve"} {
			name := strings.Join(path, " ") + " -- " + after
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				e, out, errb := testEnv(map[string]string{
					"RECALL_STATE":     filepath.Join(dir, "s.json"),
					"CLICKATELL_TOKEN": "test-token",
				}, false)
				args := append(slices.Clone(path), "--", after)
				code := Main(context.Background(), args, e)
				if code == 0 {
					t.Errorf("exit 0; want an error for the positional %q\nstdout: %s\nstderr: %s", after, out, errb)
				}
				if strings.Contains(out.String(), "Usage:") || strings.Contains(errb.String(), "Usage:") {
					t.Errorf("help printed for %q after --:\n%s%s", after, out, errb)
				}
				if strings.Contains(errb.String(), "flag provided but not defined") {
					t.Errorf("%q after -- parsed as a flag: %s", after, errb)
				}
				// The error names the argument (force-unlock asks for
				// confirmation first, on a state that has no lock).
				if path[0] != "force-unlock" && !strings.Contains(errb.String(), after) {
					t.Errorf("the error does not name the positional %q: %s", after, errb)
				}
			})
		}
	}
}

func TestParseApplyArgs_DoubleDash(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		planFile    string
		autoApprove bool
		wantErr     string
	}{
		{name: "flag before", args: []string{"-auto-approve", "--", "p.plan"}, planFile: "p.plan", autoApprove: true},
		{name: "flag after plan", args: []string{"p.plan", "-auto-approve"}, planFile: "p.plan", autoApprove: true},
		{name: "flag after dash", args: []string{"--", "p.plan", "-auto-approve"}, wantErr: "apply: expected at most one plan file, got 2 arguments (p.plan -auto-approve)"},
		{name: "dash-named plan", args: []string{"--", "-auto-approve"}, planFile: "-auto-approve"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := testEnv(nil, false)
			a, err := parseApplyArgs(e, tt.args)
			if parseFailed(t, err, tt.wantErr) {
				return
			}
			if a.planFile != tt.planFile || a.autoApprove != tt.autoApprove {
				t.Errorf("planFile %q autoApprove %v, want %q %v", a.planFile, a.autoApprove, tt.planFile, tt.autoApprove)
			}
		})
	}
}

// parseFailed checks a parse's err against wantErr (a substring; "": no
// error, and any is fatal) and reports whether an error was wanted, which
// ends the case.
func parseFailed(t *testing.T, err error, wantErr string) bool {
	t.Helper()
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want %q", err, wantErr)
		}
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return false
}
