package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

const stateShowHelp = `
Usage: recall state show [-state LOC] [-workspace NAME] [-format human|json | -json] ID...

  Shows what the state records for each message ID: its outcome,
  Clickatell's status and description, the manifest group that asked for
  it, and when it was recorded. An ID of "-" reads IDs from standard
  input, one per line. An ID that is not in the state is an error naming
  it (exit 1); the others are still shown. 'state show' reads the state
  without taking its lock.

  -format json prints {"messages": [{"id", "outcome", "status",
  "description", "group", "at"}, ...], "not_in_state": [ID, ...]}.

Examples:

  recall state show 360586640fe9846954897dffe6c13dfc

  # The outcome of every message that could not be stopped, as JSON.
  recall state list -outcome too_late | cut -d' ' -f1 | recall state show -format json -
`

// stateShowRecord is one message of 'state show -format json', named as
// in the state file.
type stateShowRecord struct {
	ID          string `json:"id"`
	Outcome     string `json:"outcome"`
	Status      string `json:"status"`
	Description string `json:"description"`
	Group       string `json:"group"`
	At          string `json:"at"`
}

func runStateShow(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var out outputFlags
	fs := cf.stateFlagSet(e, "state show", stateShowHelp)
	out.add(fs, "output `FORMAT`: human or json")
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return err
	}
	if err := out.check(fs, "human", "json"); err != nil {
		return err
	}
	format := out.format
	if len(pos) == 0 {
		return errors.New("state show: no message IDs given; run 'recall state show -h' for usage")
	}
	ids, err := parseIDArgs(e.stdin, pos)
	if err != nil {
		return fmt.Errorf("state show: %w", err)
	}
	b, s, err := loadState(ctx, &cf)
	if err != nil {
		return err
	}
	defer b.Close()
	found := []stateShowRecord{}
	missing := []string{}
	for _, id := range ids {
		r, ok := s.Lookup(id)
		if !ok {
			missing = append(missing, id.String())
			continue
		}
		found = append(found, stateShowRecord{
			ID:          id.String(),
			Outcome:     r.Outcome.String(),
			Status:      r.Status,
			Description: r.Description,
			Group:       r.Group,
			At:          r.At.UTC().Format(time.RFC3339),
		})
	}
	if format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Messages   []stateShowRecord `json:"messages"`
			NotInState []string          `json:"not_in_state"`
		}{found, missing}); err != nil {
			return err
		}
	} else {
		var sb strings.Builder
		for i, r := range found {
			if i > 0 {
				sb.WriteByte('\n')
			}
			group := r.Group
			if group == "" {
				group = "-"
			}
			fmt.Fprintf(&sb, "%s\n  outcome:     %s\n  status:      %s\n  description: %s\n  group:       %s\n  at:          %s\n",
				r.ID, r.Outcome, orDash(oneLine(r.Status, 40)), orDash(oneLine(r.Description, 200)), oneLine(group, 100), r.At)
		}
		if _, err := fmt.Fprint(e.stdout, sb.String()); err != nil {
			return err
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("state show: %s not in the state at %s: %s",
			plural(len(missing), "message is", "messages are"), b.String(), listNames(missing, 10))
	}
	return nil
}

// orDash is s, or "-" when s is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
