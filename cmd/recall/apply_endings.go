package main

import (
	"strings"

	"github.com/recallhq/recall/reconcile"
)

// applyHeadline opens apply's closing line. "Apply complete!" only when
// every planned message settled and the state was saved; otherwise it says
// what went wrong, as the lines after it do in detail.
func applyHeadline(r *reconcile.ApplyResult, saved bool) string {
	switch {
	case !saved && r.Interrupted:
		return "Apply interrupted, and the state could not be saved!"
	case !saved && r.Remaining() > r.Failed:
		return "Apply stopped, and the state could not be saved!"
	case !saved:
		// Not "complete": the error that follows says how to recover.
		return "Apply finished, but the state could not be saved!"
	case r.Interrupted:
		return "Apply interrupted!"
	case r.Remaining() > r.Failed:
		// Messages never tried: the run stopped; its error follows.
		return "Apply stopped!"
	case r.Failed > 0:
		return "Apply finished with failures: " + plural(r.Failed, "message", "messages") + " not settled."
	}
	return "Apply complete!"
}

// notCancelledLine explains, when every planned message settled but not
// all were cancelled, what became of the others and that no rerun will
// change it (exit 1, or 2 with -detailed-exitcode); "" otherwise.
func notCancelledLine(r *reconcile.ApplyResult) string {
	if r.Remaining() > 0 || r.Interrupted || r.Cancelled == r.Total {
		return ""
	}
	var parts []string
	if r.TooLate > 0 {
		parts = append(parts, commas(r.TooLate)+" too late (going or gone out)")
	}
	if r.NotFound > 0 {
		parts = append(parts, commas(r.NotFound)+" not found (unknown to Clickatell)")
	}
	if r.NotDelivered > 0 {
		parts = append(parts, commas(r.NotDelivered)+" not delivered (Clickatell will not deliver it)")
	}
	n := r.Total - r.Cancelled
	verb := "were"
	if n == 1 {
		verb = "was"
	}
	return plural(n, "message", "messages") + " " + verb + " not cancelled: " + strings.Join(parts, ", ") +
		". They are settled: another apply will not try them again."
}

// applyExitCode is the exit code of an apply whose run ended without an
// error: 0 when every planned message was cancelled; otherwise 1, or with
// -detailed-exitcode 2 when every message settled (some too late, not
// found or not delivered: a rerun cannot help) and 1 when some are left
// unsettled (a rerun can help).
func applyExitCode(r *reconcile.ApplyResult, detailed bool) int {
	switch {
	case r.Complete():
		return 0
	case detailed && !r.Interrupted && r.Remaining() == 0:
		return 2
	}
	return 1
}
