package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/recallhq/recall/msgid"
)

// TestMain registers recall as a command for the scripts: `exec recall …`
// in testdata/script runs this test binary as recall, in its own process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"recall": func() {
			handleSignals() // as main does
			os.Exit(Main(context.Background(), os.Args[1:], newEnv()))
		},
	})
}

// scriptSetups run for every script after the common setup. Tests in other
// files may append to it from init (for example to start a simulator and
// set CLICKATELL_ENDPOINT).
var scriptSetups []func(env *testscript.Env) error

// scriptCmds are the commands scripts get on top of testscript's own;
// other files may add to it from init.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"genids":    cmdGenIDs,
	"maxsize":   cmdMaxSize,
	"exitcode":  cmdExitCode,
	"genbroken": cmdGenBroken,
}

// cmdGenBroken writes a manifest with N malformed IDs, one per line, each
// in its own group: genbroken N FILE.
func cmdGenBroken(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: genbroken N FILE")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b strings.Builder
	b.WriteString("version: 1\ncancel:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - name: g%d\n    ids: [%031x]\n", i, i)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o666))
}

// cmdExitCode runs a program and fails unless it exits with exactly N,
// keeping its stdout and stderr for the next commands: exitcode N PROG ARGS...
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// TestScripts runs the CLI scripts in testdata/script. Each runs in a fresh
// directory with a clean environment: no CLICKATELL_TOKEN, no NO_COLOR.
func TestScripts(t *testing.T) {
	runScripts(t, "testdata/script", scriptCmds, func(env *testscript.Env) error {
		for _, f := range scriptSetups {
			if err := f(env); err != nil {
				return err
			}
		}
		return nil
	})
}

// runScripts runs the scripts in dir with cmds on top of testscript's own
// commands (exec only explicit). Each starts in a fresh directory with
// clearScriptEnv's clean environment, then what setup adds.
func runScripts(t *testing.T, dir string, cmds map[string]func(ts *testscript.TestScript, neg bool, args []string), setup func(env *testscript.Env) error) {
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Cmds:                cmds,
		Setup: func(env *testscript.Env) error {
			clearScriptEnv(env)
			return setup(env)
		},
	})
}

// mustContain fails the test for each of wants that got, the output
// called what, does not contain.
func mustContain(t *testing.T, what, got string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, got)
		}
	}
}

// clearScriptEnv empties the variables that would change what a script
// sees: CLICKATELL_TOKEN, CLICKATELL_ENDPOINT, NO_COLOR, RECALL_STATE and
// RECALL_WORKSPACE.
func clearScriptEnv(env *testscript.Env) {
	for _, k := range []string{"CLICKATELL_TOKEN", "CLICKATELL_ENDPOINT", "NO_COLOR", envState, envWorkspace} {
		env.Setenv(k, "")
	}
}

// cmdGenIDs writes N well-formed, distinct message IDs, one per line, to a
// file: genids N FILE [SEED]. The same N and seed give the same IDs.
func cmdGenIDs(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: genids N FILE [SEED]")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	seed := "0"
	if len(args) == 3 {
		seed = args[2]
	}
	path := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(path), 0o777))
	f, err := os.Create(path)
	ts.Check(err)
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		fmt.Fprintln(w, genID(seed, i))
	}
	ts.Check(w.Flush())
	ts.Check(f.Close())
}

// genID is the i-th generated ID of a seed.
func genID(seed string, i int) msgid.ID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	sum := sha256.Sum256(append([]byte(seed+"/"), b[:]...))
	var id msgid.ID
	copy(id[:], sum[:16])
	return id
}

// cmdMaxSize fails unless FILE holds fewer than N characters:
// maxsize FILE N.
func cmdMaxSize(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: maxsize FILE N")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	got := len([]rune(ts.ReadFile(args[0])))
	if (got < n) == neg {
		ts.Fatalf("%s holds %d characters; want %s %d", args[0], got, map[bool]string{false: "fewer than", true: "at least"}[neg], n)
	}
	ts.Logf("%s: %d characters", args[0], got)
}
