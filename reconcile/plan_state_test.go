package reconcile

import (
	"bytes"
	"strings"
	"testing"
)

// TestPlan_stateLocation: a saved plan keeps its state's location and
// workspace; they do not make it stale; a plan without them reads as
// before.
func TestPlan_stateLocation(t *testing.T) {
	p, err := NewPlan(testManifest(), testState(), PlanOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	p.State.Location = "postgres://recall@db/recall?sslmode=disable"
	p.State.Workspace = "eu"
	var buf bytes.Buffer
	if err := WritePlan(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"location": "postgres://recall@db/recall?sslmode=disable",`) || !strings.Contains(buf.String(), `"workspace": "eu"`) {
		t.Errorf("saved plan lacks the state's location:\n%s", buf.String()[:400])
	}
	got, err := ReadPlan(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != p.State {
		t.Errorf("State = %+v, want %+v", got.State, p.State)
	}
	if err := got.CheckStale(testState()); err != nil {
		t.Errorf("CheckStale: %v", err)
	}

	old := `{"format_version": 1, "state": {"lineage": "lin-1", "serial": 7}, "summary": {"cancel": 0}, "changes": []}`
	op, err := ReadPlan(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	if op.State != (StateRef{Lineage: "lin-1", Serial: 7}) {
		t.Errorf("older plan State = %+v", op.State)
	}
}
