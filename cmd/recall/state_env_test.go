package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state/pg"
)

// TestStateEnv: RECALL_STATE and RECALL_WORKSPACE name the state of every
// command that takes -state, the flags win, and each value says where it
// came from.
func TestStateEnv(t *testing.T) {
	env := map[string]string{envState: "postgres://recall@db/recall", envWorkspace: "eu"}
	for _, tc := range []struct {
		name                string
		vars                map[string]string
		args                []string
		state, from         string
		workspace, fromWork string
	}{
		{"defaults", nil, nil, defaultState, "", defaultWorkspace, ""},
		{"environment", env, nil, "postgres://recall@db/recall", envState, "eu", envWorkspace},
		{"flags win", env, []string{"-state", "s.json", "-workspace", "default"}, "s.json", "-state", "default", "-workspace"},
		{"one flag", env, []string{"-workspace=us"}, "postgres://recall@db/recall", envState, "us", "-workspace"},
		{"empty variables are unset", map[string]string{envState: "", envWorkspace: ""}, nil, defaultState, "", defaultWorkspace, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(tc.vars, false)
			a, err := parsePlanArgs(e, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			got := [4]string{a.state, a.stateFrom, a.workspace, a.workspaceFrom}
			if diff := cmp.Diff([4]string{tc.state, tc.from, tc.workspace, tc.fromWork}, got); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			// The commands that parse flags after positional arguments
			// get the same.
			b, err := parseApplyArgs(e, append([]string{"p.json"}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			got = [4]string{b.common.state, b.common.stateFrom, b.common.workspace, b.common.workspaceFrom}
			if diff := cmp.Diff([4]string{tc.state, tc.from, tc.workspace, tc.fromWork}, got); diff != "" {
				t.Errorf("apply (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSameLocation(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"recall.state.json", "recall.state.json", true},
		{"recall.state.json", "./recall.state.json", true},
		{"recall.state.json", dir + "/recall.state.json", true},
		{"recall.state.json", "sub/../recall.state.json", true},
		{"recall.state.json", "other.json", false},
		{"recall.state.json", "postgres://u@db/x", false},
		{"postgres://u:pw@db/x", "postgresql://u@db:5432/x", true},
		{"postgres://u@db/x", "postgres://u@db/y", false},
	} {
		if got := sameLocation(tc.a, tc.b); got != tc.same {
			t.Errorf("sameLocation(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}

// TestUsePlanState: how apply PLANFILE chooses its state from the plan,
// the flags and the environment.
func TestUsePlanState(t *testing.T) {
	const (
		rec   = "postgres://recall@db/recall?sslmode=disable"
		withP = "postgresql://recall:s3cret@db:5432/recall?sslmode=disable"
	)
	plan := func(loc, ws string) *reconcile.Plan {
		return &reconcile.Plan{State: reconcile.StateRef{Location: loc, Workspace: ws}}
	}
	for _, tc := range []struct {
		name      string
		vars      map[string]string
		args      []string
		p         *reconcile.Plan
		state, ws string
		err       string
	}{
		{"the plan's", nil, nil, plan(rec, "eu"), rec, "eu", ""},
		{"RECALL_STATE's password", map[string]string{envState: withP}, nil, plan(rec, "default"), withP, "default", ""},
		{"RECALL_STATE's password for a -state without one", map[string]string{envState: withP}, []string{"-state", rec}, plan(rec, "default"), withP, "default", ""},
		{"RECALL_STATE of another state", map[string]string{envState: "postgres://recall:pw@db/other"}, nil, plan(rec, "default"), "", "", "but RECALL_STATE names another state, postgres://recall@db/other;"},
		{"-state of another state", nil, []string{"-state", "s.json"}, plan(rec, "default"), "", "", "was made against the state at " + rec + ", but -state names another state, s.json;"},
		{"-state with a password", nil, []string{"-state", withP}, plan(rec, "default"), withP, "default", ""},
		{"RECALL_WORKSPACE of another", map[string]string{envWorkspace: "us"}, nil, plan(rec, "eu"), "", "", `but RECALL_WORKSPACE names workspace "us"`},
		{"an older plan", map[string]string{envWorkspace: "us"}, []string{"-state", "s.json"}, plan("", ""), "s.json", "us", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _, _ := testEnv(tc.vars, false)
			a, err := parseApplyArgs(e, append([]string{"p.json"}, tc.args...))
			if err != nil {
				t.Fatal(err)
			}
			err = usePlanState(e, &a.common, tc.p, "p.json")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), ":pw@") {
					t.Errorf("error shows a password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.common.state != tc.state || a.common.workspace != tc.ws {
				t.Errorf("state %q workspace %q, want %q %q", a.common.state, a.common.workspace, tc.state, tc.ws)
			}
		})
	}
}

func TestParseStateTimeout(t *testing.T) {
	for in, want := range map[string]time.Duration{"": pg.DefaultTimeout, "0": 0, "45s": 45 * time.Second, "2m": 2 * time.Minute} {
		if got, err := parseStateTimeout(in); err != nil || got != want {
			t.Errorf("parseStateTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"soon", "-1s", "30"} {
		if _, err := parseStateTimeout(in); err == nil || !strings.Contains(err.Error(), envStateTimeout) {
			t.Errorf("parseStateTimeout(%q) = %v, want an error naming %s", in, err, envStateTimeout)
		}
	}
}
