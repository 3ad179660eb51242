package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionScript returns 'recall completion SHELL' written to a file.
func completionScript(t *testing.T, shell string) string {
	t.Helper()
	e, out, errb := testEnv(nil, false)
	if code := Main(context.Background(), []string{"completion", shell}, e); code != 0 {
		t.Fatalf("completion %s: exit %d: %s", shell, code, errb)
	}
	p := filepath.Join(t.TempDir(), "recall."+shell)
	if err := os.WriteFile(p, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// completionCases are command lines, the last word being completed, and
// what completing it must offer.
var completionCases = []struct {
	words []string
	want  string
}{
	{[]string{"recall", "ap"}, "apply"},
	{[]string{"recall", "st"}, "state"},
	{[]string{"recall", "state", "s"}, "show"},
	{[]string{"recall", "workspace", ""}, "delete list new show"},
	{[]string{"recall", "state", "rm", "-d"}, "-dry-run"},
	{[]string{"recall", "plan", "-o"}, "-out"},
	{[]string{"recall", "workspace", "delete", "-f"}, "-force"},
	{[]string{"recall", "completion", ""}, "bash fish zsh"},
}

func shell(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed", name)
	}
	return p
}

// zshStandIns stand in for compadd and _files, which exist only inside
// zsh's completion system: they print what would be offered, filtered by
// $PREFIX as compadd filters.
const zshStandIns = `compdef() { :; }
compadd() { local a seen=""; for a in "$@"; do if [[ -n $seen ]]; then [[ $a == ${PREFIX}* ]] && print -r -- $a; elif [[ $a == -- ]]; then seen=1; fi; done; return 0 }
_files() { print -r -- FILES; }
`

// TestCompletion_Shells: each shell accepts its script, and completing
// every one of completionCases offers what it must.
func TestCompletion_Shells(t *testing.T) {
	for _, sh := range []struct {
		name string
		// complete is the command that prints what completing words offers.
		complete func(t *testing.T, sh, script string, words []string) *exec.Cmd
		// offered is that output as the words offered, space-separated.
		offered func(out string) string
	}{
		{
			name: "bash",
			complete: func(t *testing.T, bash, script string, words []string) *exec.Cmd {
				prog := `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _recall; echo "${COMPREPLY[*]}"`
				return exec.Command(bash, append([]string{"-c", prog, "bash", script}, words...)...)
			},
			offered: strings.TrimSpace,
		},
		{
			name: "zsh",
			complete: func(t *testing.T, zsh, script string, words []string) *exec.Cmd {
				prog := zshStandIns + `source "$1"; shift
words=("$@"); CURRENT=$#; PREFIX=${words[CURRENT]}
_recall`
				return exec.Command(zsh, append([]string{"-c", prog, "zsh", script}, words...)...)
			},
			offered: func(out string) string { return strings.Join(strings.Fields(out), " ") },
		},
		{
			name: "fish",
			complete: func(t *testing.T, fish, script string, words []string) *exec.Cmd {
				cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C $argv[2]`, script, strings.Join(words, " "))
				cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "XDG_DATA_HOME="+t.TempDir())
				return cmd
			},
			offered: func(out string) string {
				var got []string
				for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
					w, _, _ := strings.Cut(l, "\t")
					got = append(got, w)
				}
				return strings.Join(got, " ")
			},
		},
	} {
		t.Run(sh.name, func(t *testing.T) {
			bin := shell(t, sh.name)
			script := completionScript(t, sh.name)
			if out, err := exec.Command(bin, "-n", script).CombinedOutput(); err != nil {
				t.Fatalf("%s -n: %v\n%s", sh.name, err, out)
			}
			for _, tc := range completionCases {
				out, err := sh.complete(t, bin, script, tc.words).CombinedOutput()
				if err != nil {
					t.Fatalf("%q: %v\n%s", tc.words, err, out)
				}
				if got := sh.offered(string(out)); got != tc.want {
					t.Errorf("%s: completing %q gives %q, want %q", sh.name, tc.words, got, tc.want)
				}
			}
		})
	}
}

// TestCompletion_EveryFlag: the scripts are made from the FlagSets, so
// every flag of every command is in them.
func TestCompletion_EveryFlag(t *testing.T) {
	entries := completionEntries(context.Background(), commands, "")
	paths := map[string]bool{}
	for _, ent := range entries {
		paths[ent.path] = true
	}
	for _, p := range []string{"apply", "plan", "state rm", "state show", "workspace delete", "completion"} {
		if !paths[p] {
			t.Errorf("no completion entry for %q", p)
		}
	}
	bash, _ := os.ReadFile(completionScript(t, "bash"))
	for _, want := range []string{"'state rm') words='-dry-run -lock-timeout -no-color -outcome -state -workspace'", "apply) words='-allow-unknown-ids"} {
		if !bytes.Contains(bash, []byte(want)) {
			t.Errorf("bash script lacks %q", want)
		}
	}
}

// TestREADMECommandReference: every command and subcommand of the
// command table has a row in the README's command reference.
func TestREADMECommandReference(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range completionEntries(context.Background(), commands, "") {
		if ent.sub != nil {
			continue
		}
		name := "| `recall " + ent.path
		if ent.path == "workspace list" || ent.path == "workspace show" {
			name = "| `recall workspace list\\|show"
		}
		if !bytes.Contains(readme, []byte(name)) {
			t.Errorf("README.md's command reference has no row for 'recall %s'", ent.path)
		}
	}
}
