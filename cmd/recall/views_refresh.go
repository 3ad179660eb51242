package main

import (
	"fmt"
	"strings"

	"github.com/recallhq/recall/reconcile"
)

// outcomeWords are the outcomes as plans say them, in the order summaries
// list them; an outcome not listed here comes after them, as spelled.
var outcomeWords = []struct{ outcome, words string }{
	{"cancelled", "cancelled"},
	{"too_late", "too late"},
	{"not_delivered", "not delivered"},
	{"not_found", "not found"},
}

// byOutcome says "10 cancelled, 2 too late" for a ByOutcome map.
func byOutcome(m map[string]int) string {
	var parts []string
	seen := map[string]bool{}
	for _, o := range outcomeWords {
		seen[o.outcome] = true
		if n := m[o.outcome]; n > 0 {
			parts = append(parts, commas(n)+" "+o.words)
		}
	}
	for o, n := range m {
		if !seen[o] && n > 0 {
			parts = append(parts, commas(n)+" "+strings.ReplaceAll(o, "_", " "))
		}
	}
	return strings.Join(parts, ", ")
}

// refreshCounts says "12 would be recorded (10 cancelled, 2 too late), 3
// still scheduled, 40 unchanged, 1 drifted" (would) or "12 recorded (…)…".
func refreshCounts(c reconcile.RefreshCounts, failed int, would bool) string {
	rec := "recorded"
	if would {
		rec = "would be recorded"
	}
	s := commas(c.Record) + " " + rec
	if c.Record > 0 {
		s += " (" + byOutcome(c.ByOutcome)
		if c.Updated > 0 {
			s += fmt.Sprintf("; %s replacing another outcome", commas(c.Updated))
		}
		s += ")"
	}
	s += fmt.Sprintf(", %s still scheduled, %s unchanged, %s drifted", commas(c.Scheduled), commas(c.Unchanged), commas(c.Drifted))
	if failed > 0 {
		s += fmt.Sprintf(", %s failed", commas(failed))
	}
	return s
}

// refreshSummaryLine is plan -refresh-only's last line.
func refreshSummaryLine(res *reconcile.ApplyResult) string {
	return "Refresh: " + refreshCounts(res.Refresh.RefreshCounts, res.Failed, true) + "."
}

// renderRefreshHuman writes what a refresh found: the messages to record
// by group (long lists shortened), the still scheduled ones, the failures,
// and the summary line. Drift warnings were printed as the run's
// diagnostics, on stderr.
func renderRefreshHuman(e *env, p *reconcile.Plan, res *reconcile.ApplyResult, would bool, c palette) {
	out := e.stdout
	rf := res.Refresh
	if rf.Record > 0 {
		n := 0
		for _, g := range rf.Groups {
			if g.Record > 0 {
				n++
			}
		}
		verb := "would record"
		if !would {
			verb = "recorded"
		}
		fmt.Fprintf(out, "\nrecall %s %s in %s:\n", verb, plural(rf.Record, "message", "messages"), plural(n, "group", "groups"))
		for _, g := range rf.Groups {
			if g.Record == 0 {
				continue
			}
			fmt.Fprintln(out)
			fmt.Fprintln(out, c.bold(fmt.Sprintf("  # %s: %s to record (%s)", g.Name, commas(g.Record), byOutcome(g.ByOutcome))))
			for _, x := range g.Examples {
				line := fmt.Sprintf("      %s %s %s", c.yellow("~"), x.ID, x.Outcome)
				if x.Was != "" {
					line += " (was " + x.Was + ")"
				}
				if x.Status != "" || x.Description != "" {
					line += ": " + strings.TrimSpace(x.Status+" "+oneLine(x.Description, 80))
				}
				fmt.Fprintln(out, line)
			}
			if g.Record > len(g.Examples) {
				fmt.Fprintf(out, "      %s\n", c.dim(fmt.Sprintf("... and %s more", commas(g.Record-len(g.Examples)))))
			}
		}
	}
	if rf.Scheduled > 0 {
		fmt.Fprintf(out, "\n%s still scheduled (011): not recorded; 'recall apply' cancels %s.\n",
			plural(rf.Scheduled, "message is", "messages are"), map[bool]string{true: "it", false: "them"}[rf.Scheduled == 1])
	}
	printFailures(out, "%s could not be refreshed (nothing was recorded for "+map[bool]string{true: "it", false: "them"}[res.Failed == 1]+"):", res.Failures)
	if len(p.Targets) > 0 {
		fmt.Fprintln(e.stderr, c.yellow("Warning:")+" "+targetWarning(p))
	}
	if would {
		fmt.Fprintln(out)
		line := refreshSummaryLine(res)
		if rf.Drifted > 0 || res.Failed > 0 {
			fmt.Fprintln(out, c.yellow(line))
		} else {
			fmt.Fprintln(out, c.bold(line))
		}
	}
}

// refreshSummary is apply -refresh-only's closing line; saved says whether
// the state was saved.
func (v *applyHuman) refreshSummary(r *reconcile.ApplyResult, saved bool) {
	head := "Refresh complete!"
	switch {
	case !saved:
		head = "Refresh finished, but the state could not be saved!"
	case r.Interrupted:
		head = "Refresh interrupted!"
	case r.Done() < r.Total:
		head = "Refresh stopped!"
	case r.Failed > 0:
		// As apply's: "complete" only when every status was read.
		head = "Refresh finished with failures: " + plural(r.Failed, "message", "messages") + " not refreshed."
	}
	if v.color {
		color := "\x1b[1;32m"
		if !saved || r.Failed > 0 || r.Done() < r.Total || r.Refresh.Drifted > 0 {
			color = "\x1b[1;33m"
		}
		head = color + head + "\x1b[0m"
	}
	w := v.e.stdout
	fmt.Fprintf(w, "\n%s Messages: %s.\n", head, refreshCounts(r.Refresh.RefreshCounts, r.Failed, false))
	for _, d := range r.Refresh.Drift {
		fmt.Fprintf(w, "  %s\n", reconcile.DriftSummary(d))
	}
	printFailures(w, "%s could not be refreshed; the next refresh asks again:", r.Failures)
}

// doing names what the run does, for its start line and progress.
func (v *applyHuman) doing() string {
	if v.refresh {
		return "Refreshing"
	}
	return "Cancelling"
}
