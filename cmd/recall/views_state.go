package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state"
)

// sortedIDs returns the state's message IDs in ID order.
func sortedIDs(s *state.State) []msgid.ID {
	ids := make([]msgid.ID, 0, len(s.Messages))
	for id := range s.Messages {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, msgid.Compare)
	return ids
}

// stateGroupCounts is one row of 'show' for a state.
type stateGroupCounts struct {
	group                                      string
	cancelled, tooLate, notFound, notDelivered int
	last                                       time.Time
}

// renderStateHuman summarises a state: where it is, lineage and serial,
// counts by outcome, and counts by group.
func renderStateHuman(w io.Writer, loc string, s *state.State, c palette) {
	if !s.Exists() {
		fmt.Fprintf(w, "No state at %s yet: nothing has been applied there.\n", loc)
		return
	}
	byGroup := map[string]*stateGroupCounts{}
	var total stateGroupCounts
	for _, r := range s.Messages {
		g := byGroup[r.Group]
		if g == nil {
			g = &stateGroupCounts{group: r.Group}
			byGroup[r.Group] = g
		}
		for _, x := range []*stateGroupCounts{g, &total} {
			switch r.Outcome {
			case state.Cancelled:
				x.cancelled++
			case state.TooLate:
				x.tooLate++
			case state.NotFound:
				x.notFound++
			case state.NotDelivered:
				x.notDelivered++
			}
			if r.At.After(x.last) {
				x.last = r.At
			}
		}
	}
	fmt.Fprintf(w, "%s %s\n", c.bold("State:"), loc)
	fmt.Fprintf(w, "  lineage:        %s\n", oneLine(s.Lineage, 100))
	fmt.Fprintf(w, "  serial:         %d\n", s.Serial)
	if s.RecallVersion != "" {
		fmt.Fprintf(w, "  written by:     recall %s\n", oneLine(s.RecallVersion, 40))
	}
	fmt.Fprintf(w, "  messages:       %s settled: %s cancelled, %s too late, %s not found%s\n",
		commas(len(s.Messages)), commas(total.cancelled), commas(total.tooLate), commas(total.notFound), notDelivered(total.notDelivered))
	if !total.last.IsZero() {
		fmt.Fprintf(w, "  last settled:   %s\n", total.last.UTC().Format(time.RFC3339))
	}
	if len(byGroup) == 0 {
		return
	}
	rows := make([]*stateGroupCounts, 0, len(byGroup))
	for _, g := range byGroup {
		rows = append(rows, g)
	}
	slices.SortFunc(rows, func(a, b *stateGroupCounts) int {
		if a.group < b.group {
			return -1
		}
		if a.group > b.group {
			return 1
		}
		return 0
	})
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	// The last column ends the line: no tab after it, so no trailing
	// padding.
	// A NOT DELIVERED column only when the state has such messages, so
	// that the table stays as scripts know it otherwise.
	nd := total.notDelivered > 0
	if nd {
		fmt.Fprintln(tw, "GROUP\tCANCELLED\tTOO LATE\tNOT FOUND\tNOT DELIVERED\tLAST SETTLED")
	} else {
		fmt.Fprintln(tw, "GROUP\tCANCELLED\tTOO LATE\tNOT FOUND\tLAST SETTLED")
	}
	for _, g := range rows {
		name := oneLine(g.group, 64)
		if name == "" {
			name = "(no group)"
		}
		counts := strconv.Itoa(g.cancelled) + "\t" + strconv.Itoa(g.tooLate) + "\t" + strconv.Itoa(g.notFound)
		if nd {
			counts += "\t" + strconv.Itoa(g.notDelivered)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name, counts, g.last.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}
