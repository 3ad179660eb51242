package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

var viewNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	// Output no one would write by hand: trailing blanks, or two blank
	// lines in a row.
	for i, line := range strings.Split(string(got), "\n") {
		if strings.TrimRight(line, " \t") != line {
			t.Errorf("%s: line %d ends in white space: %q", name, i+1, line)
		}
	}
	if strings.Contains(string(got), "\n\n\n") {
		t.Errorf("%s: two blank lines in a row", name)
	}
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run 'go test ./cmd/recall -run %s -update' to create it)", err, t.Name())
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got); if the change is intended, rerun with -update:\n%s", path, diff)
	}
}

// vid returns a distinct ID for group g, index n.
func vid(g, n int) msgid.ID {
	var id msgid.ID
	id[0] = 0x36
	binary.BigEndian.PutUint32(id[4:], uint32(g))
	binary.BigEndian.PutUint64(id[8:], uint64(n))
	return id
}

func groupIDs(g, n int) []msgid.ID {
	out := make([]msgid.ID, n)
	for i := range out {
		out[i] = vid(g, i)
	}
	return out
}

// viewPlan is a plan with everything a view shows: a long group cut
// short, a partly settled group due in the past, a settled group, orphans.
func viewPlan(t *testing.T, opts reconcile.PlanOptions) *reconcile.Plan {
	return viewPlanN(t, opts, 5007)
}

func viewPlanN(t *testing.T, opts reconcile.PlanOptions, big int) *reconcile.Plan {
	t.Helper()
	m := &manifest.Manifest{Digest: "sha256:0d1f", Groups: []*manifest.Group{
		{Name: "black-friday-wrong-price", Reason: "Price typo in the 09:00 blast", ScheduledAt: viewNow.Add(21 * time.Hour), IDs: groupIDs(1, big)},
		{Name: "welcome-series-v1", Reason: "Old | copy with <b>html</b>", ScheduledAt: viewNow.Add(-3*time.Hour - 25*time.Minute), IDs: groupIDs(2, 104)},
		{Name: "promo-typo", IDs: groupIDs(3, 2)},
	}}
	s := &state.State{Lineage: "0b6d3a1e-5d1c-4b8e-9a7e-6f1e2d3c4b5a", Serial: 12}
	at := viewNow.Add(-time.Hour)
	for i := 0; i < 98; i++ {
		s.Set(vid(2, i), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "welcome-series-v1", At: at})
	}
	s.Set(vid(2, 98), state.Record{Outcome: outcome.TooLate, Status: "004", Group: "welcome-series-v1", At: at})
	s.Set(vid(2, 99), state.Record{Outcome: outcome.TooLate, Status: "004", Group: "welcome-series-v1", At: at})
	s.Set(vid(2, 100), state.Record{Outcome: outcome.NotFound, Group: "welcome-series-v1", At: at})
	s.Set(vid(3, 0), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "promo-typo", At: at})
	s.Set(vid(3, 1), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "promo-typo", At: at})
	for i := 0; i < 4; i++ {
		s.Set(vid(9, i), state.Record{Outcome: outcome.Cancelled, Status: "006", Group: "summer-sale-2025", At: at})
	}
	opts.Now = func() time.Time { return viewNow }
	p, err := reconcile.NewPlan(m, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHumanPlanView(t *testing.T) {
	tests := []struct {
		name  string
		opts  reconcile.PlanOptions
		color bool
	}{
		{"plan_human", reconcile.PlanOptions{}, false},
		{"plan_human_target", reconcile.PlanOptions{Targets: []string{"welcome-series-v1"}}, false},
		{"plan_human_nochanges", reconcile.PlanOptions{Targets: []string{"promo-typo"}}, false},
		{"plan_human_color", reconcile.PlanOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			humanPlanView{color: palette{on: tt.color}}.render(&buf, &buf, viewPlan(t, tt.opts))
			golden(t, tt.name, buf.Bytes())
			hasESC := bytes.Contains(buf.Bytes(), []byte("\x1b["))
			if hasESC != tt.color {
				t.Errorf("colour codes present = %v, want %v", hasESC, tt.color)
			}
		})
	}
}

func TestHumanPlanView_streams(t *testing.T) {
	// Warnings are diagnostics: they go to the diag writer, the plan to out.
	var out, diag bytes.Buffer
	humanPlanView{}.render(&out, &diag, viewPlan(t, reconcile.PlanOptions{}))
	if !strings.HasPrefix(diag.String(), "\nWarning: group \"welcome-series-v1\" was scheduled for 2026-11-27T08:35:00Z, 3h25m ago") {
		t.Errorf("diag = %q", diag.String())
	}
	if strings.Contains(out.String(), "Warning") {
		t.Errorf("warning on the plan's stream:\n%s", out.String())
	}
	if !strings.HasSuffix(out.String(), "\nPlan: 5,010 to cancel, 100 already cancelled, 2 too late, 1 not found.\n") {
		t.Errorf("last line wrong:\n%s", out.String())
	}
}

func TestMarkdownPlan(t *testing.T) {
	// Small enough to list every ID; TestMarkdownPlan_limit cuts lists.
	p := viewPlanN(t, reconcile.PlanOptions{}, 12)
	md := markdownPlan(p)
	golden(t, "plan_markdown", []byte(md))

	nc := markdownPlan(viewPlan(t, reconcile.PlanOptions{Targets: []string{"promo-typo"}}))
	golden(t, "plan_markdown_nochanges", []byte(nc))
}

// bigPlan has n messages to cancel spread over groups of size per, with
// long reasons full of characters markdown must escape.
func bigPlan(t testing.TB, n, per int, reason string) *reconcile.Plan {
	m := &manifest.Manifest{Digest: "sha256:big"}
	for g := 0; g*per < n; g++ {
		k := min(per, n-g*per)
		m.Groups = append(m.Groups, &manifest.Group{
			Name:        fmt.Sprintf("group-%04d", g),
			Reason:      reason,
			ScheduledAt: viewNow.Add(-time.Duration(g+1) * time.Minute),
			IDs:         groupIDs(g, k),
		})
	}
	p, err := reconcile.NewPlan(m, nil, reconcile.PlanOptions{Now: func() time.Time { return viewNow }})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMarkdownPlan_limit(t *testing.T) {
	nasty := strings.Repeat("|<>`", 300)
	tests := []struct {
		name    string
		n, per  int
		reason  string
		allIDs  bool
		cutNote bool
	}{
		{"50k one group", 50000, 50000, "Wrong price", false, true},
		{"50k in 5 groups", 50000, 10000, "Wrong price", false, true},
		{"50k in 2000 groups, nasty reasons", 50000, 25, nasty, false, true},
		{"1M", 1000000, 100000, "x", false, true},
		{"small fits whole", 300, 100, "fits", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := bigPlan(t, tt.n, tt.per, tt.reason)
			md := markdownPlan(p)
			if n := len([]rune(md)); n >= markdownLimit {
				t.Fatalf("markdown is %d characters, want under %d", n, markdownLimit)
			}
			if got := strings.Count(md, "\n"); got < 10 {
				t.Errorf("suspiciously short markdown (%d lines)", got)
			}
			if !strings.Contains(md, fmt.Sprintf("**Plan: %s to cancel, 0 already cancelled, 0 too late, 0 not found.**", commas(tt.n))) {
				t.Errorf("summary line missing")
			}
			if strings.Contains(md, "<>") || strings.Contains(md, "|`|") {
				t.Errorf("unescaped reason text in markdown")
			}
			shown := strings.Count(md, "\n36")
			if tt.allIDs && shown != tt.n {
				t.Errorf("%d IDs shown, want all %d", shown, tt.n)
			}
			if !tt.allIDs && shown < 500 {
				t.Errorf("only %d IDs shown; the budget should fit at least 500", shown)
			}
			note := fmt.Sprintf("%s of %s IDs shown, %s left out", commas(shown), commas(tt.n), commas(tt.n-shown))
			if strings.Contains(md, note) != tt.cutNote {
				t.Errorf("cut note %q present = %v, want %v", note, !tt.cutNote, tt.cutNote)
			}
			if strings.Count(md, "<details>") != 1 || strings.Count(md, "</details>") != 1 || strings.Count(md, "```")%2 != 0 {
				t.Errorf("unbalanced markdown blocks")
			}
		})
	}
}

func TestStateViews(t *testing.T) {
	s := statetest.With(&state.State{Lineage: "0b6d3a1e-5d1c-4b8e-9a7e-6f1e2d3c4b5a", Serial: 3, RecallVersion: "0.1.0"}, map[msgid.ID]state.Record{
		msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c"): {Outcome: outcome.TooLate, Status: "004", Description: "Received by recipient", Group: "black-friday", At: viewNow},
		msgid.MustParse("360586640fe9846954897dffe6c13dfc"): {Outcome: outcome.Cancelled, Status: "006", Description: `User "cancelled" message delivery`, Group: "black-friday", At: viewNow.Add(-time.Hour)},
		msgid.MustParse("00000000000000000000000000000001"): {Outcome: outcome.NotFound, Group: "promo", At: viewNow.Add(-2 * time.Hour)},
	})
	var buf bytes.Buffer
	renderStateHuman(&buf, "recall.state.json", s, palette{})
	golden(t, "show_state", buf.Bytes())

	buf.Reset()
	renderStateHuman(&buf, "recall.state.json", state.New(), palette{})
	if got := buf.String(); got != "No state at recall.state.json yet: nothing has been applied there.\n" {
		t.Errorf("empty state: %q", got)
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 4997: "4,997", 1000000: "1,000,000", -1234: "-1,234"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"plan.json": "plan.json", "my plan.json": "'my plan.json'", "it's": `'it'\''s'`, "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHumanPlanView_noDoubleBlankLines(t *testing.T) {
	for _, opts := range []reconcile.PlanOptions{{}, {Targets: []string{"promo-typo"}}} {
		var out, diag bytes.Buffer
		humanPlanView{}.render(&out, &diag, viewPlan(t, opts))
		if strings.Contains(out.String(), "\n\n\n") {
			t.Errorf("stdout alone has a double blank line:\n%s", out.String())
		}
	}
}

// TestHumanPlanView_orphansOnly: a manifest that lists nothing the state
// holds: the orphans come first, with no blank line above them.
func TestHumanPlanView_orphansOnly(t *testing.T) {
	m := &manifest.Manifest{Digest: "sha256:0d1f"}
	s := statetest.With(&state.State{Lineage: "0b6d3a1e-5d1c-4b8e-9a7e-6f1e2d3c4b5a", Serial: 1}, map[msgid.ID]state.Record{
		vid(9, 0): {Outcome: outcome.Cancelled, Status: "006", Group: "summer-sale-2025", At: viewNow},
	})
	p, err := reconcile.NewPlan(m, s, reconcile.PlanOptions{Now: func() time.Time { return viewNow }})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	humanPlanView{}.render(&out, &out, p)
	want := "1 message in state is in no group of the manifest (orphaned). recall never touches them:\n" +
		"  summer-sale-2025: 1 (" + vid(9, 0).String() + ")\n" +
		"Use 'recall state list' to see them, 'recall state rm' to forget them.\n" +
		"\n" +
		"No changes. The manifest lists no messages.\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestPastWarningOneMessage: the past scheduled_at warning of a group with
// one message to cancel is in the singular.
func TestPastWarningOneMessage(t *testing.T) {
	m := &manifest.Manifest{Digest: "sha256:0d1f", Groups: []*manifest.Group{
		{Name: "old", ScheduledAt: viewNow.Add(-2 * time.Hour), IDs: groupIDs(1, 1)},
	}}
	p, err := reconcile.NewPlan(m, state.New(), reconcile.PlanOptions{Now: func() time.Time { return viewNow }})
	if err != nil {
		t.Fatal(err)
	}
	var out, diag bytes.Buffer
	humanPlanView{}.render(&out, &diag, p)
	want := "\nWarning: group \"old\" was scheduled for 2026-11-27T10:00:00Z, 2h ago; its 1 message to cancel may already have been delivered and will end too_late.\n"
	if diag.String() != want {
		t.Errorf("diag = %q, want %q", diag.String(), want)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":              "plain text",
		"tab\tand\nnewline":       "tab\tand\nnewline",
		"red \x1b[31mtext\x1b[0m": "red \uFFFD[31mtext\uFFFD[0m",
		"bell\a":                  "bell\uFFFD",
		"bad \xff utf8":           "bad \uFFFD utf8",
		"ünïcode ⚠️":              "ünïcode ⚠️",
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
	if got := oneLine("a\x1b[2J\n  b", 100); got != "a\uFFFD[2J b" {
		t.Errorf("oneLine = %q", got)
	}
}
