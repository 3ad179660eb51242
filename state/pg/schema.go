package pg

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/recallhq/recall/internal/version"
)

// migrations are the schema changes, in order: migrations[i] brings the
// schema from version i to version i+1. Released entries never change; a
// new release appends. {states}, {messages}, {locks} stand for the
// qualified table names.
var migrations = []string{
	// 1: the initial tables.
	`
CREATE TABLE {states} (
	workspace      text        PRIMARY KEY,
	lineage        text        NOT NULL CHECK (lineage <> ''),
	serial         bigint      NOT NULL CHECK (serial >= 0),
	recall_version text        NOT NULL,
	updated_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE {states} IS 'recall: one state per workspace (lineage, serial); see recall_messages';

CREATE TABLE {messages} (
	workspace   text        NOT NULL,
	id          bytea       NOT NULL CHECK (length(id) = 16),
	outcome     text        NOT NULL CHECK (outcome IN ('cancelled', 'too_late', 'not_found')),
	status      text        NOT NULL,
	description text        NOT NULL,
	grp         text        NOT NULL,
	at          timestamptz NOT NULL,
	exact       bytea,
	PRIMARY KEY (workspace, id)
);
COMMENT ON TABLE {messages} IS 'recall: settled messages; id is the Clickatell apiMessageId as 16 bytes (encode(id, ''hex''))';
COMMENT ON COLUMN {messages}.exact IS 'NULL, unless status, description or grp hold bytes a text column cannot (NUL, invalid UTF-8): then those columns are a readable approximation and this holds the exact strings';

CREATE TABLE {locks} (
	workspace text        PRIMARY KEY,
	lock_id   text        NOT NULL,
	operation text        NOT NULL,
	who       text        NOT NULL,
	version   text        NOT NULL,
	created   timestamptz NOT NULL,
	path      text        NOT NULL,
	pid       integer     NOT NULL
);
COMMENT ON TABLE {locks} IS 'recall: who holds each workspace''s lock; the lock itself is a session advisory lock, a row whose lock is free is stale';
`,
	// 2: a message count per state, so that a read sizes its map once.
	`
ALTER TABLE {states} ADD COLUMN messages bigint NOT NULL DEFAULT 0;
UPDATE {states} s SET messages = (SELECT count(*) FROM {messages} m WHERE m.workspace = s.workspace);
COMMENT ON COLUMN {states}.messages IS 'how many rows recall_messages holds for the workspace, so that a read can size its map';
`,
	// 3: the not_delivered outcome (statuses 005, 007, 009, 010, 012, 013,
	// 014). The constraint keeps the name PostgreSQL gave migration 1's.
	`
ALTER TABLE {messages} DROP CONSTRAINT recall_messages_outcome_check;
ALTER TABLE {messages} ADD CONSTRAINT recall_messages_outcome_check CHECK (outcome IN ('cancelled', 'too_late', 'not_found', 'not_delivered'));
`,
}

// SchemaVersion is the newest schema version this release knows.
var SchemaVersion = len(migrations)

func (b *Backend) expand(sql string) string {
	return strings.NewReplacer(
		"{states}", b.sql.states,
		"{messages}", b.sql.messages,
		"{locks}", b.sql.locks,
		"{version}", b.sql.version,
	).Replace(sql)
}

// schemaVersion returns the version recorded in the database, 0 when the
// tables do not exist yet.
func (b *Backend) schemaVersion(ctx context.Context, q interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int, error) {
	var v int
	err := q.QueryRow(ctx, b.expand(`SELECT coalesce(max(version), 0) FROM {version}`)).Scan(&v)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && (pgErr.Code == "42P01" || pgErr.Code == "3F000") { // undefined_table, invalid_schema_name
		return 0, nil
	}
	return v, err
}

// migrate brings the tables to SchemaVersion. When they are current it
// only reads the version, so a role without CREATE rights can use tables
// an owner created.
func (b *Backend) migrate(ctx context.Context, pool *pgx.Conn) error {
	v, err := b.schemaVersion(ctx, pool)
	if err != nil {
		return b.setupError(err)
	}
	if v == SchemaVersion {
		return nil
	}
	if v > SchemaVersion {
		return &SchemaVersionError{Location: b.String(), Found: v, Known: SchemaVersion}
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		return b.setupError(err)
	}
	defer tx.Rollback(context.Background())
	// Concurrent first runs wait here for each other; the loser then sees
	// the winner's version below.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationKey(b.schema)); err != nil {
		return b.setupError(err)
	}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, b.schema).Scan(&exists); err != nil {
		return b.setupError(err)
	}
	if !exists {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{b.schema}.Sanitize()); err != nil {
			return b.setupError(err)
		}
	}
	if _, err := tx.Exec(ctx, b.expand(`CREATE TABLE IF NOT EXISTS {version} (
	version        integer     PRIMARY KEY,
	applied_at     timestamptz NOT NULL DEFAULT now(),
	recall_version text        NOT NULL
)`)); err != nil {
		return b.setupError(err)
	}
	if v, err = b.schemaVersion(ctx, tx); err != nil {
		return b.setupError(err)
	}
	if v > SchemaVersion {
		return &SchemaVersionError{Location: b.String(), Found: v, Known: SchemaVersion}
	}
	for i := v; i < SchemaVersion; i++ {
		if _, err := tx.Exec(ctx, b.expand(migrations[i])); err != nil {
			return b.setupError(fmt.Errorf("schema migration %d: %w", i+1, err))
		}
		if _, err := tx.Exec(ctx, b.expand(`INSERT INTO {version} (version, recall_version) VALUES ($1, $2)`), i+1, version.Version); err != nil {
			return b.setupError(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return b.setupError(err)
	}
	return nil
}

// setupError explains a failure to check or create the tables.
func (b *Backend) setupError(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42501" { // insufficient_privilege
		user, db := b.cfg.User, b.cfg.Database
		return fmt.Errorf("cannot create recall's tables in schema %q of database %q: PostgreSQL user %q lacks the rights (%s). Either run recall once as a user that may create them (the database owner), then grant this user USAGE on schema %s and SELECT, INSERT, UPDATE, DELETE on its tables; or grant it the right to create them: GRANT CREATE ON DATABASE %s TO %s (or, if the schema exists, GRANT USAGE, CREATE ON SCHEMA %s TO %s)",
			b.schema, db, user, pgErr.Message, b.schema, pgx.Identifier{db}.Sanitize(), pgx.Identifier{user}.Sanitize(), b.schema, pgx.Identifier{user}.Sanitize())
	}
	return b.dbError("preparing tables for", err)
}
