package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
)

const statePullHelp = `
Usage: recall state pull [-state LOC] [-workspace NAME]

  Prints the state in the state file format (JSON, one message per line,
  in ID order) to standard output: to back up a PostgreSQL state, to look
  at it with other tools, or, with 'state push', to move it elsewhere.
  It does not lock: what it prints is one consistent version.

Examples:

  # Back up a workspace to a file.
  recall state pull -state postgres://recall@db.internal/recall -workspace eu > eu.state.json

  # Copy a workspace to another database.
  recall state pull -state "$OLD_URL" | recall state push -state "$NEW_URL" -

  # Move a PostgreSQL state back to a local file.
  recall state pull -state "$RECALL_STATE" > recall.state.json
`

const statePushHelp = `
Usage: recall state push [-state LOC] [-workspace NAME] [-force] [-lock-timeout D] FILE

  Writes a state file (as 'state pull' prints it, or a recall.state.json)
  to the -state location, replacing what is there, under that state's
  lock. FILE "-" reads standard input. Use it to move a local state to
  PostgreSQL, to restore a backup, or to save recall.state.errored.json
  after an apply could not write its state.

  push refuses, unless -force, to overwrite a state of another lineage
  (a different state altogether), a state with a higher serial (newer
  than the file), or one with the same serial but other content. With
  -force, the pushed state gets a serial above the one it replaces, so
  that plans saved against that one go stale.

Examples:

  # Move the local state to PostgreSQL.
  recall state push -state postgres://recall@db.internal/recall recall.state.json

  # Save the state an apply could not write.
  recall state push -state "$RECALL_STATE" -workspace eu recall.state.errored.json

  # Restore an older backup over a newer state, on purpose.
  recall state push -state "$RECALL_STATE" -force eu.state.json
`

func init() {
	stateCommands["pull"] = &command{name: "pull", synopsis: "Print the state as a state file, to stdout", run: runStatePull}
	stateCommands["push"] = &command{name: "push", synopsis: "Write a state file to the -state location", run: runStatePush}
}

func runStatePull(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	fs := newFlagSet(e, "state pull", statePullHelp)
	cf.stateFlags(fs)
	pos, err := parseInterspersed(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("state pull: unexpected argument %q; the state goes to standard output (redirect it to a file); run 'recall state pull -h' for usage", pos[0])
	}
	b, s, err := loadState(ctx, &cf)
	if err != nil {
		return err
	}
	defer b.Close()
	if !s.Exists() {
		return fmt.Errorf("state pull: there is no state at %s yet; nothing to pull", b)
	}
	w := bufio.NewWriterSize(e.stdout, 1<<20)
	if err := local.Encode(w, s); err != nil {
		return fmt.Errorf("state pull: %w", err)
	}
	return w.Flush()
}

func runStatePush(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var force bool
	var lockTimeout time.Duration
	fs := newFlagSet(e, "state push", statePushHelp)
	cf.stateFlags(fs)
	fs.BoolVar(&force, "force", false, "overwrite a state of another lineage, or a newer one")
	fs.DurationVar(&lockTimeout, "lock-timeout", 0, "how long to wait for the state lock, e.g. 30s (default: fail at once)")
	pos, err := parseInterspersed(e, fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return errors.New("state push: no state file given; run 'recall state push -h' for usage")
	case len(pos) > 1:
		return fmt.Errorf("state push: one state file expected, got %d arguments; run 'recall state push -h' for usage", len(pos))
	}
	src, err := readStateFile(e, pos[0])
	if err != nil {
		return fmt.Errorf("state push: %w", err)
	}

	b, err := openBackend(cf.state, cf.workspace)
	if err != nil {
		return err
	}
	defer b.Close()
	lock, err := b.Lock(ctx, state.LockRequest{Operation: "state push", Timeout: lockTimeout})
	if err != nil {
		return lockError(err, lockTimeout)
	}
	defer lock.Unlock()
	target := b
	dst, err := b.Read(ctx)
	if err != nil {
		if !errors.Is(err, state.ErrCorrupt) {
			return stateReadError(b, err)
		}
		if !force {
			return fmt.Errorf("state push: %w\nTo replace the corrupt state with %s, pass -force", err, pos[0])
		}
		// b refuses to write over a state it could not read; a fresh
		// handle, under b's lock, may.
		if target, err = openBackend(cf.state, cf.workspace); err != nil {
			return err
		}
		defer target.Close()
		fmt.Fprintf(e.stderr, "Warning: overwriting the corrupt state at %s (-force).\n", b)
		dst = state.New()
	}

	push := *src
	if dst.Exists() {
		refusal := ""
		switch {
		case dst.Lineage != src.Lineage:
			refusal = fmt.Sprintf("%s holds another state (lineage %s), not a version of the file's (lineage %s)", b, dst.Lineage, src.Lineage)
		case src.Serial < dst.Serial:
			refusal = fmt.Sprintf("%s is newer (serial %d) than the file (serial %d)", b, dst.Serial, src.Serial)
		case src.Serial == dst.Serial && !sameMessages(src, dst):
			refusal = fmt.Sprintf("%s has the file's serial (%d) but other content", b, dst.Serial)
		case src.Serial == dst.Serial:
			fmt.Fprintf(e.stdout, "%s already holds this state (lineage %s, serial %d); nothing to push.\n", b, dst.Lineage, dst.Serial)
			return nil
		}
		if refusal != "" && !force {
			return fmt.Errorf("state push: refusing to overwrite: %s; nothing was written. Check that -state and -workspace name the state you mean, or pass -force to overwrite it", refusal)
		}
		if refusal != "" {
			// Above what it replaces, so that plans saved against the
			// overwritten state are stale.
			push.Serial = max(src.Serial, dst.Serial+1)
		}
	}
	if push.Serial == 0 {
		push.Serial = 1 // a pushed state exists
	}
	if err := target.Replace(ctx, &push); err != nil {
		return fmt.Errorf("state push: %w; the state at %s is unchanged", err, b)
	}
	if err := lock.Unlock(); err != nil {
		fmt.Fprintf(e.stderr, "Warning: releasing the state lock: %v\n", err)
	}
	fmt.Fprintf(e.stdout, "Pushed %s to %s: lineage %s, serial %d.\n",
		plural(len(push.Messages), "message", "messages"), b, push.Lineage, push.Serial)
	return nil
}

// readStateFile reads and checks a state file; "-" is standard input.
func readStateFile(e *env, path string) (*state.State, error) {
	var r io.Reader = e.stdin
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("state file %s does not exist", path)
			}
			return nil, err
		}
		defer f.Close()
		r, name = f, path
	}
	s, err := local.Decode(r, name)
	if err != nil {
		return nil, err
	}
	if s.Lineage == "" {
		return nil, fmt.Errorf("%s has no lineage; it is not a state recall wrote", name)
	}
	return s, nil
}

// sameMessages reports whether two states hold the same messages.
func sameMessages(a, b *state.State) bool {
	if len(a.Messages) != len(b.Messages) {
		return false
	}
	for id, ra := range a.Messages {
		rb, ok := b.Messages[id]
		if !ok || ra.Outcome != rb.Outcome || ra.Status != rb.Status || ra.Description != rb.Description || ra.Group != rb.Group || !ra.At.Equal(rb.At) {
			return false
		}
	}
	return true
}
