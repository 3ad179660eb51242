package examples_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recallhq/recall/simulator"
)

// TestGitHubApplyKeepsErroredState runs the apply workflow's Apply step
// while the state database stops accepting the writer's writes halfway
// (its INSERT and UPDATE rights revoked): recall keeps what it recorded in
// recall.state.errored.json, the step fails, and the summary that is
// posted says how to push the file back; pushing it with the command it
// gives restores the results, so the rerun sends nothing already settled.
func TestGitHubApplyKeepsErroredState(t *testing.T) {
	need(t, "bash", "jq")
	roles := newStateRoles(t)
	path := recallOnPath(t)
	repo := userRepo(t)
	roles.bootstrap(t, path, repo)
	sim, err := simulator.New(simulator.Config{Token: "sim-token", AnyScheduled: true, Latency: 150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	ctx := map[string]string{
		"matrix.team": "marketing", "vars.RECALL_STATE_URL": roles.url, "vars.RECALL_APPLY_PGUSER": roles.writer,
		"secrets.RECALL_APPLY_PGPASSWORD": "apply-password", "secrets.CLICKATELL_TOKEN": "sim-token",
		"github.token": "gh-token", "github.repository": "acme/sms-recalls", "github.sha": "feedfacefeedfacefeedfacefeedfacefeedface",
		"github.event_name": "push", "github.server_url": "https://github.test", "github.run_id": "4242", "github.run_attempt": "1",
		"steps.reviewed.outputs.planfile": "",
	}
	apply := ghRun{t: t, path: path, dir: repo, file: "recall-apply.yml", ctx: ctx, env: map[string]string{"CLICKATELL_ENDPOINT": srv.URL}}

	// Revoke the writer's rights once the first messages are cancelled.
	tables := pgx.Identifier{roles.schema, "recall_messages"}.Sanitize() + ", " + pgx.Identifier{roles.schema, "recall_states"}.Sanitize()
	done := make(chan error, 1)
	go func() {
		deadline := time.Now().Add(20 * time.Second)
		for sim.Stats().Cancelled < 40 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		_, err := roles.admin.Exec(context.Background(), `REVOKE INSERT, UPDATE ON `+tables+` FROM `+pgx.Identifier{roles.writer}.Sanitize())
		done <- err
	}()
	res := apply.step("apply", "Apply")
	if err := <-done; err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if res.exit == 0 {
		t.Fatalf("apply with the state refusing writes: exit 0\n%s\n%s", res.stdout, res.stderr)
	}
	errored := filepath.Join(repo, "recall.state.errored.json")
	var st struct {
		Messages map[string]json.RawMessage `json:"messages"`
	}
	if err := json.Unmarshal([]byte(readFile(t, errored)), &st); err != nil || len(st.Messages) == 0 {
		t.Fatalf("recall.state.errored.json: %d messages (%v)\n%s", len(st.Messages), err, res.stderr)
	}
	summary := readFile(t, filepath.Join(repo, "apply-summary.md"))
	push := "recall state push -state \"$RECALL_STATE_URL\" -workspace marketing recall.state.errored.json"
	if !strings.Contains(summary, "The state could not be saved") || !strings.Contains(summary, push) || !strings.Contains(summary, "--name recall-apply-marketing-1") {
		t.Errorf("the summary should say how to push the errored state back:\n%s", summary)
	}
	if _, err := os.Stat(filepath.Join(repo, "recall-apply.jsonl")); err != nil {
		t.Error(err)
	}

	// Restore the rights and push the file back as the summary says.
	if _, err := roles.admin.Exec(context.Background(), `GRANT INSERT, UPDATE ON `+tables+` TO `+pgx.Identifier{roles.writer}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	cancelled := sim.Stats().Cancelled
	if r := roles.recall(t, path, repo, roles.writer, []string{"RECALL_STATE_URL=" + roles.url}, "state", "push", "-state", roles.url, "-workspace", "marketing", "recall.state.errored.json"); r.exit != 0 {
		t.Fatalf("state push: exit %d\n%s\n%s", r.exit, r.stdout, r.stderr)
	}
	os.Remove(errored)
	before := sim.Stats()
	res = apply.step("apply", "Apply")
	if res.exit != 0 || !strings.Contains(res.stdout, "0 failed, 0 of") {
		t.Fatalf("rerun after the push: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	after := sim.Stats()
	if again := after.AlreadyCancelled - before.AlreadyCancelled; again > 0 {
		t.Logf("the rerun met %d messages already cancelled (their results were in flight or not recorded)", again)
	}
	if recorded := int64(len(st.Messages)); after.Requests-before.Requests > 330-recorded {
		t.Errorf("the rerun sent %d calls; %d of 330 were recorded in the errored state and pushed back", after.Requests-before.Requests, recorded)
	}
	t.Logf("cancelled before the push %d, recorded in the errored state %d", cancelled, len(st.Messages))
}
