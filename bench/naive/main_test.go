package main

import (
	"strings"
	"testing"

	"github.com/recallhq/recall/internal/testkit"
)

const (
	a = "360586640fe9846954897dffe6c13dfc"
	b = "b09e1b1bdb5a070c978f03b6836b955c"
	c = "0123456789abcdef0123456789abcdef"
)

// The floor must count what recall's plan counts, or comparing their times
// means nothing: IDs of the manifest not settled in state, with comments,
// blank lines and upper case handled as recall handles them.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	st := testkit.WriteFile(t, dir, "state.json", `{"format_version": 1, "lineage": "x", "serial": 2, "recall_version": "0.1.0", "messages": {
    "`+a+`": {"outcome": "cancelled", "status": "006", "group": "g", "at": "2026-11-27T10:00:00Z"}
  }}`)
	ids := testkit.WriteFile(t, dir, "ids.txt", "# export\n\n"+strings.ToUpper(a)+"\n"+b+"\n")
	inline := testkit.WriteFile(t, dir, "m.yaml", "version: 1\ncancel:\n  - name: g\n    ids:\n      - "+a+"\n      - "+c+"\n")
	for _, tc := range []struct {
		files []string
		want  int
	}{
		{[]string{ids}, 1},
		{[]string{inline}, 1},
		{[]string{ids, inline}, 2},
	} {
		got, err := run(st, tc.files)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("run(%v) = %d, want %d", tc.files, got, tc.want)
		}
	}
	if _, err := run(testkit.WriteFile(t, dir, "bad.json", "{"), []string{ids}); err == nil {
		t.Error("a truncated state file was accepted")
	}
}
