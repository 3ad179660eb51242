package examples_test

import (
	"context"
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

// stateRoles is a scratch schema set up by examples/postgres-roles.sql, with
// its two roles, and the state URL the pipelines keep: no user, no password.
type stateRoles struct {
	url            string
	schema         string
	reader, writer string
	admin          *pgx.Conn
}

func newStateRoles(t *testing.T) *stateRoles {
	t.Helper()
	admin := pgtest.Connect(t)
	adminURL := pgtest.URL(t)
	schema := pgtest.NewSchemaName("recall_roles_")
	r := &stateRoles{schema: schema, reader: schema + "_plan", writer: schema + "_apply", admin: admin}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for _, q := range []string{
			`DROP SCHEMA IF EXISTS ` + pgx.Identifier{schema}.Sanitize() + ` CASCADE`,
			`DROP OWNED BY ` + pgx.Identifier{r.reader}.Sanitize() + `, ` + pgx.Identifier{r.writer}.Sanitize(),
			`DROP ROLE IF EXISTS ` + pgx.Identifier{r.reader}.Sanitize(),
			`DROP ROLE IF EXISTS ` + pgx.Identifier{r.writer}.Sanitize(),
		} {
			if _, err := admin.Exec(ctx, q); err != nil {
				t.Errorf("cleanup: %s: %v", q, err)
			}
		}
	})
	if _, err := admin.Exec(context.Background(), rolesSQL(t, schema, r.reader, r.writer)); err != nil {
		t.Fatalf("postgres-roles.sql: %v", err)
	}
	u, err := pgtest.SchemaLocation(adminURL, schema)
	if err != nil {
		t.Fatal(err)
	}
	u.User = nil
	r.url = u.String()
	return r
}

// recall runs a real recall process as role, from dir, the credentials in
// PGUSER and PGPASSWORD (trust authentication does not check the password).
func (r *stateRoles) recall(t *testing.T, path, dir, role string, extraEnv []string, args ...string) scriptResult {
	t.Helper()
	cmd := exec.Command(filepath.Join(strings.Split(path, string(os.PathListSeparator))[0], "recall"), args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + path, "HOME=" + os.Getenv("HOME"), "NO_COLOR=1",
		"PGUSER=" + role, "PGPASSWORD=not-checked-by-trust-auth"}, extraEnv...)
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

// bootstrap is the documented first run as the writer, which creates the
// tables.
func (r *stateRoles) bootstrap(t *testing.T, path, dir string) {
	t.Helper()
	if res := r.recall(t, path, dir, r.writer, nil, "state", "list", "-state", r.url, "-workspace", "bootstrap"); res.exit != 0 {
		t.Fatalf("state list as %s: exit %d\n%s", r.writer, res.exit, res.stderr)
	}
}

// TestPostgresRoles runs examples/postgres-roles.sql against the real
// server and then real recall processes as each role, the way the
// pipelines do (a URL without user or password; PGUSER and PGPASSWORD from
// the CI's secrets): plan as the reader fails, with advice, until the
// writer has created the tables; then plan as the reader works, apply as
// the reader is refused by PostgreSQL before any message is cancelled, and
// apply as the writer cancels everything.
func TestPostgresRoles(t *testing.T) {
	r := newStateRoles(t)
	path := recallOnPath(t)
	sim, endpoint := startSim(t)
	repo := userRepo(t)
	ctx := context.Background()
	token := []string{"CLICKATELL_TOKEN=sim-token", "CLICKATELL_ENDPOINT=" + endpoint}
	plan := func() scriptResult {
		t.Helper()
		return r.recall(t, path, repo, r.reader, nil, "plan", "-f", "teams/support", "-state", r.url, "-workspace", "support", "-detailed-exitcode")
	}

	// Before the writer's first run the tables do not exist and the reader
	// may not create them.
	if res := plan(); res.exit != 1 || !strings.Contains(res.stderr, "cannot create recall's tables") {
		t.Errorf("plan as %s before the writer's first run: exit %d, want 1 with advice\n%s", r.reader, res.exit, res.stderr)
	}
	r.bootstrap(t, path, repo)
	var owner string
	if err := r.admin.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE schemaname = $1 AND tablename = 'recall_messages'`, r.schema).Scan(&owner); err != nil || owner != r.writer {
		t.Fatalf("recall_messages owner %q (%v), want %s", owner, err, r.writer)
	}

	if res := plan(); res.exit != 2 || !strings.Contains(res.stdout, "Plan: 23 to cancel") {
		t.Fatalf("plan as %s: exit %d, want 2\n%s\n%s", r.reader, res.exit, res.stdout, res.stderr)
	}
	res := r.recall(t, path, repo, r.reader, token, "apply", "-auto-approve", "-f", "teams/support", "-state", r.url, "-workspace", "support")
	if res.exit == 0 || !strings.Contains(res.stderr, "permission denied") {
		t.Errorf("apply as %s: exit %d, want a refusal by PostgreSQL (permission denied)\n%s\n%s", r.reader, res.exit, res.stdout, res.stderr)
	}
	t.Logf("apply as the read-only role:\n%s", res.stderr)
	if st := sim.Stats(); st.Requests != 0 {
		t.Errorf("apply as the read-only role sent %d calls to Clickatell, want 0", st.Requests)
	}
	res = r.recall(t, path, repo, r.writer, token, "apply", "-auto-approve", "-f", "teams/support", "-state", r.url, "-workspace", "support")
	if res.exit != 0 || !strings.Contains(res.stdout, "Apply complete! Messages: 23 cancelled") {
		t.Fatalf("apply as %s: exit %d\n%s\n%s", r.writer, res.exit, res.stdout, res.stderr)
	}
	if res := plan(); res.exit != 0 || !strings.Contains(res.stdout, "No changes") {
		t.Errorf("plan as %s after the apply: exit %d, want 0\n%s\n%s", r.reader, res.exit, res.stdout, res.stderr)
	}
	if strings.Contains(r.url, "@") {
		t.Errorf("state URL %q should carry no user or password", r.url)
	}
}
