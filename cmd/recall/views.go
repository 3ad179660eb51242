package main

// Views render engine results for people (human, markdown) and programs
// (JSON). The engine never prints; everything a user reads is built here.

import (
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recallhq/recall/reconcile"
)

// palette colours text when on; off, every method returns its input.
type palette struct{ on bool }

func (p palette) wrap(code, s string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p palette) bold(s string) string   { return p.wrap("1", s) }
func (p palette) red(s string) string    { return p.wrap("31", s) }
func (p palette) green(s string) string  { return p.wrap("32", s) }
func (p palette) yellow(s string) string { return p.wrap("33", s) }
func (p palette) dim(s string) string    { return p.wrap("2", s) }

// commas formats n with thousands separators: 4997 → "4,997". Every
// count recall prints goes through it (reconcile.FormatCount, which the
// engine's own messages use too).
func commas(n int) string { return reconcile.FormatCount(n) }

// plural returns "1 message" or "4,997 messages".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return commas(n) + " " + many
}

// listNames joins at most max names, then says how many were left out.
func listNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + fmt.Sprintf(" and %s more", commas(len(names)-max))
}

// humanPlanView renders a plan for a terminal or a CI log.
type humanPlanView struct {
	color palette
	// maxIDs is how many IDs each group lists before "... and N more".
	maxIDs int
	// width, when set, is the terminal's: warnings wrap at word
	// boundaries to fit it.
	width int
}

const defaultMaxIDs = 10

// render writes the plan to out and its warnings to diag. The two may be
// the same writer; warnings come right before the summary line either way.
func (v humanPlanView) render(out, diag io.Writer, p *reconcile.Plan) {
	c := v.color
	maxIDs := v.maxIDs
	if maxIDs <= 0 {
		maxIDs = defaultMaxIDs
	}

	var settledOnly []reconcile.GroupPlan
	if p.Summary.Cancel > 0 {
		nGroups := 0
		for _, g := range p.Groups {
			if g.Cancel > 0 {
				nGroups++
			}
		}
		fmt.Fprintf(out, "recall will cancel %s in %s:\n", plural(p.Summary.Cancel, "message", "messages"), plural(nGroups, "group", "groups"))
	}

	// Changes are in manifest order, so each group's are contiguous.
	next := 0
	for _, g := range p.Groups {
		if g.Cancel == 0 {
			if g.Total > 0 {
				settledOnly = append(settledOnly, g)
			}
			continue
		}
		fmt.Fprintln(out)
		head := fmt.Sprintf("  # %s: %s to cancel", g.Name, commas(g.Cancel))
		if g.Cancel != g.Total {
			head = fmt.Sprintf("  # %s: %s of %s to cancel", g.Name, commas(g.Cancel), commas(g.Total))
		}
		fmt.Fprintln(out, c.bold(head))
		if g.Reason != "" {
			fmt.Fprintf(out, "      reason:       %s\n", oneLine(g.Reason, 200))
		}
		if g.ScheduledAt != nil {
			when := g.ScheduledAt.UTC().Format(time.RFC3339)
			if g.ScheduledAt.Before(p.CreatedAt) {
				when += c.yellow(" (in the past)")
			} else if reconcile.InEarlyWindow(*g.ScheduledAt, p.CreatedAt) {
				when += c.yellow(" (within 5 minutes: Clickatell may deliver early)")
			}
			fmt.Fprintf(out, "      scheduled_at: %s\n", when)
		}
		if g.Cancel != g.Total {
			// Every count, zeros too: settled is not cancelled. (A group
			// with nothing settled says "N to cancel", not "N of M".)
			fmt.Fprintf(out, "      settled:      %s\n", settledText(groupSummary(g), true))
		}
		shown := 0
		for next < len(p.Changes) && p.Changes[next].Group == g.Name {
			if shown < maxIDs {
				fmt.Fprintf(out, "      %s %s\n", c.red("-"), p.Changes[next].ID)
			}
			shown++
			next++
		}
		if shown > maxIDs {
			fmt.Fprintf(out, "      %s\n", c.dim(fmt.Sprintf("... and %s more", commas(shown-maxIDs))))
		}
	}
	if len(settledOnly) > 0 {
		if p.Summary.Cancel > 0 {
			fmt.Fprintln(out)
		}
		// Each with its counts: settled is not cancelled.
		fmt.Fprintf(out, "Nothing left to cancel in %s:\n", plural(len(settledOnly), "group", "groups"))
		const maxSettledGroups = 10
		for i, g := range settledOnly {
			if i == maxSettledGroups {
				fmt.Fprintf(out, "  ... and %s\n", plural(len(settledOnly)-i, "more group", "more groups"))
				break
			}
			fmt.Fprintf(out, "  # %s: %s\n", g.Name, settledText(groupSummary(g), true))
		}
	}

	if o := p.Summary.Orphaned; o > 0 {
		if p.Summary.Cancel > 0 || len(settledOnly) > 0 {
			fmt.Fprintln(out) // no blank first line when nothing came before
		}
		fmt.Fprintf(out, "%s in state %s in no group of the manifest (orphaned). recall never touches them:\n",
			plural(o, "message", "messages"), map[bool]string{true: "is", false: "are"}[o == 1])
		const maxOrphanGroups = 10
		for i, og := range p.Orphaned {
			if i == maxOrphanGroups {
				fmt.Fprintf(out, "  ... and %s more\n", plural(len(p.Orphaned)-i, "group", "groups"))
				break
			}
			name := oneLine(og.Group, 64)
			if name == "" {
				name = "(no group)"
			}
			ids := make([]string, len(og.Sample))
			for j, id := range og.Sample {
				ids[j] = id.String()
			}
			eg := strings.Join(ids, ", ")
			if og.Count > len(og.Sample) {
				eg += ", ..."
			}
			fmt.Fprintf(out, "  %s: %s (%s)\n", name, commas(og.Count), eg)
		}
		fmt.Fprintln(out, "Use 'recall state list' to see them, 'recall state rm' to forget them.")
	}

	if len(p.Warnings) > 0 || len(p.Targets) > 0 {
		fmt.Fprintln(diag) // on diag, so that stdout alone has no double blank line
	}
	for _, w := range p.Warnings {
		// Wrapped as plain text: the colour codes take no columns.
		text := strings.TrimPrefix(wrap("Warning: "+oneLine(warningText(w), 1000), v.width, "  "), "Warning:")
		fmt.Fprintln(diag, c.yellow("Warning:")+text)
	}
	if len(p.Targets) > 0 {
		fmt.Fprintln(diag, c.yellow("Warning:")+strings.TrimPrefix(wrap("Warning: "+targetWarning(p), v.width, "  "), "Warning:"))
	}

	fmt.Fprintln(out)
	line := planSummaryLine(p.Summary)
	if p.Summary.Cancel > 0 {
		fmt.Fprintln(out, c.bold(line))
	} else {
		fmt.Fprintln(out, c.green(line))
	}
}

// targetWarning is the warning of a plan limited by -target.
func targetWarning(p *reconcile.Plan) string {
	return "-target is in effect: only " + listNames(p.Targets, 10) +
		" planned; other groups' messages are neither counted nor cancelled."
}

// oneLine flattens s to one line of at most max bytes (on a rune
// boundary), so free text cannot break a layout.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// clean replaces control characters other than whitespace (escape
// sequences could rewrite a reviewer's terminal) and invalid UTF-8 with
// U+FFFD. Text from files (reasons, a saved plan, a state) goes through it
// before it is printed.
func clean(s string) string {
	ok := true
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) && !unicode.IsSpace(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) && !unicode.IsSpace(r) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
