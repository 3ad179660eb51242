// Package pg keeps recall's state in PostgreSQL, for teams whose pipelines
// run on many machines.
//
// A location is a postgres:// or postgresql:// URL in libpq's format (host,
// port, user, database and libpq parameters such as sslmode; PGPASSWORD,
// ~/.pgpass and the other PG* variables work as with psql). One extra query
// parameter, schema, names the PostgreSQL schema that holds recall's tables
// (default "recall"). A workspace name picks one of several independent
// states in the same database.
//
// # Tables
//
// The tables are created on first use, in a transaction under an advisory
// lock, and recorded in recall_schema_version so that a later release can
// migrate them; a database whose schema is newer than this release knows is
// refused. A role without CREATE rights can use tables that an owner created
// beforehand (run recall once as the owner): when the schema is current, no
// DDL is issued.
//
//	recall_states          one row per workspace: lineage, serial, recall_version, updated_at
//	recall_messages        one row per settled message: (workspace, id) → outcome, status, description, grp, at
//	recall_locks           the holder of each workspace's lock, for error messages and force-unlock
//	recall_schema_version  the migrations applied
//
// The lock needs a session of its own for the whole run: connect to the
// server directly, or through a pooler in session mode. A transaction-mode
// pooler (PgBouncer's pool_mode=transaction) hands the session to others
// between statements, which breaks session advisory locks.
//
// # Writes
//
// Commit writes only the changes: the messages new to the state in one
// binary COPY, changed ones with UPDATE … FROM unnest(arrays) and
// forgotten ones with DELETE … = ANY(array), 10,000 to a statement, and
// bumps the serial in the same transaction with a compare-and-set: if
// another writer changed the serial since this Backend read it, the commit
// fails with a *SerialConflictError and nothing is written. A checkpoint
// of N changes costs O(N), whatever the size of the state. Replace (for
// moving state) rewrites a workspace with COPY. Read streams the rows in
// the binary protocol into a map sized from a count kept with the serial.
//
// # Locking
//
// Lock takes a session-level advisory lock, keyed by schema and workspace,
// on a connection of its own that stays open until Unlock. The server drops
// the lock when that connection ends, so a killed process never leaves the
// state locked. A row in recall_locks names the holder for the error a
// second process prints. While a lock is held, every write goes through the
// lock's connection: a holder whose session was ended by force-unlock can
// no longer write, so two writers can never interleave.
//
// A holder whose machine vanished without closing its connection (power
// loss, a network cut) keeps its session, and so the lock, until the server
// notices. The lock's session sets the server's TCP keepalives
// (tcp_keepalives_idle 60s, interval 10s, count 6, unless the URL sets
// them) so that this takes about two minutes rather than the server
// default's two hours.
//
// # Deadlines
//
// Every operation (Read, Commit, Replace, Lock, Unlock, ForceUnlock, Close)
// ends within DefaultTimeout (30s; OpenWith's Options.Timeout sets another,
// 0 none; large writes get a second more per 10,000 messages): a
// server, pooler or network that stops answering is an error in time, not
// a hang (a *TimeoutError). pgx closes a connection whose operation ran out
// of time, so under a lock that error wraps ErrLockLost. Connections use TCP keepalive (15s
// idle, 5s apart, 3 probes) and, on Linux, TCP_USER_TIMEOUT; sessions set
// statement_timeout and idle_in_transaction_session_timeout to the deadline
// unless the URL sets them, so that the server, too, ends a transaction
// whose client stopped answering and releases what it held.
//
// ForceUnlock is for a holder that is stuck, or gone and not yet noticed
// (through a proxy or pooler, keepalives see the proxy, not the client). Unlike
// Terraform's pg backend, whose force-unlock calls pg_advisory_unlock from a
// session that does not hold the lock and so cannot release it, recall ends
// the holder's server session with pg_terminate_backend, which frees the
// lock at once and makes any further write by that holder fail.
package pg
