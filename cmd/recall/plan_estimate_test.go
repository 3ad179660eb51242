package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/simulator"
)

// TestPlan_Estimate: at the default 100/s a group of 2,000 whose deadline
// is 10s away is about 1,000 short, and the warning names it and says what
// to do; at -rate 200 it finishes exactly at its deadline, with no
// warning. The JSON and markdown plans carry the estimate.
func TestPlan_Estimate(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	writeManifest(t, dir,
		group{name: "black-friday", scheduledAt: "2026-11-27T12:05:10Z", ids: ids('b', 2000)},
		group{name: "later", ids: ids('l', 3)})
	width := 0
	run := func(args ...string) (string, string) {
		t.Helper()
		e, out, errb := applyTestEnv("", false, map[string]string{"NO_COLOR": "1"})
		e.now = func() time.Time { return now }
		e.width = func() int { return width }
		args = append([]string{"plan", "-f", filepath.Join(dir, "recall.yaml"), "-state", filepath.Join(dir, "s.json")}, args...)
		if code := Main(context.Background(), args, e); code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errb)
		}
		return out.String(), errb.String()
	}

	_, stderr := run()
	for _, s := range []string{
		`Warning: group "black-friday" cannot be cancelled in time at 100 cancellations a second: its last cancellation would be answered at 2026-11-27T12:00:20Z, 10s after its deadline 2026-11-27T12:00:10Z (scheduled_at less 5m), so about 1,000 of its 2,000 messages to cancel would still be scheduled when Clickatell may start delivering them.`,
		"raise -rate", "-parallelism", "recall apply -target black-friday.",
	} {
		if !strings.Contains(stderr, s) {
			t.Errorf("default rate: stderr lacks %q:\n%s", s, stderr)
		}
	}

	// On a 50-column terminal the warning wraps at word boundaries.
	width = 50
	_, stderr = run("-target", "black-friday")
	for _, l := range strings.Split(stderr, "\n") {
		if runeLen(l) > 49 {
			t.Errorf("at 50 columns, a %d-column line: %q", runeLen(l), l)
		}
	}
	if !strings.Contains(strings.Join(strings.Fields(stderr), " "), "so about 1,000 of its 2,000 messages to cancel would still be scheduled") {
		t.Errorf("wrapped warning lost words:\n%s", stderr)
	}
	width = 0

	stdout, stderr := run("-rate", "200", "-parallelism", "20")
	if strings.Contains(stderr, "cannot be cancelled in time") || strings.Contains(stdout, "cannot be cancelled in time") {
		t.Errorf("-rate 200 -parallelism 20: a warning for a group that makes it:\n%s\n%s", stdout, stderr)
	}
	// 10 calls at once cannot carry 200 a second when a call takes
	// reconcile.SlowCall: the estimate stays at 100 a second.
	if _, stderr := run("-rate", "200"); !strings.Contains(stderr, "cannot be cancelled in time at 100 cancellations a second") {
		t.Errorf("-rate 200 at the default -parallelism: no warning at 100 a second:\n%s", stderr)
	}

	stdout, _ = run("-format", "json")
	var p struct {
		Groups []struct {
			Name     string                   `json:"name"`
			Estimate *reconcile.GroupEstimate `json:"estimate"`
		} `json:"groups"`
		Warnings []reconcile.Warning `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &p); err != nil {
		t.Fatal(err)
	}
	if e := p.Groups[0].Estimate; e == nil || e.Late != 1000 || e.Rate != 100 || !e.FinishAt.Equal(now.Add(20*time.Second)) || e.Deadline == nil || !e.Deadline.Equal(now.Add(10*time.Second)) {
		t.Errorf("black-friday's estimate: %+v", e)
	}
	if e := p.Groups[1].Estimate; e == nil || e.Deadline != nil || !e.FinishAt.Equal(now.Add(20030*time.Millisecond)) {
		t.Errorf("later's estimate: %+v", e)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Kind != "late" || p.Warnings[0].Late != 1000 || !strings.Contains(p.Warnings[0].Detail, "-target black-friday") {
		t.Errorf("warnings: %+v", p.Warnings)
	}
	if !strings.Contains(stdout, `"estimate": {`) || !strings.Contains(stdout, `"finish_at": "2026-11-27T12:00:20Z"`) {
		t.Errorf("JSON plan lacks the estimate:\n%.2000s", stdout)
	}

	stdout, _ = run("-format", "markdown")
	for _, s := range []string{"#### Estimate", "| `black-friday` | 2026-11-27T12:00:10Z | 2026-11-27T12:00:20Z ⚠️ | ~1,000 |", "cannot be cancelled in time", "-target black-friday"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("markdown lacks %q:\n%.3000s", s, stdout)
		}
	}
}

// TestApply_SavedPlanEstimatedAgain: a plan saved at -rate 1,000 has no
// late warning; applied at apply's own rate (none: 100/s), it is
// estimated again and warned about, before the run; the run's summary
// event counts no late message (the simulator answers at once).
func TestApply_SavedPlanEstimatedAgain(t *testing.T) {
	dir := t.TempDir()
	_, url := startSim(t, simulator.Config{AnyScheduled: true})
	at := time.Now().UTC().Add(reconcile.EarlyDelivery + 10*time.Second).Format(time.RFC3339)
	writeManifest(t, dir, group{name: "soon", scheduledAt: at, ids: ids('s', 2000)})
	vars := map[string]string{"CLICKATELL_TOKEN": testToken, "CLICKATELL_ENDPOINT": url, "NO_COLOR": "1"}
	plan := filepath.Join(dir, "p.json")
	e, out, errb := applyTestEnv("", false, vars)
	if code := Main(context.Background(), []string{"plan", "-f", filepath.Join(dir, "recall.yaml"), "-state", filepath.Join(dir, "s.json"), "-rate", "1000", "-parallelism", "100", "-out", plan}, e); code != 0 {
		t.Fatalf("plan: %d\n%s\n%s", code, out, errb)
	}
	if strings.Contains(errb.String(), "cannot be cancelled in time") {
		t.Errorf("plan at 1,000/s warned:\n%s", errb)
	}
	e, out, errb = applyTestEnv("", false, vars)
	if code := Main(context.Background(), []string{"apply", "-format", "json", plan}, e); code != 0 {
		t.Fatalf("apply: %d\n%s\n%s", code, out, errb)
	}
	var warned, summarized bool
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var ev reconcile.Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if d := ev.Diagnostic; d != nil && strings.Contains(d.Summary, `group "soon" cannot be cancelled in time at 100 cancellations a second`) && strings.Contains(d.Summary, "-target soon") {
			warned = true
		}
		if s := ev.Summary; s != nil {
			summarized = s.Cancelled == 2000 && s.Late == nil
		}
	}
	if !warned || !summarized {
		t.Errorf("warned %v, summary without late %v:\n%.3000s", warned, summarized, out)
	}
}
