package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

const forceUnlockHelp = `
Usage: recall force-unlock [-state LOC] [-workspace NAME] [-force] [-input=false] LOCK_ID

  Removes a lock on the state that a run left behind. LOCK_ID is the lock
  ID that a refused run printed ("state is locked by ... lock ID ...").
  It changes nothing at Clickatell and nothing in the state's messages.

  PostgreSQL state: a lock is held by a database session and disappears
  when that session ends, so a killed run frees it at once. A run whose
  machine vanished (power loss, a network cut) keeps its session, and the
  lock, until the server notices: about two minutes, longer through a
  proxy or connection pooler. A run that hangs keeps it for good.
  force-unlock ends the holder's session at once (pg_terminate_backend):
  if the run is in fact still alive, it can write nothing more and fails
  at its next checkpoint, losing at most the results since its last one
  (the next apply asks Clickatell about those messages again).

  Local state: the operating system releases a file's lock when its holder
  exits, so there is never a lock to force; force-unlock says who holds it.

  Only unlock a run you know is gone or stuck. On a terminal,
  force-unlock asks for confirmation; elsewhere, and with
  -input=false, it needs -force.

Examples:

  # The lock ID comes from the error of the run that was refused.
  recall force-unlock -state postgres://recall@db.internal/recall 0b6d3a1e-5d1c-4b8e-9a7e-6f1e2d3c4b5a

  # In a pipeline, with another workspace, without asking.
  recall force-unlock -force -state "$RECALL_STATE" -workspace eu 0b6d3a1e-5d1c-4b8e-9a7e-6f1e2d3c4b5a
`

func runForceUnlock(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var force bool
	var input bool
	fs := cf.stateFlagSet(e, "force-unlock", forceUnlockHelp)
	fs.BoolVar(&force, "force", false, "do not ask for confirmation")
	fs.BoolVar(&input, "input", true, "ask for confirmation on a terminal; -input=false never asks, and then needs -force")
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return errors.New("force-unlock: no lock ID given; it is printed by the run that was refused the lock (run 'recall force-unlock -h' for usage)")
	}
	arg, err := oneArg("force-unlock", "lock ID", pos)
	if err != nil {
		return err
	}
	if !input && !force {
		return errors.New("force-unlock -input=false needs -force: it will not ask for confirmation; pass -force to unlock without asking")
	}
	id := strings.TrimSpace(arg)
	if id == "" {
		return errors.New("force-unlock: the lock ID is empty")
	}

	b, err := openBackend(cf.state, cf.workspace)
	if err != nil {
		return err
	}
	defer b.Close()

	if !force {
		if !e.stdinTTY {
			return fmt.Errorf("force-unlock needs confirmation, but the input is not a terminal: pass -force to unlock %s without asking", b)
		}
		prompt := fmt.Sprintf("Do you really want to force-unlock %s (lock ID %s)?\n"+
			"  If the run holding it is still going, it will be stopped from writing the state.\n"+
			"  Only 'yes' will be accepted to confirm: ", b, id)
		if err := askYes(e, prompt, "Force-unlock cancelled; the lock was not touched."); err != nil {
			return err
		}
	}

	if err := b.ForceUnlock(ctx, id); err != nil {
		return fmt.Errorf("force-unlock: %w", err)
	}
	fmt.Fprintf(e.stdout, "Lock %s on %s released. Other recall runs can now lock the state.\n", id, b)
	return nil
}
