package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDemo runs the quick start as the README shows it: plan, apply of the
// saved plan, plan again; then the whole demo again, which sends nothing.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds recall")
	}
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"-state", filepath.Join(dir, "recall.state.json"), "-out", filepath.Join(dir, "q.plan")}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s\n%s", err, out.String(), errb.String())
	}
	for _, want := range []string{
		"Plan: 6 to cancel, 0 already cancelled, 0 too late, 0 not found.",
		"Apply complete! Messages: 6 cancelled, 0 too late, 0 not found, 0 failed.",
		"No changes. 6 listed messages are settled: 6 cancelled, 0 too late, 0 not found.",
		"The simulator cancelled 6 messages in 6 calls.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "recall.state.json"))
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Messages map[string]struct{ Outcome string } `json:"messages"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Messages) != 6 {
		t.Errorf("state holds %d messages, want 6", len(st.Messages))
	}
	for id, m := range st.Messages {
		if m.Outcome != "cancelled" {
			t.Errorf("%s: %s", id, m.Outcome)
		}
	}

	// Again: the state is there, so nothing is sent.
	out.Reset()
	if err := run(context.Background(), args, &out, &errb); err != nil {
		t.Fatalf("second run: %v\n%s\n%s", err, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "The simulator cancelled 0 messages in 0 calls.") {
		t.Errorf("second run sent calls:\n%s", out.String())
	}
}
