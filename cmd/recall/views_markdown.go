package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/recallhq/recall/reconcile"
)

// markdownLimit is the most a markdown plan may hold. GitHub refuses
// comments over 65,536 characters; the rest is headroom for what a
// pipeline wraps around it.
const markdownLimit = 60000

// markdownBudget is what renderMarkdown aims for, leaving room for the
// notes that say what was left out.
const markdownBudget = markdownLimit - 2000

// renderMarkdown writes the plan as a pull-request comment: summary table,
// per-group counts, warnings, and the IDs to cancel in a collapsible
// block. It is always under markdownLimit characters: long tables and ID
// lists are cut, and say so.
func renderMarkdown(w io.Writer, p *reconcile.Plan) error {
	_, err := io.WriteString(w, markdownPlan(p))
	return err
}

func markdownPlan(p *reconcile.Plan) string {
	var b strings.Builder
	s := p.Summary

	if s.Cancel > 0 {
		fmt.Fprintf(&b, "### recall plan: %s to cancel\n\n", commas(s.Cancel))
	} else {
		b.WriteString("### recall plan: no changes\n\n")
	}
	fmt.Fprintf(&b, "**%s**\n\n", planSummaryLine(s))

	b.WriteString("| | messages |\n| --- | ---: |\n")
	fmt.Fprintf(&b, "| to cancel | %s |\n", commas(s.Cancel))
	for _, c := range shownOutcomes(s) {
		label := c.label
		if label == "cancelled" {
			label = "already cancelled"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", label, commas(c.n))
	}
	if s.Orphaned > 0 {
		fmt.Fprintf(&b, "| orphaned (in state only, left alone) | %s |\n", commas(s.Orphaned))
	}
	b.WriteString("\n")

	// Warnings come before the long parts so they are never cut.
	const maxWarnings = 20
	if len(p.Warnings) > 0 || len(p.Targets) > 0 {
		b.WriteString("> [!WARNING]\n")
		for i, wn := range p.Warnings {
			if i == maxWarnings || b.Len() > markdownLimit/5 {
				fmt.Fprintf(&b, "> - ... and %s more\n", plural(len(p.Warnings)-i, "warning", "warnings"))
				break
			}
			text := mdText(wn.Message, 400)
			if wn.Detail != "" {
				text += " " + mdText(wn.Detail, 300)
			}
			fmt.Fprintf(&b, "> - %s\n", text)
		}
		if len(p.Targets) > 0 {
			fmt.Fprintf(&b, "> - `-target` is in effect: only %s planned; other groups are neither counted nor cancelled.\n",
				mdText(listNames(p.Targets, 10), 400))
		}
		b.WriteString("\n")
	}

	if len(p.Groups) > 0 {
		const maxGroups = 100
		fmt.Fprintf(&b, "#### Groups (%s)\n\n", commas(len(p.Groups)))
		cols := shownOutcomes(s)
		b.WriteString("| group | scheduled_at | reason | to cancel |")
		for _, c := range cols {
			b.WriteString(" " + c.label + " |")
		}
		b.WriteString("\n| --- | --- | --- | ---: |" + strings.Repeat(" ---: |", len(cols)) + "\n")
		for i, g := range p.Groups {
			if i == maxGroups || b.Len() > markdownLimit/2 {
				fmt.Fprintf(&b, "\n_%s not shown; `recall show -format json PLANFILE` lists every group._\n",
					plural(len(p.Groups)-i, "more group is", "more groups are"))
				break
			}
			when := ""
			if g.ScheduledAt != nil {
				when = g.ScheduledAt.UTC().Format(time.RFC3339)
				if g.ScheduledAt.Before(p.CreatedAt) && g.Cancel > 0 {
					when += " ⚠️ past"
				} else if reconcile.InEarlyWindow(*g.ScheduledAt, p.CreatedAt) && g.Cancel > 0 {
					when += " ⚠️ within 5 min"
				}
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | %s |",
				strings.ReplaceAll(g.Name, "`", "'"), when, mdText(g.Reason, 120), commas(g.Cancel))
			for _, c := range settledOutcomes(groupSummary(g)) {
				if slices.ContainsFunc(cols, func(o outcomeCount) bool { return o.label == c.label }) {
					fmt.Fprintf(&b, " %s |", commas(c.n))
				}
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
		markdownEstimate(&b, p)
	}

	if len(p.Orphaned) > 0 {
		names := make([]string, 0, len(p.Orphaned))
		for _, og := range p.Orphaned {
			name := oneLine(og.Group, 64)
			if name == "" {
				name = "(no group)"
			}
			names = append(names, fmt.Sprintf("`%s` (%s)", strings.ReplaceAll(mdText(name, 64), "`", "'"), commas(og.Count)))
		}
		fmt.Fprintf(&b, "%s in state %s in no group of the manifest (orphaned) and will not be touched, recorded under: %s.\n\n",
			plural(s.Orphaned, "message", "messages"), map[bool]string{true: "is", false: "are"}[s.Orphaned == 1], listNames(names, 10))
	}

	if len(p.Changes) > 0 {
		fmt.Fprintf(&b, "<details><summary>%s to cancel</summary>\n\n", plural(len(p.Changes), "message", "messages"))
		foot := fmt.Sprintf("\nPlanned by recall %s at %s against state %s.\n", mdText(p.RecallVersion, 40), p.CreatedAt.UTC().Format(time.RFC3339), stateRefText(p.State))
		budget := markdownBudget - b.Len() - len(foot)
		b.WriteString(markdownIDs(p, budget))
		b.WriteString("</details>\n")
		b.WriteString(foot)
	} else {
		fmt.Fprintf(&b, "Planned by recall %s at %s against state %s.\n", mdText(p.RecallVersion, 40), p.CreatedAt.UTC().Format(time.RFC3339), stateRefText(p.State))
	}
	return b.String()
}

// markdownIDs lists the IDs to cancel by group in code blocks, within
// budget bytes; when the list does not fit it stops at a line boundary
// and says how many were left out.
func markdownIDs(p *reconcile.Plan, budget int) string {
	var b strings.Builder
	const idLine = 33 // 32 hex digits and a newline
	const cutNote = 200
	shown := 0
	next := 0
	full := false
	for _, g := range p.Groups {
		if g.Cancel == 0 {
			continue
		}
		start := next
		for next < len(p.Changes) && p.Changes[next].Group == g.Name {
			next++
		}
		if full {
			continue
		}
		head := fmt.Sprintf("`%s` (%s):\n\n```\n", strings.ReplaceAll(g.Name, "`", "'"), commas(next-start))
		room := (budget - b.Len() - len(head) - len("```\n\n") - cutNote) / idLine
		if room <= 0 {
			full = true
			continue
		}
		b.WriteString(head)
		end := next
		if end-start > room {
			end = start + room
			full = true
		}
		for _, c := range p.Changes[start:end] {
			b.WriteString(c.ID.String())
			b.WriteByte('\n')
		}
		shown += end - start
		b.WriteString("```\n\n")
	}
	if left := len(p.Changes) - shown; left > 0 {
		fmt.Fprintf(&b, "_List cut to fit a comment: %s of %s IDs shown, %s left out. The saved plan (`-out`, or `recall show -format json PLANFILE`) lists them all._\n\n",
			commas(shown), commas(len(p.Changes)), commas(left))
	}
	return b.String()
}

// mdText makes free text safe in a table cell or list item: one line,
// no pipes, no HTML, at most max bytes.
func mdText(s string, max int) string {
	s = oneLine(s, max)
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'")
	return r.Replace(s)
}

func stateRefText(r reconcile.StateRef) string {
	if r.Lineage == "" {
		return "(none yet)"
	}
	return fmt.Sprintf("lineage `%s` serial %d", mdText(r.Lineage, 64), r.Serial)
}

// markdownEstimate writes the estimate of the groups that have a
// deadline: when each would finish, and about how many of its messages
// after the deadline. Nothing when no group has one.
func markdownEstimate(b *strings.Builder, p *reconcile.Plan) {
	var rows []reconcile.GroupPlan
	for _, g := range p.Groups {
		if g.Estimate != nil && g.Estimate.Deadline != nil {
			rows = append(rows, g)
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "#### Estimate\n\nAt %s cancellations a second, earliest deadline first; a group's deadline is its scheduled_at less 5 minutes, when Clickatell may start delivering.\n\n",
		estimateRateText(rows[0].Estimate.Rate))
	b.WriteString("| group | deadline | estimated finish | after the deadline |\n| --- | --- | --- | ---: |\n")
	const maxRows = 100
	for i, g := range rows {
		if i == maxRows || b.Len() > markdownLimit/2 {
			fmt.Fprintf(b, "\n_%s not shown; `recall show -format json PLANFILE` has every group's estimate._\n",
				plural(len(rows)-i, "more group is", "more groups are"))
			break
		}
		e := g.Estimate
		finish, late := e.FinishAt.UTC().Format(time.RFC3339), "0"
		if e.Late > 0 {
			finish += " ⚠️"
			late = "~" + commas(e.Late)
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", strings.ReplaceAll(g.Name, "`", "'"), e.Deadline.UTC().Format(time.RFC3339), finish, late)
	}
	b.WriteString("\n")
}

// estimateRateText formats an estimate's rate without needless decimals:
// 100, 12.5.
func estimateRateText(r float64) string {
	if r == float64(int64(r)) && r < 1e15 {
		return commas(int(r))
	}
	return fmt.Sprintf("%.1f", r)
}
