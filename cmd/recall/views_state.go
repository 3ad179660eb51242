package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state"
)

// stateGroupCounts is one row of 'show' for a state.
type stateGroupCounts struct {
	group  string
	counts reconcile.Summary // the settled counts; Cancel is unused
	last   time.Time
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
	for _, r := range s.All() {
		g := byGroup[r.Group]
		if g == nil {
			g = &stateGroupCounts{group: r.Group}
			byGroup[r.Group] = g
		}
		for _, x := range []*stateGroupCounts{g, &total} {
			switch r.Outcome {
			case outcome.Cancelled:
				x.counts.Cancelled++
			case outcome.TooLate:
				x.counts.TooLate++
			case outcome.NotFound:
				x.counts.NotFound++
			case outcome.NotDelivered:
				x.counts.NotDelivered++
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
	fmt.Fprintf(w, "  messages:       %s settled: %s\n", commas(s.Len()), settledText(total.counts, false))
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
	// The columns are the outcomes the total shows, so an optional one
	// appears when any group has it.
	cols := shownOutcomes(total.counts)
	head := "GROUP"
	for _, c := range cols {
		head += "\t" + strings.ToUpper(c.label)
	}
	fmt.Fprintln(tw, head+"\tLAST SETTLED")
	for _, g := range rows {
		name := oneLine(g.group, 64)
		if name == "" {
			name = "(no group)"
		}
		line := name
		for _, c := range settledOutcomes(g.counts) {
			if slices.ContainsFunc(cols, func(o outcomeCount) bool { return o.label == c.label }) {
				line += "\t" + strconv.Itoa(c.n)
			}
		}
		fmt.Fprintln(tw, line+"\t"+g.last.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}
