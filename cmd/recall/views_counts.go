package main

import (
	"fmt"
	"strings"

	"github.com/recallhq/recall/reconcile"
)

// outcomeCount is the count of one settled outcome, as the views show it.
type outcomeCount struct {
	// n is how many messages settled with the outcome.
	n int
	// label names the outcome in text: "cancelled", "too late".
	label string
	// optional counts are shown only when non-zero (SPEC: "`, 4 not
	// delivered` before the full stop when there are any").
	optional bool
}

// settledOutcomes lists s's settled counts in the order every view (plan,
// show, markdown, the state's summary) shows them. It is the one place
// that knows the settled outcomes: a new outcome is a new line here.
func settledOutcomes(s reconcile.Summary) []outcomeCount {
	return []outcomeCount{
		{n: s.Cancelled, label: "cancelled"},
		{n: s.TooLate, label: "too late"},
		{n: s.NotFound, label: "not found"},
		{n: s.NotDelivered, label: "not delivered", optional: true},
	}
}

// groupSummary is a group's counts as a Summary, for settledOutcomes.
func groupSummary(g reconcile.GroupPlan) reconcile.Summary {
	return reconcile.Summary{Cancel: g.Cancel, Cancelled: g.Cancelled, TooLate: g.TooLate, NotFound: g.NotFound, NotDelivered: g.NotDelivered}
}

// shownOutcomes are the outcomes of s a view shows: every required one,
// and the optional ones that are non-zero.
func shownOutcomes(s reconcile.Summary) []outcomeCount {
	var out []outcomeCount
	for _, c := range settledOutcomes(s) {
		if !c.optional || c.n != 0 {
			out = append(out, c)
		}
	}
	return out
}

// settledTotal is how many messages s counts as settled.
func settledTotal(s reconcile.Summary) int {
	n := 0
	for _, c := range settledOutcomes(s) {
		n += c.n
	}
	return n
}

// settledText says "98 already cancelled, 2 too late, 1 not found" (with
// already) or "98 cancelled, 2 too late, 1 not found": every count, zeros
// included, so that a reader always sees how many were cancelled.
func settledText(s reconcile.Summary, already bool) string {
	cs := shownOutcomes(s)
	parts := make([]string, len(cs))
	for i, c := range cs {
		label := c.label
		if already && label == "cancelled" {
			label = "already cancelled"
		}
		parts[i] = commas(c.n) + " " + label
	}
	return strings.Join(parts, ", ")
}

// planSummaryLine is the plan's last line, as SPEC spells it:
// "Plan: 3 to cancel, 98 already cancelled, 2 too late, 1 not found." or,
// with nothing to cancel, "No changes. 20,000 listed messages are settled:
// 0 cancelled, 0 too late, 20,000 not found." It never says "all settled":
// settled is not cancelled.
func planSummaryLine(s reconcile.Summary) string {
	if s.Cancel > 0 {
		return fmt.Sprintf("Plan: %s to cancel, %s.", commas(s.Cancel), settledText(s, true))
	}
	n := settledTotal(s)
	if n == 0 {
		return "No changes. The manifest lists no messages."
	}
	return fmt.Sprintf("No changes. %s settled: %s.", plural(n, "listed message is", "listed messages are"), settledText(s, false))
}

// notDelivered is ", 4 not delivered" for a summary line, or "" for none:
// the outcome is optional in every view (see settledOutcomes).
func notDelivered(n int) string {
	if n == 0 {
		return ""
	}
	return ", " + commas(n) + " not delivered"
}
