package main

import (
	"fmt"
	"strings"

	"github.com/recallhq/recall/state"
)

// openBackend opens the state at loc: a postgres:// or postgresql:// URL
// selects PostgreSQL (with workspace), anything else is a file path.
//
// Skeleton: the local backend lands with the foundation issue, PostgreSQL
// with its own.
func openBackend(loc, workspace string) (state.Backend, error) {
	if strings.HasPrefix(loc, "postgres://") || strings.HasPrefix(loc, "postgresql://") {
		return nil, fmt.Errorf("PostgreSQL state is not implemented yet")
	}
	return nil, fmt.Errorf("local state is not implemented yet")
}
