package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

var bg = context.Background()

// open opens a Backend or fails the test, and closes it at the end.
func open(t *testing.T, loc, workspace string) *Backend {
	t.Helper()
	b, err := Open(loc, workspace)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestOpen_Validation(t *testing.T) {
	for _, tc := range []struct {
		name, loc, ws, want string
	}{
		{"bad scheme", "mysql://u@h/db", "", `scheme "mysql"`},
		{"bad workspace", "postgres://u@h/db", "no spaces", `invalid workspace name "no spaces"`},
		{"workspace leading dot", "postgres://u@h/db", ".hidden", "invalid workspace name"},
		{"workspace too long", "postgres://u@h/db", strings.Repeat("a", 65), "invalid workspace name"},
		{"bad schema", "postgres://u@h/db?schema=Bad-Name", "", `invalid schema "Bad-Name"`},
		{"bad port", "postgres://u:hunter2@h:notaport/db", "", "invalid PostgreSQL URL"},
		{"bad sslmode", "postgres://u:hunter2@h/db?sslmode=sometimes", "", "invalid PostgreSQL URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.loc, tc.ws)
			if err == nil {
				t.Fatalf("Open(%q, %q) succeeded, want an error containing %q", tc.loc, tc.ws, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
	for _, ws := range []string{"default", "prod", "team-a.eu_1", "A", strings.Repeat("z", 64)} {
		if _, err := Open("postgresql://u@h/db", ws); err != nil {
			t.Errorf("Open with workspace %q: %v", ws, err)
		}
	}
}

func TestBackend_StringRedactsPassword(t *testing.T) {
	for _, tc := range []struct{ loc, want string }{
		{"postgres://alice:hunter2@db.example.com:5433/recall", `postgres://alice:xxxxx@db.example.com:5433/recall (workspace "default")`},
		{"postgresql://alice@db.example.com/recall?sslmode=require", `postgresql://alice@db.example.com/recall?sslmode=require (workspace "default")`},
		{"postgres://alice@db.example.com/recall?password=hunter2&sslmode=disable", `postgres://alice@db.example.com/recall?password=xxxxx&sslmode=disable (workspace "default")`},
		{"postgres://alice@db.example.com/recall?sslpassword=hunter2&schema=team_a", `postgres://alice@db.example.com/recall?schema=team_a&sslpassword=xxxxx (workspace "default")`},
	} {
		b, err := Open(tc.loc, "")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if got := b.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestErrors_ServerDown(t *testing.T) {
	port := closedPort(t)
	b := open(t, fmt.Sprintf("postgres://postgres:hunter2@127.0.0.1:%d/test", port), "")
	_, err := b.Read(bg)
	want := fmt.Sprintf("cannot connect to PostgreSQL at 127.0.0.1:%d: connection refused; is the server running?", port)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Read with the server down: %v, want %q", err, want)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
	if _, err := b.Lock(bg, state.LockRequest{Operation: "apply"}); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Lock with the server down: %v, want %q", err, want)
	}
}

func TestErrors_MissingDatabase(t *testing.T) {
	u, _ := url.Parse(pgtest.URL(t))
	u.Path = "/recall_no_such_database"
	b := open(t, u.String(), "")
	_, err := b.Read(bg)
	if err == nil || !strings.Contains(err.Error(), `database "recall_no_such_database" does not exist`) || !strings.Contains(err.Error(), "createdb recall_no_such_database") {
		t.Fatalf("Read of a missing database: %v, want it to say the database does not exist and how to create it", err)
	}
}

// role creates a login role without rights and returns the test URL
// connecting as it. The role is dropped when the test ends.
func role(t *testing.T) (string, string) {
	t.Helper()
	name := "recall_test_" + strings.ReplaceAll(strings.ToLower(t.Name()), "/", "_")
	return roleNamed(t, name[:min(len(name), 50)])
}

// roleNamed is role with a given name.
func roleNamed(t *testing.T, name string) (string, string) {
	t.Helper()
	admin := pgtest.Connect(t)
	if _, err := admin.Exec(bg, `DROP ROLE IF EXISTS `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(bg, `CREATE ROLE `+pgx.Identifier{name}.Sanitize()+` LOGIN`); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(bg, pgtest.URL(t))
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(bg)
		for _, q := range []string{`DROP OWNED BY `, `DROP ROLE `} {
			if _, err := c.Exec(bg, q+pgx.Identifier{name}.Sanitize()); err != nil {
				t.Errorf("%s%s: %v", q, name, err)
			}
		}
	})
	u, _ := url.Parse(pgtest.URL(t))
	u.User = url.User(name)
	return u.String(), name
}

func TestErrors_RoleWithoutRights(t *testing.T) {
	loc, name := role(t)
	schema := pgtest.Schema(t)
	b := open(t, pgtest.WithSchema(t, loc, schema), "")
	_, err := b.Read(bg)
	if err == nil {
		t.Fatal("Read as a role that may not create the tables succeeded")
	}
	for _, want := range []string{fmt.Sprintf("PostgreSQL user %q lacks the rights", name), `GRANT CREATE ON DATABASE "test" TO "` + name + `"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}

	// Once an owner has created the tables and granted the role what a
	// state needs, the role works without any CREATE right.
	owner := open(t, pgtest.WithSchema(t, pgtest.URL(t), schema), "")
	statetest.MustRead(t, owner)
	admin := pgtest.Connect(t)
	for _, q := range []string{
		`GRANT USAGE ON SCHEMA %[1]s TO %[2]s`,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %[1]s TO %[2]s`,
	} {
		if _, err := admin.Exec(bg, fmt.Sprintf(q, pgx.Identifier{schema}.Sanitize(), pgx.Identifier{name}.Sanitize())); err != nil {
			t.Fatal(err)
		}
	}
	user := open(t, pgtest.WithSchema(t, loc, schema), "")
	statetest.MustRead(t, user)
	l, err := user.Lock(bg, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatalf("Lock as the granted role: %v", err)
	}
	if err := user.Commit(bg, statetest.Changes(0, 3)); err != nil {
		t.Fatalf("Commit as the granted role: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if s := statetest.MustRead(t, owner); s.Serial != 1 || s.Len() != 3 {
		t.Errorf("owner reads serial %d, %d messages; want 1, 3", s.Serial, s.Len())
	}
}

func TestSchema_NewerVersionRefused(t *testing.T) {
	schema := pgtest.Schema(t)
	loc := pgtest.WithSchema(t, pgtest.URL(t), schema)
	statetest.MustRead(t, open(t, loc, ""))
	admin := pgtest.Connect(t)
	if _, err := admin.Exec(bg, `INSERT INTO `+pgx.Identifier{schema, "recall_schema_version"}.Sanitize()+` (version, recall_version) VALUES ($1, '9.9.9')`, SchemaVersion+1); err != nil {
		t.Fatal(err)
	}
	b := open(t, loc, "")
	_, err := b.Read(bg)
	var ve *SchemaVersionError
	if !errors.As(err, &ve) || ve.Found != SchemaVersion+1 || !strings.Contains(err.Error(), "upgrade recall") {
		t.Fatalf("Read of a newer schema: %v, want a *SchemaVersionError for version %d that says to upgrade", err, SchemaVersion+1)
	}
	if _, err := b.Lock(bg, state.LockRequest{Operation: "apply"}); !errors.As(err, &ve) {
		t.Errorf("Lock on a newer schema: %v, want a *SchemaVersionError", err)
	}
}

func TestSchema_ConcurrentFirstUse(t *testing.T) {
	schema := pgtest.Schema(t)
	loc := pgtest.WithSchema(t, pgtest.URL(t), schema)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			b, err := Open(loc, fmt.Sprintf("w%d", i))
			if err != nil {
				errs[i] = err
				return
			}
			defer b.Close()
			if _, err := b.Read(bg); err != nil {
				errs[i] = err
				return
			}
			errs[i] = b.Commit(bg, statetest.Changes(i, 1))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("backend %d: %v", i, err)
		}
	}
	var versions []int
	rows, _ := pgtest.Connect(t).Query(bg, `SELECT version FROM `+pgx.Identifier{schema, "recall_schema_version"}.Sanitize()+` ORDER BY version`)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != SchemaVersion || versions[len(versions)-1] != SchemaVersion {
		t.Errorf("schema versions recorded: %v, want 1..%d once each", versions, SchemaVersion)
	}
}

func TestCommit_SerialConflict(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	a, b := open(t, loc, ""), open(t, loc, "")
	statetest.MustRead(t, a)
	if err := a.Commit(bg, statetest.Changes(0, 2)); err != nil {
		t.Fatal(err)
	}
	statetest.MustRead(t, b)
	if err := a.Commit(bg, statetest.Changes(2, 2)); err != nil {
		t.Fatal(err)
	}
	// b read serial 1; the database is at 2 now.
	err := b.Commit(bg, statetest.Changes(100, 5))
	var sc *SerialConflictError
	if !errors.As(err, &sc) || sc.Expected != 1 || sc.Found != 2 {
		t.Fatalf("Commit over another writer's commit: %v, want a *SerialConflictError expecting 1, finding 2", err)
	}
	got := statetest.MustRead(t, open(t, loc, ""))
	if got.Serial != 2 || got.Len() != 4 {
		t.Errorf("after the refused commit: serial %d, %d messages; want 2, 4 (nothing written)", got.Serial, got.Len())
	}

	// Two handles creating the same new state: the second is refused.
	c, d := open(t, loc, "new"), open(t, loc, "new")
	statetest.MustRead(t, c)
	statetest.MustRead(t, d)
	if err := c.Commit(bg, statetest.Changes(0, 1)); err != nil {
		t.Fatal(err)
	}
	if err := d.Commit(bg, statetest.Changes(1, 1)); !errors.As(err, &sc) || sc.Expected != 0 || sc.Found != 1 || sc.Lineage == "" {
		t.Errorf("second creation of a state: %v, want a *SerialConflictError naming the other lineage", err)
	}
}

// countWrites installs triggers that count the rows and statements written
// to recall_messages and recall_states, and returns a function reading the
// counts since the last call.
func countWrites(t *testing.T, schema string) func() (msgRows, msgStmts, stateRows int) {
	t.Helper()
	admin := pgtest.Connect(t)
	q := func(s string) {
		t.Helper()
		s = strings.ReplaceAll(s, "{s}", pgx.Identifier{schema}.Sanitize())
		if _, err := admin.Exec(bg, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	// One row per write, counted when asked: a trigger that bumped one
	// counter row would update that row thousands of times in one
	// transaction, each update slower than the last.
	q(`CREATE UNLOGGED TABLE {s}.writes (what text NOT NULL)`)
	q(`CREATE FUNCTION {s}.count_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO ` + pgx.Identifier{schema}.Sanitize() + `.writes VALUES (TG_ARGV[0]);
	RETURN NULL;
END $$`)
	q(`CREATE TRIGGER count_rows AFTER INSERT OR UPDATE OR DELETE ON {s}.recall_messages FOR EACH ROW EXECUTE FUNCTION {s}.count_write('msg_rows')`)
	q(`CREATE TRIGGER count_stmts AFTER INSERT OR UPDATE OR DELETE ON {s}.recall_messages FOR EACH STATEMENT EXECUTE FUNCTION {s}.count_write('msg_stmts')`)
	q(`CREATE TRIGGER count_rows AFTER INSERT OR UPDATE OR DELETE ON {s}.recall_states FOR EACH ROW EXECUTE FUNCTION {s}.count_write('state_rows')`)
	return func() (int, int, int) {
		t.Helper()
		var m, s, st int
		err := admin.QueryRow(bg, strings.ReplaceAll(`SELECT
	count(*) FILTER (WHERE what = 'msg_rows'),
	count(*) FILTER (WHERE what = 'msg_stmts'),
	count(*) FILTER (WHERE what = 'state_rows')
	FROM {s}.writes`, "{s}", pgx.Identifier{schema}.Sanitize())).Scan(&m, &s, &st)
		if err != nil {
			t.Fatal(err)
		}
		q(`TRUNCATE {s}.writes`)
		return m, s, st
	}
}

// TestCommit_WritesOnlyChanges checks, with triggers counting what the
// server writes, that a checkpoint of N changes writes N message rows in a
// constant number of statements, whatever the size of the state.
func TestCommit_WritesOnlyChanges(t *testing.T) {
	for _, size := range []int{2000, 20000} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			schema := pgtest.Schema(t)
			loc := pgtest.WithSchema(t, pgtest.URL(t), schema)
			b := open(t, loc, "")
			if err := statetest.WriteLarge(bg, b, size); err != nil {
				t.Fatal(err)
			}
			statetest.MustRead(t, b)
			writes := countWrites(t, schema)

			// 600 new messages, 300 changed, 100 forgotten.
			var cs []state.Change
			cs = append(cs, statetest.Changes(size, 600)...)
			for i := 0; i < 300; i++ {
				r := statetest.Record(i)
				r.Description = "changed"
				cs = append(cs, state.Change{ID: statetest.ID(i), Record: &r})
			}
			for i := 300; i < 400; i++ {
				cs = append(cs, state.Change{ID: statetest.ID(i)})
			}
			if err := b.Commit(bg, cs); err != nil {
				t.Fatal(err)
			}
			if m, s, st := writes(); m != 1000 || s != 3 || st != 1 {
				t.Errorf("a commit of 1000 changes on %d messages wrote %d message rows in %d statements and %d state rows; want 1000, 3 (copy, update, delete), 1", size, m, s, st)
			}

			// Changes that change nothing write nothing.
			same := statetest.Changes(size, 50)
			same = append(same, state.Change{ID: statetest.ID(350)}) // already forgotten
			if err := b.Commit(bg, same); err != nil {
				t.Fatal(err)
			}
			if m, s, st := writes(); m != 0 || s != 0 || st != 0 {
				t.Errorf("a commit of changes already recorded wrote %d message rows, %d statements, %d state rows; want none", m, s, st)
			}

			// More than a batch: statements grow with the changes, not the
			// state; new messages are one COPY however many.
			var big []state.Change
			big = append(big, statetest.Changes(size+1000, batchSize+1)...)
			for i := 400; i < size; i++ {
				r := statetest.Record(i)
				r.Group = "regrouped"
				big = append(big, state.Change{ID: statetest.ID(i), Record: &r})
			}
			if err := b.Commit(bg, big); err != nil {
				t.Fatal(err)
			}
			wantStmts := 1 + (size-400+batchSize-1)/batchSize // one COPY, updates by the batch
			if m, s, st := writes(); m != batchSize+1+size-400 || s != wantStmts || st != 1 {
				t.Errorf("a commit of %d new and %d changed messages wrote %d rows in %d statements, %d state rows; want %d in %d, 1", batchSize+1, size-400, m, s, st, batchSize+1+size-400, wantStmts)
			}
			if got := statetest.MustRead(t, open(t, loc, "")); got.Len() != size+600-100+batchSize+1 || got.Serial != 3 || got.Get(statetest.ID(401)).Group != "regrouped" {
				t.Errorf("read back %d messages at serial %d, want %d at 3", got.Len(), got.Serial, size+600-100+batchSize+1)
			}
		})
	}
}

func TestCommit_ExactStrings(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	b := open(t, loc, "")
	statetest.MustRead(t, b)
	odd := state.Record{Outcome: outcome.TooLate, Status: "0\x0004", Description: "nul \x00 and bad utf-8 \xff\xfe", Group: "g\x00", At: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	plain := state.Record{Outcome: outcome.Cancelled, Status: "006", Description: "Zürich 東京", Group: "g", At: odd.At}
	id1, id2 := msgid.MustParse("360586640fe9846954897dffe6c13dfc"), msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c")
	if err := b.Commit(bg, []state.Change{{ID: id1, Record: &odd}, {ID: id2, Record: &plain}}); err != nil {
		t.Fatal(err)
	}
	got := statetest.MustRead(t, open(t, loc, ""))
	if got.Get(id1) != odd || got.Get(id2) != plain {
		t.Errorf("read back %+v and %+v, want %+v and %+v", got.Get(id1), got.Get(id2), odd, plain)
	}
	// The text columns stay readable; only the odd record uses exact.
	rows, err := pgtest.Connect(t).Query(bg, `SELECT encode(id, 'hex'), description, exact IS NOT NULL FROM `+b.sql.messages+` ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		ID, Description string
		Exact           bool
	}
	rs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{id1.String(), "nul \uFFFD and bad utf-8 \uFFFD", true}, {id2.String(), "Zürich 東京", false}}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Errorf("rows = %+v, want %+v", rs, want)
	}
}

func TestRead_Corrupt(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	b := open(t, loc, "")
	statetest.MustRead(t, b)
	if err := b.Commit(bg, statetest.Changes(0, 3)); err != nil {
		t.Fatal(err)
	}
	id := statetest.ID(1)
	if _, err := pgtest.Connect(t).Exec(bg, `UPDATE `+b.sql.messages+` SET exact = '\x05ab'::bytea WHERE id = $1`, id[:]); err != nil {
		t.Fatal(err)
	}
	c := open(t, loc, "")
	_, err := c.Read(bg)
	if !errors.Is(err, state.ErrCorrupt) {
		t.Fatalf("Read of a corrupt row: %v, want state.ErrCorrupt", err)
	}
	if err := c.Commit(bg, statetest.Changes(10, 1)); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Commit after a corrupt Read: %v, want a refusal wrapping state.ErrCorrupt", err)
	}
	if err := c.Replace(bg, statetest.LargeState(2)); !errors.Is(err, state.ErrCorrupt) {
		t.Errorf("Replace after a corrupt Read: %v, want a refusal wrapping state.ErrCorrupt", err)
	}
	// A handle that has not read may restore a good state over it.
	if err := open(t, loc, "").Replace(bg, statetest.LargeState(2)); err != nil {
		t.Fatalf("Replace by a fresh handle: %v", err)
	}
	if got := statetest.MustRead(t, c); statetest.Diff(statetest.LargeState(2), got) != "" {
		t.Errorf("after restoring: %s", statetest.Diff(statetest.LargeState(2), got))
	}
}

func TestPGMicros(t *testing.T) {
	for _, tm := range []time.Time{
		{},
		time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		if got := fromPGMicros(pgMicros(tm)); !got.Equal(tm) {
			t.Errorf("fromPGMicros(pgMicros(%v)) = %v", tm, got)
		}
	}
	if got := pgMicros(time.Date(2000, 1, 1, 0, 0, 1, 0, time.UTC)); got != 1_000_000 {
		t.Errorf("pgMicros(2000-01-01T00:00:01Z) = %d, want 1000000", got)
	}
}

// TestTimes_FarDates: times far from 2000, the zero time included, survive
// both write paths (Commit's arrays and Replace's binary COPY).
func TestTimes_FarDates(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	times := []time.Time{{}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2200, 6, 1, 12, 0, 0, 0, time.UTC)}
	src := &state.State{Lineage: "0b6d3a1e-0000-4000-8000-000000000009", Serial: 3}
	var cs []state.Change
	for i, tm := range times {
		r := state.Record{Outcome: outcome.Cancelled, Status: "006", At: tm}
		src.Set(statetest.ID(i), r)
		cs = append(cs, state.Change{ID: statetest.ID(100 + i), Record: &r})
	}
	b := open(t, loc, "")
	if err := b.Replace(bg, src); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(bg, cs); err != nil {
		t.Fatal(err)
	}
	got := statetest.MustRead(t, open(t, loc, ""))
	for i, tm := range times {
		for _, id := range []msgid.ID{statetest.ID(i), statetest.ID(100 + i)} {
			if at := got.Get(id).At; !at.Equal(tm) {
				t.Errorf("message %s: At = %v, want %v", id, at, tm)
			}
		}
	}
}

func TestCommit_Edges(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	b := open(t, loc, "")
	// A replaced state of serial 0 exists: the next commit makes it 1.
	if err := b.Replace(bg, &state.State{Lineage: "0b6d3a1e-0000-4000-8000-00000000000a"}); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(bg, statetest.Changes(0, 1)); err != nil {
		t.Fatalf("Commit after Replace of serial 0: %v", err)
	}
	if got := statetest.MustRead(t, open(t, loc, "")); got.Serial != 1 || got.Len() != 1 {
		t.Errorf("serial %d, %d messages; want 1, 1", got.Serial, got.Len())
	}
	// An invalid outcome is refused before anything is sent.
	bad := state.Record{Outcome: 0, Status: "006"}
	err := b.Commit(bg, []state.Change{{ID: statetest.ID(5), Record: &bad}, statetest.Changes(6, 1)[0]})
	if err == nil || !strings.Contains(err.Error(), "invalid outcome") {
		t.Errorf("Commit of an invalid outcome: %v, want a refusal", err)
	}
	if got := statetest.MustRead(t, open(t, loc, "")); got.Serial != 1 {
		t.Errorf("serial %d after a refused commit, want 1", got.Serial)
	}
}

// TestSchema_Migrates: tables left by an older release (schema version 1)
// are migrated on first use, data kept, and recorded as current.
func TestSchema_Migrates(t *testing.T) {
	schema := pgtest.Schema(t)
	loc := pgtest.WithSchema(t, pgtest.URL(t), schema)
	old := open(t, loc, "")
	// What release 1 created and wrote.
	admin := pgtest.Connect(t)
	sql := []string{
		`CREATE SCHEMA ` + pgx.Identifier{schema}.Sanitize(),
		old.expand(`CREATE TABLE {version} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), recall_version text NOT NULL)`),
		old.expand(migrations[0]),
		old.expand(`INSERT INTO {version} (version, recall_version) VALUES (1, '0.0.9')`),
		old.expand(`INSERT INTO {states} (workspace, lineage, serial, recall_version) VALUES ('default', '0b6d3a1e-0000-4000-8000-00000000000b', 7, '0.0.9')`),
	}
	for _, q := range sql {
		if _, err := admin.Exec(bg, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	id1, id2 := statetest.ID(1), statetest.ID(2)
	for _, id := range [][]byte{id1[:], id2[:]} {
		if _, err := admin.Exec(bg, old.expand(`INSERT INTO {messages} VALUES ('default', $1, 'cancelled', '006', 'd', 'g', now(), NULL)`), id); err != nil {
			t.Fatal(err)
		}
	}

	nb := open(t, loc, "")
	s := statetest.MustRead(t, nb)
	if s.Serial != 7 || s.Len() != 2 {
		t.Errorf("after migrating: serial %d, %d messages; want 7, 2", s.Serial, s.Len())
	}
	// Migration 3 lets the tables hold not_delivered.
	nd := state.Record{Outcome: outcome.NotDelivered, Status: "010", Description: "Message expired", Group: "g", At: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	if err := nb.Commit(bg, []state.Change{{ID: statetest.ID(3), Record: &nd}}); err != nil {
		t.Fatalf("Commit of not_delivered on migrated tables: %v", err)
	}
	if got := statetest.MustRead(t, open(t, loc, "")).Get(statetest.ID(3)); got != nd {
		t.Errorf("not_delivered read back as %+v, want %+v", got, nd)
	}
	var v, count int
	if err := admin.QueryRow(bg, old.expand(`SELECT (SELECT max(version) FROM {version}), (SELECT messages FROM {states})`)).Scan(&v, &count); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion || count != 3 {
		t.Errorf("schema version %d, message count %d; want %d, 3", v, count, SchemaVersion)
	}
}

// pgMicros is the inverse of fromPGMicros: t as microseconds since
// 2000-01-01 UTC, computed from Unix seconds so that any year a Go time
// holds works, where a Duration would overflow.
func pgMicros(t time.Time) int64 {
	return (t.Unix()-pgEpochUnix)*1_000_000 + int64(t.Nanosecond()/1000)
}
