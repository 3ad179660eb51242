package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// loadState opens the -state backend and reads it, without locking. A
// state that does not exist yet reads as empty. The caller closes the
// backend.
func loadState(ctx context.Context, cf *commonFlags) (state.Backend, *state.State, error) {
	b, err := openBackend(cf.state, cf.workspace)
	if err != nil {
		return nil, nil, err
	}
	s, err := b.Read(ctx)
	if err != nil {
		b.Close()
		return nil, nil, stateReadError(b, err)
	}
	return b, s, nil
}

// openLocked opens the state at loc (its workspace) and takes its lock
// for the operation op, waiting up to timeout (-lock-timeout). The caller
// closes the backend and unlocks.
func openLocked(ctx context.Context, loc, workspace, op string, timeout time.Duration) (state.Backend, state.Lock, error) {
	b, err := openBackend(loc, workspace)
	if err != nil {
		return nil, nil, err
	}
	lock, err := state.LockWithContext(ctx, b, state.LockRequest{Operation: op, Timeout: timeout})
	if err != nil {
		b.Close()
		return nil, nil, lockError(err, timeout)
	}
	return b, lock, nil
}

// stateReadError is the error for a state that cannot be read. The
// backends' errors already name the state and say what to do (a corrupt
// state is never overwritten; a newer format needs a newer recall).
func stateReadError(b state.Backend, err error) error {
	return err
}

// lockError adds what to do to a refused lock; waited is the
// -lock-timeout the run gave.
func lockError(err error, waited time.Duration) error {
	var le *state.LockError
	if !errors.As(err, &le) {
		return fmt.Errorf("could not take the state lock: %w", err)
	}
	if waited > 0 {
		return &diagnostic{Summary: err.Error(), Err: err, Detail: "Another recall run is still applying or changing this state. Wait for it to finish, or pass a longer -lock-timeout"}
	}
	return &diagnostic{Summary: err.Error(), Err: err, Detail: "Another recall run is applying or changing this state. Wait for it to finish, or pass -lock-timeout to wait for it (e.g. -lock-timeout=5m)"}
}

const stateListHelp = `
Usage: recall state list [-state LOC] [-workspace NAME] [-outcome OUTCOME] [-group GROUP]

  Lists the settled messages of the state, one per line, in ID order:

    ID OUTCOME GROUP AT

  separated by single spaces (group names never contain one), for grep,
  awk and cut. A state that does not exist yet lists nothing.

Examples:

  # Every settled message.
  recall state list

  # The messages that could not be stopped in time.
  recall state list -outcome too_late

  # IDs of one group, for another tool.
  recall state list -group black-friday | cut -d' ' -f1
`

const stateRmHelp = `
Usage: recall state rm [-state LOC] [-workspace NAME] [-lock-timeout D]
                       [-outcome OUTCOME] [-dry-run] [ID...]

  Forgets settled messages, so that the next 'recall apply' tries them
  again if the manifest still lists them. It changes only recall's record:
  nothing is sent to Clickatell (a cancellation cannot be undone).

  'state rm' takes the state lock. Every ID must be a well-formed message
  ID that is in the state; otherwise nothing is removed. An ID of "-"
  reads IDs from standard input, one per line. -outcome forgets every
  message recorded with that outcome (together with any IDs given); at
  least one of the two is needed. -dry-run lists what would be forgotten
  and changes nothing.

Examples:

  # Try two messages again on the next apply.
  recall state rm 360586640fe9846954897dffe6c13dfc b09e1b1bdb5a070c978f03b6836b955c

  # Forget every message that was not found (say, after an apply that ran
  # with another account's token).
  recall state rm -dry-run -outcome not_found
  recall state rm -outcome not_found

  # Wait up to a minute for a running apply to release the lock.
  recall state rm -lock-timeout 1m 360586640fe9846954897dffe6c13dfc
`

func runStateList(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var outcomeName, group string
	fs := cf.stateFlagSet(e, "state list", stateListHelp)
	fs.StringVar(&outcomeName, "outcome", "", "list only messages with `OUTCOME`: cancelled, too_late, not_found or not_delivered")
	fs.StringVar(&group, "group", "", "list only messages recorded for `GROUP`")
	if err := parseNoArgs(e, fs, args); err != nil {
		return err
	}
	var want outcome.Outcome
	if outcomeName != "" {
		o, err := outcome.Parse(outcomeName)
		if err != nil {
			return fmt.Errorf("state list: -outcome: %v", err)
		}
		want = o
	}
	b, s, err := loadState(ctx, &cf)
	if err != nil {
		return err
	}
	defer b.Close()
	w := bufio.NewWriterSize(e.stdout, 64<<10)
	line := make([]byte, 0, 128)
	for _, id := range s.IDs() {
		r := s.Get(id)
		if want != 0 && r.Outcome != want || group != "" && r.Group != group {
			continue
		}
		line, _ = id.AppendText(line[:0])
		line = append(line, ' ')
		line = append(line, r.Outcome.String()...)
		line = append(line, ' ')
		if r.Group == "" {
			line = append(line, '-')
		} else {
			line = append(line, r.Group...)
		}
		line = append(line, ' ')
		line = r.At.UTC().AppendFormat(line, time.RFC3339)
		line = append(line, '\n')
		if _, err := w.Write(line); err != nil {
			return err
		}
	}
	return w.Flush()
}

func runStateRm(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var outcomeName string
	var dryRun bool
	fs := cf.stateFlagSet(e, "state rm", stateRmHelp)
	cf.lock(fs)
	fs.StringVar(&outcomeName, "outcome", "", "forget every message recorded with `OUTCOME`, e.g. not_found")
	fs.BoolVar(&dryRun, "dry-run", false, "list the messages that would be forgotten; change nothing")
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return err
	}
	var want outcome.Outcome
	if outcomeName != "" {
		if want, err = outcome.Parse(outcomeName); err != nil {
			return fmt.Errorf("state rm: -outcome: %v; nothing was removed", err)
		}
	}
	if len(pos) == 0 && want == 0 {
		return errors.New("state rm: no message IDs given, and no -outcome; run 'recall state rm -h' for usage")
	}
	var ids []msgid.ID
	if len(pos) > 0 {
		if ids, err = parseIDArgs(e.stdin, pos); err != nil {
			return fmt.Errorf("state rm: nothing was removed: %w", err)
		}
		if len(ids) == 0 && want == 0 {
			return errors.New("state rm: standard input held no message IDs; nothing was removed")
		}
	}

	b, err := openBackend(cf.state, cf.workspace)
	if err != nil {
		return err
	}
	defer b.Close()
	lock := state.Lock(nil)
	if !dryRun {
		// A dry run reads, as 'state list' does, without the lock.
		if lock, err = state.LockWithContext(ctx, b, state.LockRequest{Operation: "state rm", Timeout: cf.lockTimeout}); err != nil {
			return lockError(err, cf.lockTimeout)
		}
		defer lock.Unlock()
	}
	s, err := b.Read(ctx)
	if err != nil {
		return stateReadError(b, err)
	}
	var missing []string
	changes := make([]state.Change, 0, len(ids))
	for _, id := range ids {
		r, ok := s.Lookup(id)
		switch {
		case !ok:
			missing = append(missing, id.String())
		case r.Outcome != want:
			// One of -outcome's is taken below, in ID order.
			changes = append(changes, state.Change{ID: id})
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("state rm: %s not in the state at %s: %s; nothing was removed",
			plural(len(missing), "message is", "messages are"), b.String(), listNames(missing, 10))
	}
	if want != 0 {
		for _, id := range s.IDs() {
			if s.Get(id).Outcome == want {
				changes = append(changes, state.Change{ID: id})
			}
		}
	}
	if dryRun {
		return listRemovals(e, s, changes)
	}
	if len(changes) == 0 {
		fmt.Fprintf(e.stdout, "No message in the state at %s is recorded %s; nothing was removed.\n", b.String(), want)
		return nil
	}
	if err := b.Commit(ctx, changes); err != nil {
		return fmt.Errorf("state rm: writing the state: %w; nothing was removed", err)
	}
	if err := lock.Unlock(); err != nil {
		fmt.Fprintf(e.stderr, "Warning: releasing the state lock: %v\n", err)
	}
	fmt.Fprintf(e.stdout, "Removed %s.\n", plural(len(changes), "message", "messages"))
	return nil
}

// parseIDArgs parses message IDs given as arguments, "-" meaning one ID a
// line from stdin. Duplicates are dropped; every malformed ID is reported.
func parseIDArgs(stdin io.Reader, args []string) ([]msgid.ID, error) {
	var ids []msgid.ID
	seen := map[msgid.ID]bool{}
	var bad []string
	add := func(where, s string) {
		id, err := msgid.Parse(s)
		if err != nil {
			if len(s) > 40 {
				s = s[:40] + "…"
			}
			bad = append(bad, fmt.Sprintf("%s%q: %v", where, s, err))
			return
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	readStdin := false
	for _, a := range args {
		if a != "-" {
			add("", a)
			continue
		}
		if readStdin {
			continue
		}
		readStdin = true
		sc := bufio.NewScanner(stdin)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			add(fmt.Sprintf("stdin:%d: ", n), line)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
	}
	if len(bad) > 0 {
		n := len(bad)
		more := ""
		if len(bad) > 10 {
			more = fmt.Sprintf("\n(and %s more)", commas(len(bad)-10))
			bad = bad[:10]
		}
		return nil, fmt.Errorf("%s:\n%s%s", plural(n, "malformed message ID", "malformed message IDs"), strings.Join(bad, "\n"), more)
	}
	return ids, nil
}

// listRemovals prints what 'state rm -dry-run' would forget, in the format
// of 'state list', and a closing line.
func listRemovals(e *env, s *state.State, changes []state.Change) error {
	w := bufio.NewWriter(e.stdout)
	for _, c := range changes {
		r := s.Get(c.ID)
		group := r.Group
		if group == "" {
			group = "-"
		}
		fmt.Fprintf(w, "%s %s %s %s\n", c.ID, r.Outcome, group, r.At.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(w, "Would remove %s; nothing was changed (dry run).\n", plural(len(changes), "message", "messages"))
	return w.Flush()
}
