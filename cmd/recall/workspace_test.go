package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
)

// lockedLocalState writes a local state at path (serial 1) recording ids
// as cancelled, and takes its lock for an apply until the test ends. It
// returns the state written and the lock.
func lockedLocalState(t *testing.T, path string, ids ...string) (*state.State, state.Lock) {
	t.Helper()
	s := state.New()
	s.Serial = 1
	for _, id := range ids {
		s.Set(mustID(id), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "g", At: viewNow})
	}
	if err := local.WriteFile(path, s); err != nil {
		t.Fatal(err)
	}
	lock, err := local.New(path).Lock(context.Background(), state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Unlock() })
	return s, lock
}

// TestWorkspaceDeleteLocked: delete takes the workspace's lock, so a run
// holding it keeps its workspace, messages and all, even with -force.
func TestWorkspaceDeleteLocked(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "recall.state.json")
	ws := local.WorkspacePath(path, "eu")
	if want := filepath.Join(dir, "recall.state.d", "eu", "recall.state.json"); ws != want {
		t.Fatalf("WorkspacePath = %s, want %s", ws, want)
	}
	if err := os.MkdirAll(filepath.Dir(ws), 0o755); err != nil {
		t.Fatal(err)
	}
	_, lock := lockedLocalState(t, ws, "360586640fe9846954897dffe6c13dfc")

	e, _, errb := testEnv(nil, false)
	if code := Main(context.Background(), []string{"workspace", "delete", "-state", path, "-force", "eu"}, e); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errb)
	}
	if msg := errb.String(); !strings.Contains(msg, "state is locked by") || !strings.Contains(msg, lock.Info().ID) {
		t.Errorf("stderr:\n%s", msg)
	}
	if _, err := os.Stat(ws); err != nil {
		t.Errorf("the workspace's state is gone although the lock was refused: %v", err)
	}

	lock.Unlock()
	e, out, errb := testEnv(nil, false)
	if code := Main(context.Background(), []string{"workspace", "delete", "-state", path, "-force", "eu"}, e); code != 0 {
		t.Fatalf("exit %d after unlock: %s", code, errb)
	}
	if got, want := out.String(), "Deleted workspace \"eu\" and its 1 settled message.\n"; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "recall.state.d")); !os.IsNotExist(err) {
		t.Errorf("recall.state.d is still there: %v", err)
	}
}

func TestWorkspacePath(t *testing.T) {
	for _, tc := range []struct{ path, ws, want string }{
		{"recall.state.json", "default", "recall.state.json"},
		{"recall.state.json", "", "recall.state.json"},
		{"recall.state.json", "eu", filepath.Join("recall.state.d", "eu", "recall.state.json")},
		{filepath.Join("ci", "team.json"), "eu", filepath.Join("ci", "team.d", "eu", "team.json")},
		{"state", "eu", filepath.Join("state.d", "eu", "state")},
	} {
		if got := local.WorkspacePath(tc.path, tc.ws); got != tc.want {
			t.Errorf("WorkspacePath(%q, %q) = %q, want %q", tc.path, tc.ws, got, tc.want)
		}
	}
}
