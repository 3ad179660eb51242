package main

// Helpers for the apply tests: recall runs as a real subprocess (this test
// binary, run as recall by TestMain), and
// the Clickatell simulator runs in the test process on a loopback
// httptest server, so that tests can read its per-ID call counts and
// counters, and revoke the token mid-run.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

// testToken is the API token the tests use; no output or file may hold it.
const testToken = "tok-3c8e1f0b9d2a4e7f-never-print-me"

// recallCommand returns recall as a subprocess running in dir, talking to
// endpoint with testToken. "recall" is this test binary, put on PATH by
// TestMain (testscript.Main), which runs Main when called by that name.
func recallCommand(dir, endpoint string, args ...string) *exec.Cmd {
	cmd := exec.Command("recall", args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(),
		"CLICKATELL_TOKEN="+testToken,
		"CLICKATELL_ENDPOINT="+endpoint,
	)
	return cmd
}

// cleanEnv is the environment without anything that would change recall's
// behaviour from outside the test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CLICKATELL_") || strings.HasPrefix(kv, "RECALL_") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runResult is a finished recall.
type runResult struct {
	code           int
	stdout, stderr string
}

// runRecall runs recall to completion.
func runRecall(t testing.TB, dir, endpoint string, args ...string) runResult {
	t.Helper()
	cmd := recallCommand(dir, endpoint, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running recall %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	r := runResult{code: code, stdout: out.String(), stderr: errb.String()}
	assertNoToken(t, "output of recall "+strings.Join(args, " "), r.stdout+r.stderr)
	return r
}

func assertNoToken(t testing.TB, where, s string) {
	t.Helper()
	if strings.Contains(s, testToken) {
		t.Errorf("the API token appears in %s", where)
	}
}

// assertNoTokenInDir checks every file under dir for the token.
func assertNoTokenInDir(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(testToken)) {
			t.Errorf("the API token appears in %s", path)
		}
		return nil
	})
}

// startSim serves a simulator for cfg (token testToken) on loopback.
func startSim(t testing.TB, cfg simulator.Config) (*simulator.Simulator, string) {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = testToken
	}
	sim, srv := testkit.Sim(t, cfg)
	return sim, srv.URL
}

// ids returns n distinct IDs whose first bytes are tag, so that sets made
// with different tags never overlap.
func ids(tag byte, n int) []string {
	out := make([]string, n)
	for i := range out {
		var id msgid.ID
		id[0] = tag
		id[12], id[13], id[14], id[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		out[i] = id.String()
	}
	return out
}

// group is a manifest group for writeManifest.
type group struct {
	name, scheduledAt string
	ids               []string
}

// writeManifest writes recall.yaml in dir, each group's IDs in an ids_from
// file.
func writeManifest(t testing.TB, dir string, groups ...group) {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\ncancel:\n")
	for _, g := range groups {
		fmt.Fprintf(&b, "  - name: %s\n    reason: test\n", g.name)
		if g.scheduledAt != "" {
			fmt.Fprintf(&b, "    scheduled_at: %s\n", g.scheduledAt)
		}
		fmt.Fprintf(&b, "    ids_from: %s.txt\n", g.name)
		if err := os.WriteFile(filepath.Join(dir, g.name+".txt"), []byte(strings.Join(g.ids, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "recall.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// stateFile is the local state file as tests see it: parsed with
// encoding/json, independently of the backend's own reader.
type stateFile struct {
	FormatVersion int    `json:"format_version"`
	Lineage       string `json:"lineage"`
	Serial        uint64 `json:"serial"`
	Messages      map[string]struct {
		Outcome string `json:"outcome"`
		Status  string `json:"status"`
		Group   string `json:"group"`
	} `json:"messages"`
}

// readState parses the state file at path; a missing file is an empty
// state, anything unparsable fails the test.
func readState(t testing.TB, path string) *stateFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &stateFile{}
	}
	if err != nil {
		t.Fatal(err)
	}
	var s stateFile
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("%s does not parse: %v", path, err)
	}
	return &s
}

// outcomes counts a state's messages by outcome.
func (s *stateFile) outcomes() map[string]int {
	m := map[string]int{}
	for _, r := range s.Messages {
		m[r.Outcome]++
	}
	return m
}
