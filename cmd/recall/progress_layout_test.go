package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/reconcile"
)

// progressCases are progress events from a plain run to a large one with
// failures, behind a long group name's deadline.
func progressCases() []*reconcile.ProgressEvent {
	long := strings.Repeat("black-friday-", 4) + "wrong-price-2026"
	return []*reconcile.ProgressEvent{
		{Counts: reconcile.Counts{Total: 20}, Rate: 0},
		{Counts: reconcile.Counts{Total: 10000, Cancelled: 4500}, Rate: 480.4, ETA: reconcile.Seconds(12 * time.Second)},
		{Counts: reconcile.Counts{Total: 10000, Cancelled: 4500}, Rate: 480.4, ETA: reconcile.Seconds(12 * time.Second),
			NextDeadline: &reconcile.DeadlineStatus{Group: "black-friday", In: reconcile.Seconds(190 * time.Second), Left: 5500, OnTrack: true}},
		{Counts: reconcile.Counts{Total: 1000000, Cancelled: 123456, TooLate: 1000, Failed: 12345}, Rate: 1234.5, ETA: reconcile.Seconds(3 * time.Hour),
			NextDeadline: &reconcile.DeadlineStatus{Group: long, In: reconcile.Seconds(3*time.Minute + 10*time.Second), Left: 800000, Behind: 1200}},
		{Counts: reconcile.Counts{Total: 1000000, Cancelled: 1000000}, Rate: 1000, ETA: 0},
	}
}

// barSegments splits what the bar wrote to stderr into the lines a
// terminal shows: each redraw starts with "\r\x1b[K".
func barSegments(s string) []string {
	var out []string
	for _, part := range strings.Split(s, "\r\x1b[K") {
		out = append(out, strings.Split(part, "\n")...)
	}
	return out
}

// TestApplyHuman_BarFits: at 50, 80 and 120 columns (the env's width),
// every redraw of the bar, every diagnostic line on stderr and every
// progress or late line on a terminal's stdout is narrower than the
// terminal, so that nothing wraps and "\r" redraws one line in place.
func TestApplyHuman_BarFits(t *testing.T) {
	for _, width := range []int{50, 80, 120} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			e, out, errb := applyTestEnv("", true, nil)
			e.width = func() int { return width }
			bar := &applyHuman{e: e, bar: true}
			for _, p := range progressCases() {
				bar.event(reconcile.Event{Type: reconcile.EventProgress, Progress: p})
			}
			bar.event(reconcile.Event{Type: reconcile.EventDiagnostic, Diagnostic: &reconcile.DiagnosticEvent{Severity: reconcile.SeverityWarning,
				Summary: "Could not write a state checkpoint, so no new calls are sent; waiting for the calls in flight, then trying once more to save the state", Detail: "disk full"}})
			bar.finish()
			lines := &applyHuman{e: e} // off a terminal on stderr: lines on stdout
			for _, p := range progressCases() {
				lines.event(reconcile.Event{Type: reconcile.EventProgress, Progress: p})
			}
			lines.lateLines([]reconcile.LateGroup{{Group: strings.Repeat("a-long-group-name-", 3), Deadline: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC), Count: 1200, TooLate: 1150}})
			for name, text := range map[string]string{"stderr": errb.String(), "stdout": out.String()} {
				for _, l := range barSegments(text) {
					if n := runeLen(l); n > width-1 {
						t.Errorf("%s: %d columns at width %d: %q", name, n, width, l)
					}
				}
			}
			all := errb.String() + out.String()
			for _, want := range []string{"1,000,000", "12,345 failed", "4,500/10,000"} {
				if !strings.Contains(all, want) {
					t.Errorf("output lacks %q:\n%s\n%s", want, errb, out)
				}
			}
			if width == 120 && !strings.Contains(errb.String(), "| next deadline black-friday in 3m10s, on track") {
				t.Errorf("at 120 columns the bar lacks the deadline:\n%q", errb)
			}
			if width == 50 && !strings.Contains(errb.String(), "~1,200 late") {
				t.Errorf("at 50 columns the bar lacks the short deadline:\n%q", errb)
			}
			if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), "behind: ~1,200 may go out first") {
				t.Errorf("progress lines lack the deadline:\n%s", out)
			}
			t.Logf("stderr:\n%s\nstdout:\n%s", strings.ReplaceAll(errb.String(), "\r\x1b[K", "\n|"), out)
		})
	}
}

func TestBarLine(t *testing.T) {
	p := progressCases()[2]
	for _, tt := range []struct {
		limit int
		want  string
	}{
		{119, "Cancelling [========>          ] 4,500/10,000  45% | 480/s | ETA 00m12s | next deadline black-friday in 3m10s, on track"},
		{79, "Cancelling [====>      ] 4,500/10,000  45% | ETA 00m12s | black-friday 3m10s ok"},
		{49, "4,500/10,000  45% | black-friday 3m10s ok"},
		{20, "45% | deadline 3m10…"},
	} {
		got := barLine(tt.limit, "Cancelling", p)
		if runeLen(got) > tt.limit {
			t.Errorf("limit %d: %d columns: %q", tt.limit, runeLen(got), got)
		}
		if got != tt.want {
			t.Errorf("limit %d:\n got %q\nwant %q", tt.limit, got, tt.want)
		}
	}
}

func TestWrap(t *testing.T) {
	got := wrap("Warning: group black-friday cannot be cancelled in time at 100 cancellations a second", 30, "  ")
	for _, l := range strings.Split(got, "\n") {
		if runeLen(l) > 29 {
			t.Errorf("%d columns: %q", runeLen(l), l)
		}
	}
	if strings.Join(strings.Fields(got), " ") != "Warning: group black-friday cannot be cancelled in time at 100 cancellations a second" {
		t.Errorf("words changed: %q", got)
	}
	if wrap("a b", 0, "") != "a b" {
		t.Error("width 0 wraps")
	}
}

// TestApplyHuman_SummaryLate: the summary counts, per group, the messages
// settled after their group's deadline.
func TestApplyHuman_SummaryLate(t *testing.T) {
	e, out, _ := applyTestEnv("", false, nil)
	v := newApplyView(e, &applyArgs{outputFlags: outputFlags{format: "human"}})
	d := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	v.summary(&reconcile.ApplyResult{Counts: reconcile.Counts{Total: 3000, Cancelled: 1800, TooLate: 1200},
		Late: []reconcile.LateGroup{{Group: "black-friday", Deadline: d, Count: 1200, TooLate: 1150}, {Group: "promo", Deadline: d.Add(time.Hour), Count: 1}}}, true)
	for _, want := range []string{
		"\n1,201 messages settled after their group's deadline (scheduled_at less 5 minutes), when Clickatell may already deliver:\n",
		"  black-friday: 1,200 (1,150 too late; deadline 2026-11-27T09:00:00Z)\n",
		"  promo: 1 (0 too late; deadline 2026-11-27T10:00:00Z)\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
