package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/simulator"
)

// TestApply_UnsavedStateOnStdout: when neither the state nor
// recall.state.errored.json can be written, the state is printed on
// stdout: with -format json as one "unsaved_state" event, so that every
// stdout line is still JSON; in human output as the state file's JSON.
// Either way the error ends with a recovery command to copy, and
// following it recovers every settled message.
func TestApply_UnsavedStateOnStdout(t *testing.T) {
	for _, format := range []string{"json", "human"} {
		t.Run(format, func(t *testing.T) {
			work, stateDir, tmp := t.TempDir(), t.TempDir(), t.TempDir()
			list := ids('u', 300)
			sim, url := startSim(t, simulator.Config{AnyScheduled: true, Latency: 5 * time.Millisecond})
			writeManifest(t, work, group{name: "nowhere", ids: list})
			statePath := filepath.Join(stateDir, "recall.state.json")
			cmd := recallCommand(work, url, "apply", "-auto-approve", "-format", format, "-parallelism", "4", "-state", statePath)
			cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
			stdout, stderr := startCommand(t, cmd)
			waitFor(t, "the first call", func() bool { return sim.Stats().Requests > 0 })
			makeUnwritable(t, stateDir)
			makeUnwritable(t, work)
			if code := exitCode(t, cmd); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			out, msg := stdout.String(), stderr.String()
			assertNoToken(t, "output", out+msg)

			var printed []byte
			if format == "json" {
				sc := bufio.NewScanner(strings.NewReader(out))
				sc.Buffer(nil, 64<<20)
				n := 0
				for sc.Scan() {
					n++
					var ev struct {
						Type     string          `json:"type"`
						Location string          `json:"location"`
						State    json.RawMessage `json:"state"`
					}
					if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
						t.Fatalf("stdout line %d is not JSON (%v): %.200s", n, err, sc.Text())
					}
					if ev.Type == eventUnsavedState {
						if printed != nil {
							t.Errorf("two %s events", eventUnsavedState)
						}
						printed = ev.State
						if ev.Location != statePath {
							t.Errorf("location %q, want %q", ev.Location, statePath)
						}
					}
				}
				if printed == nil {
					t.Fatalf("no %s event on stdout:\n%.2000s", eventUnsavedState, out)
				}
			} else {
				i := strings.Index(out, "{\n")
				if i < 0 {
					t.Fatalf("no state on stdout:\n%.2000s", out)
				}
				printed = []byte(out[i:])
			}
			var st stateFile
			if err := json.Unmarshal(printed, &st); err != nil {
				t.Fatalf("printed state does not parse: %v", err)
			}
			// Every answered message, and only those: a failed checkpoint
			// stops new calls, so on a slow machine the run may end before
			// the last of the list was sent.
			answered := int(sim.Stats().Cancelled)
			if got := st.outcomes()["cancelled"]; got != answered || answered == 0 {
				t.Errorf("printed state holds %v; the simulator cancelled %d of %d (want every one of those)", st.outcomes(), answered, len(list))
			}

			// The recovery is a command to copy.
			saved := filepath.Join(tmp, "recall.state.errored.json")
			push := "\n  recall state push -state " + statePath + " " + saved + "\n"
			if !strings.Contains(msg+"\n", push) || !strings.Contains(msg, "save it as "+saved) {
				t.Fatalf("stderr lacks the recovery command %q:\n%s", push, msg)
			}
			if format == "json" && !strings.Contains(msg, `jq -c 'select(.type == "unsaved_state") | .state' APPLY_OUTPUT > `+saved) {
				t.Errorf("stderr lacks the jq extraction:\n%s", msg)
			}

			// Follow it: save, make the state writable again, push.
			if err := os.WriteFile(saved, printed, 0o644); err != nil {
				t.Fatal(err)
			}
			makeWritable(t, stateDir)
			makeWritable(t, work)
			if r := runRecall(t, work, url, "state", "push", "-state", statePath, saved); r.code != 0 {
				t.Fatalf("state push: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			// The rerun sends only what was never answered: nothing
			// settled is sent again.
			before := sim.Stats()
			r := runRecall(t, work, url, "apply", "-auto-approve", "-state", statePath)
			after := sim.Stats()
			if calls := int(after.Requests - before.Requests); r.code != 0 || calls != len(list)-answered || after.AlreadyCancelled != before.AlreadyCancelled {
				t.Errorf("after recovery: exit %d, %d calls for %d unanswered, %d sent again\n%s\n%s", r.code, calls, len(list)-answered, after.AlreadyCancelled-before.AlreadyCancelled, r.stdout, r.stderr)
			}
		})
	}
}
