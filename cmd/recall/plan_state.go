package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state/pg"
)

// recordedLocation is loc as a saved plan records it: a file path as
// given, a PostgreSQL URL without its password.
func recordedLocation(loc string) (string, error) {
	if !isPostgres(loc) {
		return loc, nil
	}
	return pg.StripPassword(loc)
}

// shownLocation is loc for a message: a PostgreSQL URL without its
// password (or a placeholder, should it not parse).
func shownLocation(loc string) string {
	if !isPostgres(loc) {
		return loc
	}
	if s, err := pg.StripPassword(loc); err == nil {
		return s
	}
	return "<a PostgreSQL URL>"
}

// sameLocation reports whether a and b name the same state, whatever the
// credentials and spelling: two paths of the same file (relative or
// absolute, through a symlink), or two PostgreSQL URLs of the same
// database and schema (pg.SameState).
func sameLocation(a, b string) bool {
	switch pa, pb := isPostgres(a), isPostgres(b); {
	case pa && pb:
		return pg.SameState(a, b)
	case pa || pb:
		return false
	}
	if a == b {
		return true
	}
	aa, erra := filepath.Abs(a)
	ab, errb := filepath.Abs(b)
	if erra == nil && errb == nil && aa == ab {
		return true
	}
	fa, erra := os.Stat(a)
	fb, errb := os.Stat(b)
	return erra == nil && errb == nil && os.SameFile(fa, fb)
}

// recordPlanState records in p where its state is: cf's location without
// credentials, and its workspace.
func recordPlanState(p *reconcile.Plan, cf *commonFlags) error {
	loc, err := recordedLocation(cf.state)
	if err != nil {
		return err
	}
	p.State.Location = loc
	p.State.Workspace = cf.workspace
	return nil
}

// usePlanState points cf at the state the saved plan p (read from path)
// was made against. A state or workspace that was not given (by flag or
// environment) is the plan's; one that was given must name the plan's
// state, or apply refuses before any call. A plan made before plans
// recorded their state leaves cf as it is.
//
// The recorded PostgreSQL URL has no password: pgx takes it from
// PGPASSWORD, a password file or a service file, and when RECALL_STATE
// names the same state with a password, RECALL_STATE is used.
func usePlanState(e *env, cf *commonFlags, p *reconcile.Plan, path string) error {
	rec := p.State
	if rec.Workspace != "" {
		if cf.workspaceFrom == "" {
			cf.workspace = rec.Workspace
		} else if cf.workspace != rec.Workspace {
			return fmt.Errorf("apply: the saved plan %s was made against workspace %q of %s, but %s names workspace %q; nothing was cancelled. "+
				"Apply it without %s to use the plan's workspace, or make a new plan for workspace %q and review it",
				path, rec.Workspace, shownLocation(rec.Location), cf.workspaceFrom, cf.workspace, cf.workspaceFrom, cf.workspace)
		}
	}
	if rec.Location == "" {
		return nil
	}
	if cf.stateFrom == "" {
		cf.state = rec.Location
	} else if !sameLocation(cf.state, rec.Location) {
		return fmt.Errorf("apply: the saved plan %s was made against the state at %s, but %s names another state, %s; nothing was cancelled. "+
			"Apply it without %s to use the plan's state, or make a new plan against %s and review it",
			path, shownLocation(rec.Location), cf.stateFrom, shownLocation(cf.state), cf.stateFrom, shownLocation(cf.state))
	}
	if isPostgres(cf.state) && !pg.HasPassword(cf.state) {
		if env := e.getenv(envState); env != "" && isPostgres(env) && pg.HasPassword(env) && pg.SameState(env, cf.state) {
			cf.state = env
		}
	}
	return nil
}

// planStateLine says where a saved plan's state is, for 'show PLANFILE'.
func planStateLine(r reconcile.StateRef) string {
	if r.Location == "" {
		return "State location: not recorded (an older plan); apply uses -state, " + envState + " or " + defaultState + "."
	}
	loc := oneLine(shownLocation(r.Location), 300)
	if isPostgres(r.Location) || (r.Workspace != "" && r.Workspace != defaultWorkspace) {
		return fmt.Sprintf("State location: %s (workspace %q)", loc, oneLine(r.Workspace, 70))
	}
	return "State location: " + loc
}
