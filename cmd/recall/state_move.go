package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/recallhq/recall/msgid"
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
  to the -state location, under that state's lock. FILE "-" reads
  standard input. Use it to move a local state to PostgreSQL, to restore a
  backup, or to save recall.state.errored.json after an apply could not
  write its state.

  Where there is no state yet, or the file is a newer version of the same
  state (same lineage, higher serial, every message of the state in it),
  the file is written as it is. Otherwise, for a state of the same lineage
  (say another apply has run since the file was written), push MERGES the
  file into it: every settled message of the file that the state lacks is
  added, in one write that bumps the serial; a message in both keeps the
  state's record, and push warns when the two disagree on its outcome.
  Nothing settled is ever dropped.

  A state of another lineage (a different state altogether) is refused
  unless -force. -force replaces the state with the file as it is,
  dropping what only the state holds; the pushed state gets a serial above
  the one it replaces, so that plans saved against that one go stale.

Examples:

  # Move the local state to PostgreSQL.
  recall state push -state postgres://recall@db.internal/recall recall.state.json

  # Save the state an apply could not write (merged into the state, also
  # if another apply has written it since).
  recall state push -state "$RECALL_STATE" -workspace eu recall.state.errored.json

  # Restore an older backup over a newer state, on purpose.
  recall state push -state "$RECALL_STATE" -force eu.state.json
`

func runStatePull(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	fs := cf.stateFlagSet(e, "state pull", statePullHelp)
	pos, err := parseArgs(e, fs, args)
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
	fs := cf.stateFlagSet(e, "state push", statePushHelp)
	fs.BoolVar(&force, "force", false, "replace the state with the file as it is, instead of merging (also one of another lineage)")
	cf.lock(fs)
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return err
	}
	file, err := oneArg("state push", "state file", pos)
	if err != nil {
		return err
	}
	src, err := readStateFile(e, file)
	if err != nil {
		return fmt.Errorf("state push: %w", err)
	}

	b, lock, err := openLocked(ctx, cf.state, cf.workspace, "state push", cf.lockTimeout)
	if err != nil {
		return err
	}
	defer b.Close()
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
	if dst.Exists() && dst.Lineage == src.Lineage && !force {
		switch {
		case src.Serial > dst.Serial && holdsAll(src, dst):
			// A newer version of the same state: written as it is.
		case sameMessages(src, dst):
			fmt.Fprintf(e.stdout, "%s already holds this state (lineage %s, serial %d); nothing to push.\n", b, dst.Lineage, dst.Serial)
			return nil
		default:
			return mergePush(ctx, e, b, lock, pos[0], src, dst)
		}
	}
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
			return fmt.Errorf("state push: refusing to overwrite: %s; nothing was written. Check that -state and -workspace name the state you mean, or pass -force to replace it with the file", refusal)
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
		plural(push.Len(), "message", "messages"), b, push.Lineage, push.Serial)
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
	return a.Len() == b.Len() && holdsAll(a, b)
}

// holdsAll reports whether every message of b is in a with the same record.
func holdsAll(a, b *state.State) bool {
	for id, rb := range b.All() {
		if ra, ok := a.Lookup(id); !ok || !ra.Equal(rb) {
			return false
		}
	}
	return true
}

// maxConflictExamples bounds the messages a merge's conflict warning names.
const maxConflictExamples = 5

// mergePush merges src, a state of dst's lineage, into dst (as b last
// read it, under lock): the messages only src holds are committed in one
// write, which bumps the serial; a message in both keeps dst's record.
// Settled outcomes are all answers Clickatell gave, so the union loses
// nothing; where the two disagree on an outcome, push says so.
func mergePush(ctx context.Context, e *env, b state.Backend, lock state.Lock, file string, src, dst *state.State) error {
	var changes []state.Change
	var conflicts []msgid.ID
	for id, r := range src.All() {
		if cur, ok := dst.Lookup(id); ok {
			if cur.Outcome != r.Outcome {
				conflicts = append(conflicts, id)
			}
			continue
		}
		rec := r
		changes = append(changes, state.Change{ID: id, Record: &rec})
	}
	slices.SortFunc(changes, func(x, y state.Change) int { return msgid.Compare(x.ID, y.ID) })
	name := file
	if file == "-" {
		name = "standard input"
	}
	if len(conflicts) > 0 {
		slices.SortFunc(conflicts, msgid.Compare)
		var ex []string
		for _, id := range conflicts[:min(len(conflicts), maxConflictExamples)] {
			ex = append(ex, fmt.Sprintf("%s (%s: %s, %s: %s)", id, b, dst.Get(id).Outcome, name, src.Get(id).Outcome))
		}
		more := ""
		if n := len(conflicts) - len(ex); n > 0 {
			more = fmt.Sprintf(", and %s more", plural(n, "other", "others"))
		}
		fmt.Fprintf(e.stderr, "Warning: %s settled differently in %s and in the state; kept the state's records: %s%s.\n",
			plural(len(conflicts), "message is", "messages are"), name, strings.Join(ex, "; "), more)
	}
	if len(changes) == 0 {
		fmt.Fprintf(e.stdout, "Nothing to merge: every message of %s is already in %s (serial %d).\n", name, b, dst.Serial)
		return nil
	}
	before := dst.Serial
	if err := b.Commit(ctx, changes); err != nil {
		return fmt.Errorf("state push: merging %s: %w; the state at %s is unchanged", name, err, b)
	}
	after := dst.Serial // Commit updates the State it read in place
	if err := lock.Unlock(); err != nil {
		fmt.Fprintf(e.stderr, "Warning: releasing the state lock: %v\n", err)
	}
	fmt.Fprintf(e.stdout, "Merged %s from %s into %s: serial %d -> %d.\n", plural(len(changes), "message", "messages"), name, b, before, after)
	return nil
}
