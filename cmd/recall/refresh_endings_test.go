package main

import (
	"strings"
	"testing"

	"github.com/recallhq/recall/simulator"
)

// TestApplyRefresh_FailuresAreNotComplete: as apply's, the refresh's
// closing line says "complete" only when every status was read; a status
// that could not be read (here one Clickatell does not document) makes it
// say how many were not refreshed.
func TestApplyRefresh_FailuresAreNotComplete(t *testing.T) {
	portal, odd := ids('p', 1), ids('q', 1)
	_, url := startSim(t, simulator.Config{Cancelled: portal, Answers: map[string]string{odd[0]: "015"}})
	work := t.TempDir()
	writeManifest(t, work, group{name: "g", ids: append(portal, odd...)})
	r := runRecall(t, work, url, "apply", "-refresh-only", "-auto-approve")
	want := "\nRefresh finished with failures: 1 message not refreshed. Messages: 1 recorded (1 cancelled), 0 still scheduled, 0 unchanged, 0 drifted, 1 failed.\n"
	if r.code != 1 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "Refresh complete!") {
		t.Errorf("exit %d, want 1 and %q in:\n%s\n%s", r.code, want, r.stdout, r.stderr)
	}
}
