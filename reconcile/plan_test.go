package reconcile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// id returns a distinct, well-formed ID for n.
func id(n uint64) msgid.ID {
	var v msgid.ID
	binary.BigEndian.PutUint64(v[8:], n)
	v[0] = 0xab
	return v
}

func ids(from, to uint64) []msgid.ID {
	var out []msgid.ID
	for n := from; n < to; n++ {
		out = append(out, id(n))
	}
	return out
}

func rec(o outcome.Outcome, group string) state.Record {
	return state.Record{Outcome: o, Group: group, At: testNow.Add(-time.Hour)}
}

func testManifest() *manifest.Manifest {
	return &manifest.Manifest{
		Digest: "sha256:test",
		Groups: []*manifest.Group{
			{Name: "black-friday", Reason: "Price typo", ScheduledAt: testNow.Add(24 * time.Hour), IDs: ids(0, 5)},
			{Name: "late-blast", Reason: "Wrong link", ScheduledAt: testNow.Add(-3 * time.Hour), IDs: ids(10, 13)},
			{Name: "no-time", IDs: ids(20, 22)},
		},
	}
}

func testState() *state.State {
	s := statetest.With(&state.State{Lineage: "lin-1", Serial: 7}, map[msgid.ID]state.Record{
		id(0):  rec(outcome.Cancelled, "black-friday"),
		id(1):  rec(outcome.TooLate, "black-friday"),
		id(10): rec(outcome.NotFound, "late-blast"),
		id(20): rec(outcome.Cancelled, "no-time"),
		id(21): rec(outcome.Cancelled, "no-time"),
		// Orphans: in state, in no group.
		id(100): rec(outcome.Cancelled, "old-campaign"),
		id(101): rec(outcome.Cancelled, "old-campaign"),
		id(102): rec(outcome.TooLate, "gone"),
	})
	return s
}

func TestNewPlan(t *testing.T) {
	p, err := NewPlan(testManifest(), testState(), PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Summary{Cancel: 5, Cancelled: 3, TooLate: 1, NotFound: 1, Orphaned: 3}); p.Summary != want {
		t.Errorf("Summary = %+v, want %+v", p.Summary, want)
	}
	if p.State != (StateRef{Lineage: "lin-1", Serial: 7}) {
		t.Errorf("State = %+v", p.State)
	}
	if !p.CreatedAt.Equal(testNow) || p.ManifestDigest != "sha256:test" || p.FormatVersion != 1 {
		t.Errorf("header = %v %q %d", p.CreatedAt, p.ManifestDigest, p.FormatVersion)
	}
	var got []string
	for _, c := range p.Changes {
		if c.Action != Cancel {
			t.Errorf("%s: action %s", c.ID, c.Action)
		}
		got = append(got, c.Group+"/"+c.ID.String()[28:])
	}
	want := []string{"black-friday/0002", "black-friday/0003", "black-friday/0004", "late-blast/000b", "late-blast/000c"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	if c := p.Changes[0]; c.Reason != "Price typo" || c.ScheduledAt == nil || !c.ScheduledAt.Equal(testNow.Add(24*time.Hour)) {
		t.Errorf("change carries group fields wrongly: %+v", c)
	}
	wantGroups := []GroupPlan{
		{Name: "black-friday", Reason: "Price typo", ScheduledAt: ptr(testNow.Add(24 * time.Hour)), Total: 5, Cancel: 3, Cancelled: 1, TooLate: 1},
		{Name: "late-blast", Reason: "Wrong link", ScheduledAt: ptr(testNow.Add(-3 * time.Hour)), Total: 3, Cancel: 2, NotFound: 1},
		{Name: "no-time", Total: 2, Cancelled: 2},
	}
	// The estimate has its own tests (estimate_test.go).
	if diff := cmp.Diff(wantGroups, p.Groups, cmpopts.IgnoreFields(GroupPlan{}, "Estimate")); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Group != "late-blast" || !strings.Contains(p.Warnings[0].Message, "3h ago") {
		t.Errorf("warnings = %+v, want one for late-blast, 3h ago", p.Warnings)
	}
	wantOrphans := []OrphanGroup{
		{Group: "old-campaign", Count: 2, Sample: []msgid.ID{id(100), id(101)}},
		{Group: "gone", Count: 1, Sample: []msgid.ID{id(102)}},
	}
	if diff := cmp.Diff(wantOrphans, p.Orphaned); diff != "" {
		t.Errorf("orphans (-want +got):\n%s", diff)
	}
}

func ptr(t time.Time) *time.Time { return &t }

func TestNewPlan_noState(t *testing.T) {
	for name, s := range map[string]*state.State{"nil": nil, "new": state.New()} {
		t.Run(name, func(t *testing.T) {
			p, err := NewPlan(testManifest(), s, PlanOptions{Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if p.State != (StateRef{}) {
				t.Errorf("State = %+v, want empty for a state never written", p.State)
			}
			if want := (Summary{Cancel: 10}); p.Summary != want {
				t.Errorf("Summary = %+v, want %+v", p.Summary, want)
			}
			if len(p.Orphaned) != 0 {
				t.Errorf("Orphaned = %v", p.Orphaned)
			}
		})
	}
}

func TestNewPlan_noChanges(t *testing.T) {
	m := testManifest()
	s := testState()
	for _, g := range m.Groups {
		for _, i := range g.IDs {
			if _, ok := s.Lookup(i); !ok {
				s.Set(i, rec(outcome.Cancelled, g.Name))
			}
		}
	}
	p, err := NewPlan(m, s, PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() || len(p.Changes) != 0 || p.Changes == nil {
		t.Errorf("changes = %#v, want empty non-nil", p.Changes)
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings with nothing to cancel: %v", p.Warnings)
	}
}

func TestNewPlan_targets(t *testing.T) {
	p, err := NewPlan(testManifest(), testState(), PlanOptions{Now: fixedNow, Targets: []string{"no-time", "late-blast", "no-time"}})
	if err != nil {
		t.Fatal(err)
	}
	// Orphans are counted against the whole manifest: black-friday's
	// settled messages are not orphans just because it is not targeted.
	if want := (Summary{Cancel: 2, Cancelled: 2, NotFound: 1, Orphaned: 3}); p.Summary != want {
		t.Errorf("Summary = %+v, want %+v", p.Summary, want)
	}
	if diff := cmp.Diff([]string{"no-time", "late-blast"}, p.Targets); diff != "" {
		t.Errorf("Targets: %s", diff)
	}
	var names []string
	for _, g := range p.Groups {
		names = append(names, g.Name)
	}
	if diff := cmp.Diff([]string{"late-blast", "no-time"}, names); diff != "" {
		t.Errorf("groups are not the targets in manifest order: %s", diff)
	}
	for _, c := range p.Changes {
		if c.Group != "late-blast" {
			t.Errorf("change outside the targets: %+v", c)
		}
	}
}

func TestNewPlan_unknownTarget(t *testing.T) {
	_, err := NewPlan(testManifest(), nil, PlanOptions{Targets: []string{"black-friday", "blak-friday", "nope"}})
	var ute *UnknownTargetError
	if !errors.As(err, &ute) {
		t.Fatalf("err = %v, want *UnknownTargetError", err)
	}
	msg := err.Error()
	for _, want := range []string{`"blak-friday"`, `"nope"`, "black-friday, late-blast, no-time"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %s", msg, want)
		}
	}
}

func TestNewPlan_invalidOutcome(t *testing.T) {
	s := testState()
	s.Set(id(2), state.Record{Outcome: 9})
	if _, err := NewPlan(testManifest(), s, PlanOptions{}); err == nil {
		t.Fatal("NewPlan accepted a state record with an invalid outcome")
	}
}

func TestKeepSmallest(t *testing.T) {
	var s []msgid.ID
	for _, n := range []uint64{9, 3, 7, 1, 8, 2, 5} {
		s = keepSmallest(s, id(n))
	}
	if diff := cmp.Diff([]msgid.ID{id(1), id(2), id(3)}, s); diff != "" {
		t.Error(diff)
	}
}

func TestAgo(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12 * time.Second:                     "12s",
		5*time.Minute + 10*time.Second:       "5m",
		3 * time.Hour:                        "3h",
		3*time.Hour + 25*time.Minute:         "3h25m",
		50 * time.Hour:                       "2d2h",
		72 * time.Hour:                       "3d",
		72*time.Hour + 30*time.Minute:        "3d",
		47*time.Hour + 59*time.Minute:        "47h59m",
		2*time.Minute + 600*time.Millisecond: "2m",
	} {
		if got := ago(d); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPlan_CheckManifest(t *testing.T) {
	m := testManifest()
	p, err := NewPlan(m, testState(), PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	p.ManifestPaths = []string{"recall.yaml"}
	if err := p.CheckManifest(m); err != nil {
		t.Errorf("same manifest: %v", err)
	}
	changed := testManifest()
	changed.Groups = changed.Groups[1:]
	changed.Digest = "sha256:0123456789abcdef0123456789abcdef"
	err = p.CheckManifest(changed)
	if !errors.Is(err, ErrStale) {
		t.Fatalf("changed manifest: got %v, want a stale-plan error", err)
	}
	for _, want := range []string{"Saved plan is stale: the manifest (recall.yaml) changed", "now sha256:0123456789ab)", "nothing was cancelled"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// A plan written before manifest digests were recorded has nothing to
	// compare.
	p.ManifestDigest = ""
	if err := p.CheckManifest(changed); err != nil {
		t.Errorf("plan without a digest: %v", err)
	}
}

func TestPlan_CheckStale(t *testing.T) {
	planned := func(s *state.State) *Plan {
		p, err := NewPlan(testManifest(), s, PlanOptions{Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	cur := testState()
	tests := []struct {
		name string
		plan *Plan
		now  *state.State
		want string // "" for not stale
	}{
		{"same", planned(cur), cur, ""},
		{"new state still new", planned(state.New()), state.New(), ""},
		{"new state still missing", planned(nil), nil, ""},
		{"serial changed", planned(cur), &state.State{Lineage: "lin-1", Serial: 8}, "serial changed from 7 to 8"},
		{"lineage changed", planned(cur), &state.State{Lineage: "lin-2", Serial: 7}, "lineage changed from lin-1 to lin-2"},
		{"state created since", planned(nil), cur, "before the state existed"},
		{"state gone", planned(cur), state.New(), "no state at this location"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.plan.CheckStale(tt.now)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckStale = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckStale = nil, want an error about %q", tt.want)
			}
			if !errors.Is(err, ErrStale) || !strings.HasPrefix(err.Error(), "Saved plan is stale") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckStale = %q, want ErrStale starting %q containing %q", err, "Saved plan is stale", tt.want)
			}
		})
	}
}

func TestWritePlan_roundTrip(t *testing.T) {
	m := testManifest()
	m.Groups[0].Reason = `Price "typo" <b> & ünïcode`
	p, err := NewPlan(m, testState(), PlanOptions{Now: fixedNow, Targets: []string{"black-friday", "late-blast"}})
	if err != nil {
		t.Fatal(err)
	}
	p.ManifestPaths = []string{"recall.yaml", "teams/support"}
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatalf("WritePlan wrote invalid JSON:\n%s", buf.Bytes())
	}
	// The fast writer must say exactly what encoding/json would.
	var fast, slow any
	json.Unmarshal(buf.Bytes(), &fast)
	ref, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(ref, &slow)
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Errorf("WritePlan differs from encoding/json (-json +WritePlan):\n%s", diff)
	}
	// One change per line, for reviewable diffs.
	if n := strings.Count(buf.String(), `"action":"cancel"`); n != len(p.Changes) || n != strings.Count(buf.String(), "\n    {\"id\"") {
		t.Errorf("changes not one per line:\n%s", buf.String())
	}

	got, err := ReadPlan(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-wrote +read):\n%s", diff)
	}
	var again bytes.Buffer
	WritePlan(&again, got)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("rewriting a read plan changed its bytes:\n%s\n---\n%s", buf.Bytes(), again.Bytes())
	}
}

func TestWritePlan_empty(t *testing.T) {
	p, err := NewPlan(&manifest.Manifest{}, nil, PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPlan(&buf)
	if err != nil {
		t.Fatalf("ReadPlan of an empty plan: %v\n%s", err, buf.String())
	}
	if len(got.Changes) != 0 || got.Summary != (Summary{}) {
		t.Errorf("got %+v", got)
	}
}

const goodPlan = `{
  "format_version": 1,
  "recall_version": "0.1.0",
  "created_at": "2026-11-27T12:00:00Z",
  "state": {"lineage": "lin-1", "serial": 7},
  "manifest_digest": "sha256:x",
  "summary": {"cancel": 2, "cancelled": 0, "too_late": 0, "not_found": 0, "orphaned": 0},
  "changes": [
    {"id": "360586640FE9846954897dffe6c13dfc", "action": "cancel", "group": "g", "reason": "r", "scheduled_at": "2026-11-28T09:00:00Z"},
    {"id": "b09e1b1bdb5a070c978f03b6836b955c", "action": "cancel", "group": "g", "reason": "r", "scheduled_at": "2026-11-28T09:00:00Z"}
  ]
}`

func TestReadPlan_minimal(t *testing.T) {
	// A plan with only the fields SPEC documents (no groups) is read, and
	// its groups rebuilt from the changes.
	p, err := ReadPlan(strings.NewReader(goodPlan))
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].ID.String() != "360586640fe9846954897dffe6c13dfc" {
		t.Errorf("ID not normalised: %s", p.Changes[0].ID)
	}
	want := []GroupPlan{{Name: "g", Reason: "r", ScheduledAt: ptr(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)), Total: 2, Cancel: 2}}
	if diff := cmp.Diff(want, p.Groups); diff != "" {
		t.Error(diff)
	}
}

func TestReadPlan_errors(t *testing.T) {
	tests := []struct {
		name, doc, want string
	}{
		{"empty", "", "the file is empty"},
		{"not json", "hello", "not valid JSON"},
		{"truncated", goodPlan[:200], "malformed plan"},
		{"trailing", goodPlan + "{}", "unexpected data after"},
		{"no version", `{"changes": []}`, "no format_version"},
		{"newer", strings.Replace(goodPlan, `"format_version": 1`, `"format_version": 2`, 1), "format_version 2 is newer than this recall supports (1)"},
		{"zero version", strings.Replace(goodPlan, `"format_version": 1`, `"format_version": 0`, 1), "format_version 0 is not valid"},
		{"no changes", `{"format_version": 1}`, "no changes list"},
		{"bad id", strings.Replace(goodPlan, "360586640FE9846954897dffe6c13dfc", "360586640FE9846954897dffe6c13dfZ", 1), "change 1: id \"360586640FE9846954897dffe6c13dfZ\": invalid message ID"},
		{"short id", strings.Replace(goodPlan, "b09e1b1bdb5a070c978f03b6836b955c", "b09e", 1), "change 2: id \"b09e\": invalid message ID"},
		{"dup id", strings.Replace(goodPlan, "b09e1b1bdb5a070c978f03b6836b955c", "360586640fe9846954897dffe6c13dfc", 1), "change 2: id 360586640fe9846954897dffe6c13dfc is already change 1"},
		{"action", strings.Replace(goodPlan, `"action": "cancel"`, `"action": "resend"`, 1), `action "resend" is not one this recall knows`},
		{"no group", strings.Replace(goodPlan, `"group": "g"`, `"group": ""`, 1), "no group"},
		{"bad group", strings.Replace(goodPlan, `"group": "g"`, `"group": "G\u001b[31m"`, 1), `group "G\x1b[31m" is not a valid group name`},
		{"bad group in groups", strings.Replace(goodPlan, `"changes"`, `"groups": [{"name": "Bad Name", "cancel": 2}], "changes"`, 1), `groups: "Bad Name" is not a valid group name`},
		{"summary mismatch", strings.Replace(goodPlan, `"cancel": 2`, `"cancel": 3`, 1), "summary says 3 to cancel but the plan lists 2 changes"},
		{"wrong type", strings.Replace(goodPlan, `"serial": 7`, `"serial": "7"`, 1), `field "state.serial"`},
		{"serial without lineage", strings.Replace(goodPlan, `"lineage": "lin-1"`, `"lineage": ""`, 1), "serial 7 without a lineage"},
		{"unknown group", strings.Replace(goodPlan, `"changes"`, `"groups": [{"name": "h", "cancel": 2}], "changes"`, 1), `group "g" is not among the plan's groups`},
		{"group count", strings.Replace(goodPlan, `"changes"`, `"groups": [{"name": "g", "cancel": 1}], "changes"`, 1), `group "g" says 1 to cancel but the plan lists 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadPlan(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatalf("ReadPlan accepted it")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var fe *PlanFormatError
			if !errors.As(err, &fe) && !errors.Is(err, ErrMalformedPlan) {
				t.Errorf("error %v is neither ErrMalformedPlan nor *PlanFormatError", err)
			}
		})
	}
}

func TestWritePlanFile(t *testing.T) {
	p, err := NewPlan(testManifest(), testState(), PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/x.tfplan"
	if err := WritePlanFile(path, p); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPlanFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(p.Changes, got.Changes); diff != "" {
		t.Error(diff)
	}
	if _, err := ReadPlanFile(path + ".missing"); err == nil {
		t.Error("ReadPlanFile of a missing file: no error")
	}
}

func FuzzReadPlan(f *testing.F) {
	f.Add([]byte(goodPlan))
	f.Add([]byte(`{"format_version":1,"summary":{"cancel":2},"changes":[
    {"id":"360586640fe9846954897dffe6c13dfc","action":"cancel","group":"g","reason":"a \"}\" b","scheduled_at":"2026-11-28T09:00:00Z"},
    {"id":"b09e1b1bdb5a070c978f03b6836b955c","action":"cancel","group":"g","reason":"a \"}\" b","scheduled_at":"2026-11-28T09:00:00Z"}
  ]}`))
	f.Add([]byte(`{"format_version": 1, "changes": []}`))
	f.Add([]byte(`{"format_version": 1, "summary": {"cancel": 1}, "changes": [{"id": "00000000000000000000000000000000", "action": "cancel", "group": "a"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ReadPlan(bytes.NewReader(b))
		if err != nil {
			return
		}
		// Whatever is accepted must survive a write and read back the same.
		var buf bytes.Buffer
		if err := WritePlan(&buf, p); err != nil {
			t.Fatalf("WritePlan of an accepted plan: %v", err)
		}
		q, err := ReadPlan(&buf)
		if err != nil {
			t.Fatalf("re-reading a written plan: %v\n%s", err, buf.Bytes())
		}
		if diff := cmp.Diff(p.Changes, q.Changes); diff != "" {
			t.Fatalf("changes differ after a round trip: %s", diff)
		}
	})
}

func TestReadPlan_fastPathRefusals(t *testing.T) {
	// Edits to a plan in WritePlan's own layout are refused as in any
	// other layout.
	p, err := NewPlan(testManifest(), testState(), PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	doc := buf.String()
	if !strings.Contains(doc, `    {"id":"ab000000000000000000000000000002","action":"cancel","group":"black-friday"`) {
		t.Fatalf("layout changed; update this test:\n%s", doc)
	}
	tests := []struct{ name, old, new, want string }{
		{"bad id", `{"id":"ab000000000000000000000000000003"`, `{"id":"ab00000000000000000000000000000z"`, `change 2: id "ab00000000000000000000000000000z": invalid message ID`},
		{"bad group", `"group":"late-blast"`, `"group":"Late Blast"`, `group "Late Blast" is not a valid group name`},
		{"bad action", `"action":"cancel","group":"late-blast"`, `"action":"resend","group":"late-blast"`, `action "resend"`},
		{"dup id", `{"id":"ab000000000000000000000000000003"`, `{"id":"ab000000000000000000000000000002"`, "change 2: id ab000000000000000000000000000002 is already change 1"},
		{"second id key", `{"id":"ab000000000000000000000000000003",`, `{"id":"ab000000000000000000000000000003","id":"ab000000000000000000000000000002",`, "change 2: id ab000000000000000000000000000002 is already change 1"},
		{"trailing garbage", "  ]\n}\n", "  ]\n}\n}", "unexpected data after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := strings.Replace(doc, tt.old, tt.new, 1)
			if bad == doc {
				t.Fatalf("%q not in the document", tt.old)
			}
			_, err := ReadPlan(strings.NewReader(bad))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestReadPlan_inconsistentGroup(t *testing.T) {
	doc := strings.Replace(goodPlan, `"reason": "r", "scheduled_at": "2026-11-28T09:00:00Z"},`, `"reason": "other"},`, 1)
	_, err := ReadPlan(strings.NewReader(doc))
	if err == nil || !strings.Contains(err.Error(), `change 2: group "g" has another reason or scheduled_at than in change 1`) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewPlan_partlyOrphanedGroup(t *testing.T) {
	// IDs removed from a group that is still listed: those messages are
	// orphans recorded under a group the manifest still has.
	m := testManifest()
	s := testState()
	s.Set(id(7), rec(outcome.Cancelled, "black-friday"))
	s.Set(id(6), rec(outcome.TooLate, "black-friday"))
	// Recorded under another group than the one listing it now: not an orphan.
	s.Set(id(11), rec(outcome.Cancelled, "old-campaign"))
	p, err := NewPlan(m, s, PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	want := []OrphanGroup{
		{Group: "black-friday", Count: 2, Sample: []msgid.ID{id(6), id(7)}},
		{Group: "old-campaign", Count: 2, Sample: []msgid.ID{id(100), id(101)}},
		{Group: "gone", Count: 1, Sample: []msgid.ID{id(102)}},
	}
	if diff := cmp.Diff(want, p.Orphaned); diff != "" {
		t.Errorf("orphans (-want +got):\n%s", diff)
	}
	if p.Summary.Orphaned != 5 {
		t.Errorf("Orphaned = %d, want 5", p.Summary.Orphaned)
	}
}

// TestClip: long text from a plan file is cut for messages, never inside a
// character.
func TestClip(t *testing.T) {
	for in, want := range map[string]string{
		"short":                       "short",
		strings.Repeat("a", 40):       strings.Repeat("a", 40),
		strings.Repeat("a", 41):       strings.Repeat("a", 40) + "…",
		strings.Repeat("a", 38) + "é": strings.Repeat("a", 38) + "é", // 40 bytes
		strings.Repeat("a", 39) + "é": strings.Repeat("a", 39) + "…", // the cut falls inside é
	} {
		got := clip(in)
		if got != want || !utf8.ValidString(got) {
			t.Errorf("clip(%q) = %q, want %q", in, got, want)
		}
	}
}
