package main

import (
	"fmt"
	"regexp"
	"strings"

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
	if scheme, _, ok := strings.Cut(loc, "://"); ok && urlScheme.MatchString(scheme) {
		// Not a path anyone means: a mistyped URL would otherwise read
		// as a state that does not exist yet, and plan everything.
		// Only the scheme is quoted: the rest may hold a password.
		return nil, fmt.Errorf("-state: a %s:// URL is not a state recall can use; give a file path, or a postgres:// or postgresql:// URL", scheme)
	}
	if workspace != "" && workspace != "default" {
		return nil, fmt.Errorf("-workspace %q: workspaces are for PostgreSQL state only, and %s is a file; use a separate -state file instead", workspace, loc)
	}
	return local.New(loc), nil
}

// urlScheme matches a URL scheme (RFC 3986).
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)
