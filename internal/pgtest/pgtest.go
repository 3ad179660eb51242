// Package pgtest gives tests a PostgreSQL server to run against.
//
// The server is RECALL_TEST_POSTGRES_URL, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. When it cannot
// be reached, tests that need it are skipped with a message saying so,
// except when CI=true: there they fail, so that a pipeline can never pass
// with its PostgreSQL tests silently skipped.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the variable that points tests at another server.
const EnvURL = "RECALL_TEST_POSTGRES_URL"

// DefaultURL is the server tests use unless EnvURL is set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	once     sync.Once
	reachErr error
)

// URL returns the test server's URL, or skips (fails, under CI=true) the
// test if the server cannot be reached.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		u = DefaultURL
	}
	once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, u)
		if err != nil {
			reachErr = err
			return
		}
		defer c.Close(ctx)
		reachErr = c.Ping(ctx)
	})
	if reachErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL tests cannot run: the server at %s is unreachable (%v); CI=true, so this fails rather than skips. Start PostgreSQL or set %s.", redacted(u), reachErr, EnvURL)
		}
		t.Skipf("skipping: PostgreSQL at %s is unreachable (%v); start it or set %s (under CI=true this fails)", redacted(u), reachErr, EnvURL)
	}
	return u
}

// Connect returns a connection to the test server, closed when the test
// ends.
func Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	u := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// Schema returns a fresh schema name, for a state/pg location's schema
// parameter, and drops that schema (with recall's tables in it) when the
// test ends. The schema itself is not created: recall creates it on
// first use.
func Schema(t testing.TB) string {
	t.Helper()
	u := URL(t)
	name := NewSchemaName("recall_test_")
	t.Cleanup(func() {
		if err := DropSchema(u, name); err != nil {
			t.Errorf("drop test schema %s: %v", name, err)
		}
	})
	return name
}

// NewSchemaName returns prefix followed by 12 random hex digits: a schema
// name no other test uses.
func NewSchemaName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// DropSchema drops schema, with recall's tables in it, from the server at
// loc, if it exists.
func DropSchema(loc, schema string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, loc)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`)
	return err
}

// SchemaURL returns the test server's URL with a fresh schema (see Schema)
// selected by its schema parameter.
func SchemaURL(t testing.TB) string {
	t.Helper()
	return WithSchema(t, URL(t), Schema(t))
}

// WithSchema returns loc with its schema parameter set to schema.
func WithSchema(t testing.TB, loc, schema string) string {
	t.Helper()
	u, err := SchemaLocation(loc, schema)
	if err != nil {
		t.Fatalf("test PostgreSQL URL: %v", err)
	}
	return u.String()
}

// SchemaLocation returns loc, parsed, with its schema parameter set to
// schema.
func SchemaLocation(loc, schema string) (*url.URL, error) {
	u, err := url.Parse(loc)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("schema", schema)
	u.RawQuery = q.Encode()
	return u, nil
}

func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
