package main

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGlobalArgs(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		want     globalArgs
		wantRest []string
		wantErr  string
	}{
		{name: "none", args: []string{"plan", "-json"}, wantRest: []string{"plan", "-json"}},
		{name: "equals", args: []string{"-chdir=infra", "plan"}, want: globalArgs{chdir: "infra"}, wantRest: []string{"plan"}},
		{name: "double dash", args: []string{"--chdir=infra", "plan"}, want: globalArgs{chdir: "infra"}, wantRest: []string{"plan"}},
		{name: "separate value", args: []string{"-chdir", "infra", "validate", "-f", "x"}, want: globalArgs{chdir: "infra"}, wantRest: []string{"validate", "-f", "x"}},
		{name: "last wins", args: []string{"-chdir=a", "-chdir=b", "show"}, want: globalArgs{chdir: "b"}, wantRest: []string{"show"}},
		{name: "after the command is the command's", args: []string{"plan", "-chdir=infra"}, wantRest: []string{"plan", "-chdir=infra"}},
		{name: "alone", args: []string{"-chdir=infra"}, want: globalArgs{chdir: "infra"}, wantRest: []string{}},
		{name: "no value", args: []string{"-chdir"}, wantErr: "-chdir needs a directory"},
		{name: "empty value", args: []string{"-chdir=", "plan"}, wantErr: "-chdir needs a directory"},
		{name: "other flags are left", args: []string{"-version"}, wantRest: []string{"-version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rest, err := parseGlobalArgs(tt.args)
			if parseFailed(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(globalArgs{})); diff != "" {
				t.Errorf("globals (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRest, rest); diff != "" {
				t.Errorf("rest (-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseArgs_JSONAndInput: -json is -format json on every command that
// has -format, a conflicting -format is an error, and -input=false makes
// apply need a saved plan or -auto-approve.
func TestParseArgs_JSONAndInput(t *testing.T) {
	tests := []struct {
		name       string
		cmd        string
		args       []string
		wantFormat string
		wantErr    string
	}{
		{name: "plan -json", cmd: "plan", args: []string{"-json"}, wantFormat: "json"},
		{name: "plan -json -format json", cmd: "plan", args: []string{"-format=json", "-json"}, wantFormat: "json"},
		{name: "plan -json -format markdown", cmd: "plan", args: []string{"-format", "markdown", "-json"}, wantErr: "plan: -json and -format markdown conflict: -json is short for -format json; pass only one of them"},
		{name: "plan -json -format human", cmd: "plan", args: []string{"-json", "-format", "human"}, wantErr: "plan: -json and -format human conflict"},
		{name: "plan -json=false", cmd: "plan", args: []string{"-json=false", "-format", "markdown"}, wantFormat: "markdown"},
		{name: "plan -input=false", cmd: "plan", args: []string{"-input=false"}, wantFormat: "human"},
		{name: "apply -json", cmd: "apply", args: []string{"-json", "-auto-approve"}, wantFormat: "json"},
		{name: "apply -json -format human", cmd: "apply", args: []string{"-format", "human", "-json"}, wantErr: "apply: -json and -format human conflict"},
		{name: "apply -input=false alone", cmd: "apply", args: []string{"-input=false"}, wantErr: "apply -input=false needs a saved plan or -auto-approve: it will not ask before it may cancel anything"},
		{name: "apply -input=false -refresh-only", cmd: "apply", args: []string{"-input=false", "-refresh-only"}, wantErr: "apply -input=false needs a saved plan or -auto-approve: it will not ask before it may record statuses"},
		{name: "apply -input=false -auto-approve", cmd: "apply", args: []string{"-input=false", "-auto-approve"}, wantFormat: "human"},
		{name: "apply -input=false -refresh-only -auto-approve", cmd: "apply", args: []string{"-refresh-only", "-auto-approve", "-input=false"}, wantFormat: "human"},
		{name: "apply -input=false PLAN", cmd: "apply", args: []string{"-input=false", "p.plan"}, wantFormat: "human"},
		{name: "apply -input=true", cmd: "apply", args: []string{"-input=true"}, wantFormat: "human"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _, _ := testEnv(nil, false)
			var format string
			var err error
			switch tt.cmd {
			case "plan":
				var a *planArgs
				if a, err = parsePlanArgs(e, tt.args); err == nil {
					format = a.format
				}
			case "apply":
				var a *applyArgs
				if a, err = parseApplyArgs(e, tt.args); err == nil {
					format = a.format
				}
			}
			if parseFailed(t, err, tt.wantErr) {
				return
			}
			if format != tt.wantFormat {
				t.Errorf("format = %q, want %q", format, tt.wantFormat)
			}
		})
	}
}

func TestTerraformFlagHint(t *testing.T) {
	tests := []struct {
		cmd, flag string
		want      string // "" for no hint
	}{
		{"plan", "var", "-var is not a flag of recall plan: recall has no variables: the manifest is the input"},
		{"apply", "var-file", "recall has no variables: the manifest is the input; pass it with -f PATH"},
		{"apply", "lock", "recall always locks the state when it changes it: the lock keeps two runs from sending the same cancellations twice; to wait for a lock held by another run, use -lock-timeout D"},
		{"plan", "lock", "plan never takes the state lock"},
		{"state rm", "lock", "recall always locks"},
		{"plan", "lock-timeout", "plan never takes the state lock"},
		{"plan", "refresh", "never ask Clickatell about settled messages unless -refresh-only"},
		{"apply", "compact-warnings", "drop the flag"},
		{"show", "parallelism", "-parallelism N limits the calls of 'recall apply' and 'recall plan -refresh-only', the same as Terraform's"},
		{"plan", "backend-config", "-state LOC"},
		{"apply", "replace", "recall state rm ID"},
		{"apply", "destroy", "a cancellation cannot be undone"},
		{"apply", "out", "save one with 'recall plan -out FILE', then run 'recall apply FILE'"},
		{"apply", "state-out", "recall writes the state back where it read it"},
		{"plan", "upgrade", "no providers"},
		{"plan", "chdir", "put it before the command, e.g. 'recall -chdir=DIR plan'"},
		{"validate", "input", "this command never asks for input"},
		{"state list", "json", "-json is taken by plan, apply, show, validate and version"},
		{"plan", "auto-approve", "-auto-approve is apply's"},
		{"plan", "--var", "-var is not a flag of recall plan"},
		{"plan", "nope", ""},
		{"plan", "f", ""},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" -"+tt.flag, func(t *testing.T) {
			got := terraformFlagHint(tt.cmd, tt.flag)
			if tt.want == "" {
				if got != "" {
					t.Errorf("hint = %q, want none", got)
				}
				return
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("hint = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

// TestTerraformFlags_OneEntryEach: the hint table has one entry per flag
// and command, so that no hint shadows another.
func TestTerraformFlags_OneEntryEach(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range terraformFlags {
		k := h.cmd + " -" + h.flag
		if seen[k] {
			t.Errorf("two hints for %q", k)
		}
		seen[k] = true
		if h.hint == "" || strings.HasSuffix(h.hint, ".") {
			t.Errorf("%q: hint %q is empty or ends with a full stop", k, h.hint)
		}
	}
}

// TestNoColor_EveryCommand: every command of the table accepts -no-color,
// also those that print no colour.
func TestNoColor_EveryCommand(t *testing.T) {
	for _, path := range commandPaths() {
		t.Run(strings.Join(path, " "), func(t *testing.T) {
			dir := t.TempDir()
			e, out, errb := testEnv(map[string]string{
				"RECALL_STATE": filepath.Join(dir, "s.json"),
			}, false)
			args := append(slices.Clone(path), "-no-color")
			Main(context.Background(), args, e)
			for _, bad := range []string{"not defined", "not a flag"} {
				if strings.Contains(errb.String(), bad) {
					t.Errorf("-no-color refused: %s%s", out, errb)
				}
			}
		})
	}
}

// TestLineInfo_At: columns count characters, bytes count bytes.
func TestLineInfo_At(t *testing.T) {
	li := &lineInfo{offset: 100, text: []byte("  é: x€y")}
	for _, tt := range []struct{ col, offset, width int }{
		{1, 100, 1},
		{3, 102, 2}, // é is two bytes
		{4, 104, 1},
		{7, 107, 3}, // € is three bytes
		{8, 110, 1},
		{20, 111, 1}, // past the end: the end of the line
	} {
		off, w := li.at(tt.col)
		if off != tt.offset || w != tt.width {
			t.Errorf("at(%d) = %d, %d; want %d, %d", tt.col, off, w, tt.offset, tt.width)
		}
	}
}
