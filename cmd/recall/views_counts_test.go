package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state"
)

func TestPlanSummaryLine(t *testing.T) {
	for _, tt := range []struct {
		s    reconcile.Summary
		want string
	}{
		{reconcile.Summary{NotFound: 20000}, "No changes. 20,000 listed messages are settled: 0 cancelled, 0 too late, 20,000 not found."},
		{reconcile.Summary{TooLate: 1}, "No changes. 1 listed message is settled: 0 cancelled, 1 too late, 0 not found."},
		{reconcile.Summary{Cancelled: 1500, TooLate: 2, NotFound: 1, Orphaned: 7}, "No changes. 1,503 listed messages are settled: 1,500 cancelled, 2 too late, 1 not found."},
		{reconcile.Summary{}, "No changes. The manifest lists no messages."},
		{reconcile.Summary{Cancel: 20000, Cancelled: 98, TooLate: 2, NotFound: 1}, "Plan: 20,000 to cancel, 98 already cancelled, 2 too late, 1 not found."},
		{reconcile.Summary{Cancel: 3}, "Plan: 3 to cancel, 0 already cancelled, 0 too late, 0 not found."},
	} {
		if got := planSummaryLine(tt.s); got != tt.want {
			t.Errorf("planSummaryLine(%+v)\n got %q\nwant %q", tt.s, got, tt.want)
		}
	}
}

// notFoundPlan is the plan of a team whose earlier run recorded every
// message not_found: nothing to cancel, and nothing was cancelled.
func notFoundPlan(t *testing.T) *reconcile.Plan {
	t.Helper()
	m := &manifest.Manifest{Digest: "sha256:0d1f", Groups: []*manifest.Group{
		{Name: "black-friday", IDs: groupIDs(1, 20000)},
		{Name: "promo", IDs: groupIDs(2, 3)},
	}}
	s := &state.State{Lineage: "0b6d3a1e-5d1c-4b8e-9a7e-6f1e2d3c4b5a", Serial: 2}
	for i := 0; i < 20000; i++ {
		s.Set(vid(1, i), state.Record{Outcome: outcome.NotFound, Group: "black-friday", At: viewNow})
	}
	s.Set(vid(2, 0), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "promo", At: viewNow})
	s.Set(vid(2, 1), state.Record{Outcome: outcome.TooLate, Status: "004", Group: "promo", At: viewNow})
	s.Set(vid(2, 2), state.Record{Outcome: outcome.NotFound, Group: "promo", At: viewNow})
	p, err := reconcile.NewPlan(m, s, reconcile.PlanOptions{Now: func() time.Time { return viewNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// allSettled matches wording that would let a reviewer read "stopped"
// where nothing was cancelled.
var allSettled = regexp.MustCompile(`(?i)all (listed )?(messages )?(are )?settled|every listed message is already settled|already settled\.`)

// TestPlanViews_settledCounts: with nothing to cancel, every view states
// the settled counts per group and in total, and none says "all settled".
func TestPlanViews_settledCounts(t *testing.T) {
	p := notFoundPlan(t)

	var human bytes.Buffer
	humanPlanView{}.render(&human, &human, p)
	md := markdownPlan(p)
	var js bytes.Buffer
	if err := reconcile.WritePlan(&js, p); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"human": human.String(), "markdown": md, "json": js.String()} {
		if allSettled.MatchString(out) {
			t.Errorf("%s says all settled:\n%s", name, out)
		}
	}

	const total = "No changes. 20,003 listed messages are settled: 1 cancelled, 1 too late, 20,001 not found."
	mustContain(t, "human plan", human.String(),
		"  # black-friday: 0 already cancelled, 0 too late, 20,000 not found\n",
		"  # promo: 1 already cancelled, 1 too late, 1 not found\n",
		"\n"+total+"\n",
	)
	mustContain(t, "markdown plan", md,
		"**"+total+"**",
		"| `black-friday` |  |  | 0 | 0 | 0 | 20,000 |",
		"| `promo` |  |  | 0 | 1 | 1 | 1 |",
		"| already cancelled | 1 |",
		"| not found | 20,001 |",
	)

	var doc struct {
		Summary map[string]int   `json:"summary"`
		Groups  []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]int{"cancel": 0, "cancelled": 1, "too_late": 1, "not_found": 20001} {
		if got, ok := doc.Summary[k]; !ok || got != v {
			t.Errorf("json summary %s = %d (present %v), want %d", k, got, ok, v)
		}
	}
	if len(doc.Groups) != 2 {
		t.Fatalf("json groups = %v", doc.Groups)
	}
	for _, k := range []string{"cancelled", "too_late", "not_found"} {
		if _, ok := doc.Groups[0][k]; !ok {
			t.Errorf("json group %v lacks %s", doc.Groups[0], k)
		}
	}
}

// TestHumanPlanView_settledGroupsCut: many settled groups are listed with
// their counts up to ten, then counted.
func TestHumanPlanView_settledGroupsCut(t *testing.T) {
	m := &manifest.Manifest{Digest: "sha256:0d1f"}
	s := &state.State{Lineage: "l", Serial: 1}
	for g := 0; g < 12; g++ {
		name := "g" + string(rune('a'+g))
		m.Groups = append(m.Groups, &manifest.Group{Name: name, IDs: groupIDs(g, 1)})
		s.Set(vid(g, 0), state.Record{Outcome: outcome.NotFound, Group: name, At: viewNow})
	}
	p, err := reconcile.NewPlan(m, s, reconcile.PlanOptions{Now: func() time.Time { return viewNow }})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	humanPlanView{}.render(&out, &out, p)
	mustContain(t, "plan", out.String(), "Nothing left to cancel in 12 groups:\n", "  # gj: 0 already cancelled, 0 too late, 1 not found\n", "  ... and 2 more groups\n")
	if strings.Contains(out.String(), "# gk:") {
		t.Errorf("more than ten settled groups listed:\n%s", out.String())
	}
}

// TestPlanViews_earlyWindow: a group due within Clickatell's five minutes
// of early delivery is marked in the human and markdown plans.
func TestPlanViews_earlyWindow(t *testing.T) {
	m := &manifest.Manifest{Digest: "sha256:0d1f", Groups: []*manifest.Group{
		{Name: "soon", ScheduledAt: viewNow.Add(4 * time.Minute), IDs: groupIDs(1, 2)},
		{Name: "later", ScheduledAt: viewNow.Add(6 * time.Minute), IDs: groupIDs(2, 2)},
	}}
	p, err := reconcile.NewPlan(m, nil, reconcile.PlanOptions{Now: func() time.Time { return viewNow }})
	if err != nil {
		t.Fatal(err)
	}
	var out, diag bytes.Buffer
	humanPlanView{}.render(&out, &diag, p)
	if !strings.Contains(out.String(), "scheduled_at: 2026-11-27T12:04:00Z (within 5 minutes: Clickatell may deliver early)\n") ||
		strings.Count(out.String(), "within 5 minutes") != 1 {
		t.Errorf("human plan does not mark (only) the group in the window:\n%s", out.String())
	}
	if !strings.Contains(diag.String(), `Warning: group "soon" is scheduled for 2026-11-27T12:04:00Z, in 4m: Clickatell may deliver scheduled messages up to 5m early`) ||
		strings.Contains(diag.String(), `"later"`) {
		t.Errorf("warnings:\n%s", diag.String())
	}
	md := markdownPlan(p)
	if !strings.Contains(md, "| `soon` | 2026-11-27T12:04:00Z ⚠️ within 5 min |") || strings.Count(md, "⚠️ within 5 min") != 1 {
		t.Errorf("markdown:\n%s", md)
	}
}
