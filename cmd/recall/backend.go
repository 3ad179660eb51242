package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/pg"
)

// openBackend opens the state at loc: a postgres:// or postgresql:// URL
// selects PostgreSQL (with workspace), anything else is a file path.
func openBackend(loc, workspace string) (state.Backend, error) {
	if pg.IsURL(loc) {
		timeout, err := parseStateTimeout(os.Getenv(envStateTimeout))
		if err != nil {
			return nil, err
		}
		return pg.OpenWith(loc, workspace, pg.Options{Timeout: timeout})
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
	if workspace != "" && workspace != defaultWorkspace {
		// As Terraform's terraform.tfstate.d/NAME: recall.state.d/NAME.
		if err := pg.ValidateWorkspace(workspace); err != nil {
			return nil, err
		}
		if !local.WorkspaceExists(loc, workspace) {
			// Refused rather than read as empty: an apply would cancel
			// messages and then find no directory to record them in.
			return nil, &diagnostic{
				Summary: fmt.Sprintf("-workspace %q: the state file %s has no such workspace (no directory %s)", workspace, loc, filepath.Dir(local.WorkspacePath(loc, workspace))),
				Detail:  fmt.Sprintf("Create it with 'recall workspace new %s%s', or list the workspaces with 'recall workspace list%s'.", stateArg(loc), workspace, stateArg(loc)),
			}
		}
		return local.New(local.WorkspacePath(loc, workspace)), nil
	}
	return local.New(loc), nil
}

// urlScheme matches a URL scheme (RFC 3986).
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// stateArg is "-state LOC " for a file state other than the default, to
// put in a command line that must name the same state; "" otherwise.
func stateArg(loc string) string {
	if loc == defaultState || pg.IsURL(loc) {
		return ""
	}
	return "-state " + shellQuote(loc) + " "
}

// envStateTimeout names the environment variable that sets a PostgreSQL
// state's per-operation deadline: a Go duration ("45s", "2m"), or "0" for
// none; pg.DefaultTimeout when unset.
const envStateTimeout = "RECALL_STATE_TIMEOUT"

// parseStateTimeout reads envStateTimeout's value.
func parseStateTimeout(v string) (time.Duration, error) {
	if v == "" {
		return pg.DefaultTimeout, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n == 0 {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s or 2m (0: no deadline)", envStateTimeout, v)
	}
	return d, nil
}
