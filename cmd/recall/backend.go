package main

import (
	"fmt"

	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/pg"
)

// openBackend opens the state at loc: a postgres:// or postgresql:// URL
// selects PostgreSQL (with workspace), anything else is a file path.
func openBackend(loc, workspace string) (state.Backend, error) {
	if pg.IsURL(loc) {
		return pg.Open(loc, workspace)
	}
	if loc == "" {
		return nil, fmt.Errorf("-state: empty location; give a file path or a postgres:// URL")
	}
	if workspace != "" && workspace != "default" {
		return nil, fmt.Errorf("-workspace %q: workspaces are for PostgreSQL state only, and %s is a file; use a separate -state file instead", workspace, loc)
	}
	return local.New(loc), nil
}
