package main

import (
	"context"
	"net/url"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/pg"
)

// TestPostgresScripts runs the scripts in testdata/pg against the test
// PostgreSQL server (see internal/pgtest: skipped when it is unreachable,
// failed under CI=true). Each script gets a fresh schema: $PGURL selects
// it, $PGURL_PW is the same URL with a password in it (the server trusts
// loopback, so any password works) for checking that none is ever
// printed, $PGURL_QL the same URL spelled postgresql://, and $PGURL_OTHER
// another schema of the same database: another state.
func TestPostgresScripts(t *testing.T) {
	base := pgtest.URL(t)
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){"pglock": cmdPGLock}
	for k, v := range scriptCmds {
		cmds[k] = v
	}
	runScripts(t, "testdata/pg", cmds, func(env *testscript.Env) error {
		schema := pgtest.NewSchemaName("recall_script_")
		env.Defer(func() { pgtest.DropSchema(base, schema) })
		u, err := pgtest.SchemaLocation(base, schema)
		if err != nil {
			return err
		}
		env.Setenv("PGURL", u.String())
		// The same state spelled postgresql://, and another schema of
		// the same database (another state).
		alt := *u
		alt.Scheme = "postgresql"
		env.Setenv("PGURL_QL", alt.String())
		other := schema + "_other"
		env.Defer(func() { pgtest.DropSchema(base, other) })
		o, err := pgtest.SchemaLocation(base, other)
		if err != nil {
			return err
		}
		env.Setenv("PGURL_OTHER", o.String())
		u.User = url.UserPassword(u.User.Username(), "s3cret-pw")
		env.Setenv("PGURL_PW", u.String())
		return nil
	})
}

// cmdPGLock takes the lock of a PostgreSQL state in the test process (so
// another process than the recall under test) and sets $LOCK_ID:
// pglock URL WORKSPACE OPERATION. The lock is held until the script ends.
func cmdPGLock(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: pglock URL WORKSPACE OPERATION")
	}
	b, err := pg.Open(args[0], args[1])
	ts.Check(err)
	l, err := b.Lock(context.Background(), state.LockRequest{Operation: args[2]})
	ts.Check(err)
	ts.Defer(func() {
		l.Unlock()
		b.Close()
	})
	ts.Setenv("LOCK_ID", l.Info().ID)
}
