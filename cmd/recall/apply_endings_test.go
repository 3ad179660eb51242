package main

import (
	"strings"
	"testing"

	"github.com/recallhq/recall/reconcile"
)

// TestApplyEndings: the closing line, the not-cancelled line and the exit
// codes, with and without -detailed-exitcode, for every way a run ends.
func TestApplyEndings(t *testing.T) {
	for _, tt := range []struct {
		name        string
		res         reconcile.ApplyResult
		saved       bool
		head        string
		notCanc     string // a substring; "" for no line
		code, dcode int
	}{
		{name: "all cancelled", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 3, Cancelled: 3}}, saved: true,
			head: "Apply complete!", code: 0, dcode: 0},
		{name: "all settled, some too late", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 4, Cancelled: 3, TooLate: 1}}, saved: true,
			head: "Apply complete!", notCanc: "1 message was not cancelled: 1 too late (going or gone out). They are settled", code: 1, dcode: 2},
		{name: "all settled, every outcome", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 10, Cancelled: 1, TooLate: 2, NotFound: 3, NotDelivered: 4}}, saved: true,
			head: "Apply complete!", notCanc: "9 messages were not cancelled: 2 too late (going or gone out), 3 not found (unknown to Clickatell), 4 not delivered (Clickatell will not deliver it).", code: 1, dcode: 2},
		{name: "none cancelled, all not delivered", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 2, NotDelivered: 2}}, saved: true,
			head: "Apply complete!", notCanc: "2 messages were not cancelled: 2 not delivered", code: 1, dcode: 2},
		{name: "failures", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 5, Cancelled: 2, TooLate: 1, Failed: 2}}, saved: true,
			head: "Apply finished with failures: 2 messages not settled.", code: 1, dcode: 1},
		{name: "one failure", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 5, Cancelled: 4, Failed: 1}}, saved: true,
			head: "Apply finished with failures: 1 message not settled.", code: 1, dcode: 1},
		{name: "stopped", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 50, Cancelled: 2, Failed: 1}}, saved: true,
			head: "Apply stopped!", code: 1, dcode: 1},
		{name: "interrupted", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 50, Cancelled: 2}, Interrupted: true}, saved: true,
			head: "Apply interrupted!", code: 1, dcode: 1},
		{name: "interrupted after the last message", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 2, Cancelled: 1, TooLate: 1}, Interrupted: true}, saved: true,
			head: "Apply interrupted!", code: 1, dcode: 1},
		{name: "not saved", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 3, Cancelled: 3}}, saved: false,
			head: "Apply finished, but the state could not be saved!", code: 0, dcode: 0},
		{name: "stopped, not saved", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 50, Cancelled: 2}}, saved: false,
			head: "Apply stopped, and the state could not be saved!"},
		{name: "interrupted, not saved", res: reconcile.ApplyResult{Counts: reconcile.Counts{Total: 50, Cancelled: 2}, Interrupted: true}, saved: false,
			head: "Apply interrupted, and the state could not be saved!"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := &tt.res
			if got := applyHeadline(r, tt.saved); got != tt.head {
				t.Errorf("headline %q, want %q", got, tt.head)
			}
			line := notCancelledLine(r)
			if tt.notCanc == "" && line != "" || !strings.Contains(line, tt.notCanc) {
				t.Errorf("not-cancelled line %q, want one holding %q", line, tt.notCanc)
			}
			if !tt.saved {
				return // a save error is an error: exit 1 either way
			}
			if got := applyExitCode(r, false); got != tt.code {
				t.Errorf("exit code %d, want %d", got, tt.code)
			}
			if got := applyExitCode(r, true); got != tt.dcode {
				t.Errorf("-detailed-exitcode: exit code %d, want %d", got, tt.dcode)
			}
		})
	}
}
