package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/simulator"
)

// testEnv is an env for running Main in-process.
func applyTestEnv(stdin string, tty bool, vars map[string]string) (*env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &env{
		stdin:     strings.NewReader(stdin),
		stdout:    &out,
		stderr:    &errb,
		getenv:    func(k string) string { return vars[k] },
		stdinTTY:  tty,
		stdoutTTY: tty,
		now:       time.Now,
	}, &out, &errb
}

// TestApply_Prompt: on a terminal, apply asks, and only "yes" sends
// anything.
func TestApply_Prompt(t *testing.T) {
	for _, tt := range []struct {
		answer string
		code   int
		calls  int64
	}{
		{"no\n", 1, 0},
		{"Yes\n", 1, 0},
		{"", 1, 0}, // end of input
		{"yes\n", 0, 2},
	} {
		t.Run(strings.TrimSpace(tt.answer), func(t *testing.T) {
			dir := t.TempDir()
			sim, url := startSim(t, simulator.Config{AnyScheduled: true})
			writeManifest(t, dir, group{name: "prompt", ids: ids('p', 2)})
			e, out, errb := applyTestEnv(tt.answer, true, map[string]string{
				"CLICKATELL_TOKEN":    testToken,
				"CLICKATELL_ENDPOINT": url,
				"NO_COLOR":            "1",
			})
			code := Main(context.Background(), []string{"apply", "-f", filepath.Join(dir, "recall.yaml"), "-state", filepath.Join(dir, "s.json")}, e)
			if code != tt.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errb)
			}
			if !strings.Contains(out.String(), "Do you want to cancel these messages? Only 'yes' will be accepted:") {
				t.Errorf("no prompt:\n%s", out)
			}
			if got := sim.Stats().Requests; got != tt.calls {
				t.Errorf("%d calls, want %d", got, tt.calls)
			}
			if tt.code == 1 && !strings.Contains(errb.String(), "Apply cancelled.") {
				t.Errorf("stderr:\n%s", errb)
			}
		})
	}
}

func TestParseApplyArgs(t *testing.T) {
	e, _, _ := applyTestEnv("", false, nil)
	for _, tt := range []struct {
		args    []string
		want    *applyArgs
		wantErr string
	}{
		{args: nil, want: &applyArgs{parallelism: 10, maxRetries: 5, timeout: 30 * time.Second, outputFlags: outputFlags{format: "human"}, apiFormat: "json", input: true}},
		{
			args: []string{"-parallelism", "64", "p.plan", "-rate=200", "--max-retries", "2", "-format", "json", "-api-format", "xml", "-lock-timeout", "5m", "-timeout", "2s", "-auto-approve"},
			want: &applyArgs{planFile: "p.plan", autoApprove: true, parallelism: 64, rate: 200, maxRetries: 2, timeout: 2 * time.Second, outputFlags: outputFlags{format: "json"}, common: commonFlags{lockTimeout: 5 * time.Minute}, apiFormat: "xml", input: true},
		},
		{
			args: []string{"-target", "a", "-target", "b", "-f", "x.yaml", "-max-retries", "0"},
			want: &applyArgs{targets: stringsFlag{"a", "b"}, parallelism: 10, maxRetries: 0, timeout: 30 * time.Second, outputFlags: outputFlags{format: "human"}, apiFormat: "json", input: true},
		},
		{
			args: []string{"p.plan", "-detailed-exitcode"},
			want: &applyArgs{planFile: "p.plan", detailedExitcode: true, parallelism: 10, maxRetries: 5, timeout: 30 * time.Second, outputFlags: outputFlags{format: "human"}, apiFormat: "json", input: true},
		},
		{args: []string{"-parallelism", "0"}, wantErr: "apply: -parallelism must be between 1 and 1000, got 0"},
		{args: []string{"-rate", "-1"}, wantErr: "apply: -rate must be 0 (no cap) or more, got -1"},
		{args: []string{"-timeout", "0s"}, wantErr: "apply: -timeout must be positive, got 0s"},
		{args: []string{"-lock-timeout", "-5s"}, wantErr: `invalid value "-5s" for flag -lock-timeout: want 0 or more (0: do not wait)`},
		{args: []string{"-lock-timeout", "5"}, wantErr: `invalid value "5" for flag -lock-timeout: want a duration such as 30s, 5m or 1h30m`},
		{args: []string{"-format", "markdown"}, wantErr: `apply: -format: "markdown" is not one of human, json`},
		{args: []string{"a.plan", "b.plan"}, wantErr: "at most one plan file"},
		{args: []string{"-target", "a", "a.plan"}, wantErr: "-target cannot be used with a saved plan"},
		{args: []string{"-nope"}, wantErr: "flag provided but not defined: -nope"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			got, err := parseApplyArgs(e, tt.args)
			if parseFailed(t, err, tt.wantErr) {
				return
			}
			got.common = commonFlags{lockTimeout: got.common.lockTimeout} // the rest is checked by the scripts
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(applyArgs{}, commonFlags{}, outputFlags{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseApplyArgs(e, []string{"-h"}); err != flag.ErrHelp {
		t.Errorf("-h: %v", err)
	}
}

// TestApplyView_Human: progress lines off a terminal, the closing summary
// with failures grouped, never a line per message.
func TestApplyView_Human(t *testing.T) {
	e, out, errb := applyTestEnv("", false, nil)
	v := newApplyView(e, &applyArgs{outputFlags: outputFlags{format: "human"}})
	if v.progressInterval() != 10*time.Second || v.(*applyHuman).bar {
		t.Errorf("off a terminal: interval %v, bar %v; want 10s lines", v.progressInterval(), v.(*applyHuman).bar)
	}
	v.event(reconcile.Event{Type: reconcile.EventApplyStart, Start: &reconcile.StartEvent{Total: 10000, Parallelism: 10, Rate: 200}})
	for i := 0; i < 3; i++ {
		v.event(reconcile.Event{Type: reconcile.EventMessage, Message: &reconcile.MessageEvent{ID: "x", Outcome: "cancelled"}})
	}
	v.event(reconcile.Event{Type: reconcile.EventProgress, Progress: &reconcile.ProgressEvent{
		Counts:  reconcile.Counts{Total: 10000, Cancelled: 4400, TooLate: 50, NotFound: 40, Failed: 10},
		Elapsed: reconcile.Seconds(10 * time.Second), Rate: 480.4,
	}})
	v.event(reconcile.Event{Type: reconcile.EventDiagnostic, Diagnostic: &reconcile.DiagnosticEvent{Severity: reconcile.SeverityWarning, Summary: "Could not write a state checkpoint; will try again", Detail: "disk full"}})
	v.finish()
	v.summary(&reconcile.ApplyResult{
		Counts: reconcile.Counts{Total: 1219, Cancelled: 1201, TooLate: 2, NotFound: 1, Failed: 15},
		Failures: []reconcile.FailureGroup{
			{Cause: "HTTP 429 (throttled)", Count: 12, Examples: []string{"360586640fe9846954897dffe6c13dfc", "b09e1b1bdb5a070c978f03b6836b955c", "0c2a7f3e9b1d4c5a8e6f7a9b0c1d2e3f"}},
			{Cause: "timeout (no answer within 30s)", Count: 3, Examples: []string{"ffffffffffffffffffffffffffffffff"}},
		},
	}, true)
	got := out.String()
	mustContain(t, "stdout", got,
		"Cancelling 10,000 messages (at most 10 at a time, 200 per second)...\n",
		"Still cancelling... 4,500/10,000 (480/s, 00m10s elapsed)\n", // counts with commas, as everywhere else
		"\nApply finished with failures: 15 messages not settled. Messages: 1,201 cancelled, 2 too late, 1 not found, 15 failed.\n",
		"\n15 messages failed and will be tried again by the next apply:\n",
		"  HTTP 429 (throttled): 12 messages (e.g. 360586640fe9846954897dffe6c13dfc, b09e1b1bdb5a070c978f03b6836b955c, 0c2a7f3e9b1d4c5a8e6f7a9b0c1d2e3f)\n",
		"  timeout (no answer within 30s): 3 messages (e.g. ffffffffffffffffffffffffffffffff)\n",
	)
	if strings.Contains(got, `"x"`) || strings.Count(got, "\n") != 8 {
		t.Errorf("unexpected lines in stdout:\n%s", got)
	}
	if errb.String() != "Warning: Could not write a state checkpoint; will try again: disk full\n" {
		t.Errorf("stderr = %q", errb)
	}
}

// TestApplyView_JSON: every event is one JSON object on its own line.
func TestApplyView_JSON(t *testing.T) {
	e, out, _ := applyTestEnv("", false, nil)
	v := newApplyView(e, &applyArgs{outputFlags: outputFlags{format: "json"}})
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	v.event(reconcile.Event{Type: reconcile.EventMessage, Time: at, Message: &reconcile.MessageEvent{ID: "360586640fe9846954897dffe6c13dfc", Group: "g", Outcome: "too_late", Status: "004", Description: "Received by recipient", Attempts: 2}})
	v.event(reconcile.Event{Type: reconcile.EventProgress, Time: at, Progress: &reconcile.ProgressEvent{Counts: reconcile.Counts{Total: 2, TooLate: 1, Calls: 2}, Elapsed: reconcile.Seconds(1500 * time.Millisecond), Rate: 0.5, ETA: reconcile.Seconds(2 * time.Second)}})
	v.summary(&reconcile.ApplyResult{}, true) // the engine's summary event says it all
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{
		`{"type":"message","time":"2026-11-27T10:00:00Z","message":{"id":"360586640fe9846954897dffe6c13dfc","group":"g","outcome":"too_late","status":"004","description":"Received by recipient","attempts":2}}`,
		`{"type":"progress","time":"2026-11-27T10:00:00Z","progress":{"total":2,"cancelled":0,"too_late":1,"not_found":0,"not_delivered":0,"failed":0,"calls":2,"elapsed_seconds":1.5,"rate":0.5,"eta_seconds":2}}`,
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("not JSON: %s", l)
		}
	}
}

func TestClock(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                          "00m00s",
		10 * time.Second:           "00m10s",
		61*time.Second + 400e6:     "01m01s",
		3725 * time.Second:         "1h02m05s",
		26*time.Hour + time.Minute: "26h01m00s",
	} {
		if got := clock(d); got != want {
			t.Errorf("clock(%v) = %q, want %q", d, got, want)
		}
	}
}
