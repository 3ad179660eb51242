package main

import (
	"bufio"
	"encoding/json"
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

// writeStateJSON writes s as the state document SPEC describes (the local
// file's format): messages in ID order, one per line.
func writeStateJSON(w io.Writer, s *state.State) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	head := struct {
		FormatVersion int    `json:"format_version"`
		Lineage       string `json:"lineage"`
		Serial        uint64 `json:"serial"`
		RecallVersion string `json:"recall_version"`
	}{state.FormatVersion, s.Lineage, s.Serial, s.RecallVersion}
	hb, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	bw.Write(hb[:len(hb)-2]) // reopen the object: drop "\n}"
	ids := sortedIDs(s)
	if len(ids) == 0 {
		bw.WriteString(",\n  \"messages\": {}\n}\n")
		return bw.Flush()
	}
	bw.WriteString(",\n  \"messages\": {\n")
	type recJSON struct {
		Outcome     state.Outcome `json:"outcome"`
		Status      string        `json:"status,omitempty"`
		Description string        `json:"description,omitempty"`
		Group       string        `json:"group,omitempty"`
		At          string        `json:"at"`
	}
	for i, id := range ids {
		r := s.Messages[id]
		rb, err := json.Marshal(recJSON{r.Outcome, r.Status, r.Description, r.Group, r.At.UTC().Format(time.RFC3339)})
		if err != nil {
			return fmt.Errorf("message %s: %w", id, err)
		}
		bw.WriteString(`    "`)
		bw.WriteString(id.String())
		bw.WriteString(`": `)
		bw.Write(rb)
		if i < len(ids)-1 {
			bw.WriteByte(',')
		}
		bw.WriteByte('\n')
	}
	bw.WriteString("  }\n}\n")
	return bw.Flush()
}

// stateGroupCounts is one row of 'show' for a state.
type stateGroupCounts struct {
	group                        string
	cancelled, tooLate, notFound int
	last                         time.Time
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
			}
			if r.At.After(x.last) {
				x.last = r.At
			}
		}
	}
	fmt.Fprintf(w, "%s %s\n", c.bold("State:"), loc)
	fmt.Fprintf(w, "  lineage:        %s\n", s.Lineage)
	fmt.Fprintf(w, "  serial:         %d\n", s.Serial)
	if s.RecallVersion != "" {
		fmt.Fprintf(w, "  written by:     recall %s\n", s.RecallVersion)
	}
	fmt.Fprintf(w, "  messages:       %s settled: %s cancelled, %s too late, %s not found\n",
		commas(len(s.Messages)), commas(total.cancelled), commas(total.tooLate), commas(total.notFound))
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
	fmt.Fprintln(tw, "GROUP\tCANCELLED\tTOO LATE\tNOT FOUND\tLAST SETTLED\t")
	for _, g := range rows {
		name := g.group
		if name == "" {
			name = "(no group)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", name, strconv.Itoa(g.cancelled), strconv.Itoa(g.tooLate), strconv.Itoa(g.notFound), g.last.UTC().Format(time.RFC3339))
	}
	tw.Flush()
}
