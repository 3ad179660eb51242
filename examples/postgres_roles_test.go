package examples_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recallhq/recall/internal/pgtest"
)

// rolesSQL returns examples/postgres-roles.sql without its comments, with
// the roles and the schema renamed so that the test's are its own (roles are
// global to the server).
func rolesSQL(t *testing.T, schema, reader, writer string) string {
	t.Helper()
	var b strings.Builder
	for _, l := range strings.Split(readFile(t, "postgres-roles.sql"), "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "--") {
			continue
		}
		b.WriteString(l + "\n")
	}
	sql := strings.NewReplacer("recall_apply", writer, "recall_plan", reader).Replace(b.String())
	sql = regexp.MustCompile(`\bSCHEMA recall\b`).ReplaceAllString(sql, "SCHEMA "+schema)
	if regexp.MustCompile(`\brecall\b`).MatchString(sql) {
		t.Fatalf("postgres-roles.sql names something the test does not rename:\n%s", sql)
	}
	return sql
}

// TestPostgresRoles runs examples/postgres-roles.sql against the real
// server and then real recall processes as each role, the way the
// pipelines do (a URL without user or password; PGUSER and PGPASSWORD from
// the CI's secrets): plan as the reader fails, with advice, until the
// writer has created the tables; then plan as the reader works, apply as
// the reader is refused by PostgreSQL before any message is cancelled, and
// apply as the writer cancels everything.
func TestPostgresRoles(t *testing.T) {
	admin := pgtest.Connect(t)
	adminURL := pgtest.URL(t)
	path := recallOnPath(t)
	sim, endpoint := startSim(t)
	repo := userRepo(t)

	schema := pgtest.NewSchemaName("recall_roles_")
	reader, writer := schema+"_plan", schema+"_apply"
	ctx := context.Background()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, q := range []string{
			`DROP SCHEMA IF EXISTS ` + pgx.Identifier{schema}.Sanitize() + ` CASCADE`,
			`DROP OWNED BY ` + pgx.Identifier{reader}.Sanitize() + `, ` + pgx.Identifier{writer}.Sanitize(),
			`DROP ROLE IF EXISTS ` + pgx.Identifier{reader}.Sanitize(),
			`DROP ROLE IF EXISTS ` + pgx.Identifier{writer}.Sanitize(),
		} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Errorf("cleanup: %s: %v", q, err)
			}
		}
	})
	if _, err := admin.Exec(ctx, rolesSQL(t, schema, reader, writer)); err != nil {
		t.Fatalf("postgres-roles.sql: %v", err)
	}

	// The state URL as the pipelines keep it: no user, no password.
	u, err := pgtest.SchemaLocation(adminURL, schema)
	if err != nil {
		t.Fatal(err)
	}
	u.User = nil
	stateURL := u.String()

	recall := func(role string, args ...string) scriptResult {
		t.Helper()
		cmd := exec.Command(filepath.Join(strings.Split(path, string(os.PathListSeparator))[0], "recall"), args...)
		cmd.Dir = repo
		cmd.Env = []string{"PATH=" + path, "HOME=" + os.Getenv("HOME"), "NO_COLOR=1",
			"PGUSER=" + role, "PGPASSWORD=not-checked-by-trust-auth",
			"CLICKATELL_TOKEN=sim-token", "CLICKATELL_ENDPOINT=" + endpoint}
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		res := scriptResult{stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			res.exit = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return res
	}
	plan := func() scriptResult {
		t.Helper()
		return recall(reader, "plan", "-f", "teams/support", "-state", stateURL, "-workspace", "support", "-detailed-exitcode")
	}

	// Before the writer's first run the tables do not exist and the reader
	// may not create them.
	if res := plan(); res.exit != 1 || !strings.Contains(res.stderr, "cannot create recall's tables") {
		t.Errorf("plan as %s before the writer's first run: exit %d, want 1 with advice\n%s", reader, res.exit, res.stderr)
	}
	// The documented first run as the writer creates them.
	if res := recall(writer, "state", "list", "-state", stateURL, "-workspace", "support"); res.exit != 0 {
		t.Fatalf("state list as %s: exit %d\n%s", writer, res.exit, res.stderr)
	}
	var owner string
	if err := admin.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'recall_messages'`, schema).Scan(&owner); err != nil || owner != writer {
		t.Fatalf("recall_messages owner %q (%v), want %s", owner, err, writer)
	}

	if res := plan(); res.exit != 2 || !strings.Contains(res.stdout, "Plan: 23 to cancel") {
		t.Fatalf("plan as %s: exit %d, want 2\n%s\n%s", reader, res.exit, res.stdout, res.stderr)
	}
	res := recall(reader, "apply", "-auto-approve", "-f", "teams/support", "-state", stateURL, "-workspace", "support")
	if res.exit == 0 || !strings.Contains(res.stderr, "permission denied") {
		t.Errorf("apply as %s: exit %d, want a refusal by PostgreSQL (permission denied)\n%s\n%s", reader, res.exit, res.stdout, res.stderr)
	}
	t.Logf("apply as the read-only role:\n%s", res.stderr)
	if st := sim.Stats(); st.Requests != 0 {
		t.Errorf("apply as the read-only role sent %d calls to Clickatell, want 0", st.Requests)
	}
	res = recall(writer, "apply", "-auto-approve", "-f", "teams/support", "-state", stateURL, "-workspace", "support")
	if res.exit != 0 || !strings.Contains(res.stdout, "Apply complete! Messages: 23 cancelled") {
		t.Fatalf("apply as %s: exit %d\n%s\n%s", writer, res.exit, res.stdout, res.stderr)
	}
	if res := plan(); res.exit != 0 || !strings.Contains(res.stdout, "No changes") {
		t.Errorf("plan as %s after the apply: exit %d, want 0\n%s\n%s", reader, res.exit, res.stdout, res.stderr)
	}
	// The URL carries no credentials, so none can appear in recall's output.
	if _, err := url.Parse(stateURL); err != nil || strings.Contains(stateURL, "@") {
		t.Errorf("state URL %q should carry no user or password", stateURL)
	}
}
