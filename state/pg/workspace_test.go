package pg

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

// TestWorkspaces: a created workspace is an empty state that later
// commits build on; Workspaces lists it with default; DeleteWorkspace
// needs the lock and removes its messages and row, and no other's.
func TestWorkspaces(t *testing.T) {
	loc := pgtest.WithSchema(t, pgtest.URL(t), pgtest.Schema(t))
	def := open(t, loc, "")
	eu := open(t, loc, "eu")

	names, err := def.Workspaces(bg)
	if err != nil || !slices.Equal(names, []string{"default"}) {
		t.Fatalf("Workspaces = %v, %v; want [default]", names, err)
	}
	if err := def.CreateWorkspace(bg); !errors.Is(err, ErrWorkspaceExists) {
		t.Errorf("CreateWorkspace(default) = %v, want ErrWorkspaceExists", err)
	}
	if err := eu.CreateWorkspace(bg); err != nil {
		t.Fatal(err)
	}
	if err := eu.CreateWorkspace(bg); !errors.Is(err, ErrWorkspaceExists) {
		t.Errorf("second CreateWorkspace = %v, want ErrWorkspaceExists", err)
	}
	if names, _ := def.Workspaces(bg); !slices.Equal(names, []string{"default", "eu"}) {
		t.Errorf("Workspaces = %v", names)
	}

	s := statetest.MustRead(t, eu)
	if s.Serial != 0 || s.Len() != 0 || s.Lineage == "" {
		t.Fatalf("a new workspace reads as %+v", s)
	}
	lineage := s.Lineage
	id := msgid.MustParse("360586640fe9846954897dffe6c13dfc")
	rec := &state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "g", At: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
	if err := eu.Commit(bg, []state.Change{{ID: id, Record: rec}}); err != nil {
		t.Fatal(err)
	}
	other := open(t, loc, "eu")
	if s := statetest.MustRead(t, other); s.Serial != 1 || s.Lineage != lineage || s.Len() != 1 {
		t.Fatalf("after a commit: serial %d, lineage %s, %d messages", s.Serial, s.Lineage, s.Len())
	}
	statetest.MustRead(t, def)
	if err := def.Commit(bg, []state.Change{{ID: id, Record: rec}}); err != nil {
		t.Fatal(err)
	}

	if err := eu.DeleteWorkspace(bg); err == nil {
		t.Fatal("DeleteWorkspace without the lock succeeded")
	}
	lock, err := eu.Lock(bg, state.LockRequest{Operation: "workspace delete"})
	if err != nil {
		t.Fatal(err)
	}
	statetest.MustRead(t, eu)
	if err := eu.DeleteWorkspace(bg); err != nil {
		t.Fatal(err)
	}
	if err := lock.Unlock(); err != nil {
		t.Fatal(err)
	}
	if names, _ := def.Workspaces(bg); !slices.Equal(names, []string{"default"}) {
		t.Errorf("after delete, Workspaces = %v", names)
	}
	if s := statetest.MustRead(t, other); s.Exists() || s.Len() != 0 {
		t.Errorf("a deleted workspace reads as %+v", s)
	}
	if s := statetest.MustRead(t, def); s.Len() != 1 {
		t.Errorf("the default workspace lost its messages: %+v", s)
	}
	if err := def.DeleteWorkspace(bg); err == nil {
		t.Error("DeleteWorkspace(default) succeeded")
	}
}
