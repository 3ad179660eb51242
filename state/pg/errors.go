package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/recallhq/recall/state"
)

// SchemaVersionError is returned for a database whose recall tables were
// created or migrated by a newer recall.
type SchemaVersionError struct {
	// Location is the backend's String().
	Location string
	// Found is the schema version in the database; Known the newest this
	// release knows.
	Found, Known int
}

// LocationFirst implements state.Located: the text begins with Location.
func (e *SchemaVersionError) LocationFirst() bool { return true }

func (e *SchemaVersionError) Error() string {
	return fmt.Sprintf("%s: the recall tables are at schema version %d, newer than this recall supports (%d); upgrade recall", e.Location, e.Found, e.Known)
}

// SerialConflictError is returned by Commit when the state in the database
// is no longer the one this Backend read: another process wrote it.
type SerialConflictError struct {
	// Location is the backend's String().
	Location string
	// Expected is the serial this Backend read; Found the serial in the
	// database (0 if the state was deleted).
	Expected, Found uint64
	// Lineage is set when the lineage changed too (the state was replaced).
	Lineage string
}

// LocationFirst implements state.Located: the text begins with Location.
func (e *SerialConflictError) LocationFirst() bool { return true }

func (e *SerialConflictError) Error() string {
	what := fmt.Sprintf("serial %d", e.Found)
	if e.Lineage != "" {
		what = fmt.Sprintf("lineage %s serial %d", e.Lineage, e.Found)
	}
	return fmt.Sprintf("%s: state was changed by another process (expected serial %d, found %s); nothing was written. Was the lock force-unlocked while this run held it? Run again to pick up the new state", e.Location, e.Expected, what)
}

// ErrLockLost is wrapped by errors of writes and Unlock after the lock's
// connection ended (force-unlock, or a dropped connection): the lock is
// no longer held, so nothing more may be written under it. It is
// state.ErrLockLost, which callers that know no backend check for.
var ErrLockLost = state.ErrLockLost

// connError turns a failure to connect into an error that says what to fix.
func (b *Backend) connError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("cannot connect to PostgreSQL at %s: %w", b.addr, context.Canceled)
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "3D000": // invalid_catalog_name
			db := b.cfg.Database
			return fmt.Errorf("database %q does not exist on the PostgreSQL server at %s; create it (createdb %s) or fix the database in the URL %s", db, b.addr, db, b.redacted)
		case "28P01", "28000": // invalid_password, invalid_authorization_specification
			return fmt.Errorf("PostgreSQL at %s refused user %q: %s; check the user and password (in the URL, PGPASSWORD or ~/.pgpass) and the server's pg_hba.conf", b.addr, b.cfg.User, pgErr.Message)
		case "53300": // too_many_connections
			return fmt.Errorf("PostgreSQL at %s has too many connections: %s; try again later or raise max_connections", b.addr, pgErr.Message)
		case "57P03": // cannot_connect_now
			return fmt.Errorf("PostgreSQL at %s is not accepting connections: %s; try again once it has started", b.addr, pgErr.Message)
		}
		return fmt.Errorf("cannot connect to PostgreSQL at %s: %s", b.addr, pgErr.Message)
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to PostgreSQL at %s: connection refused; is the server running?", b.addr)
	case errors.Is(err, syscall.ENOENT):
		return fmt.Errorf("cannot connect to PostgreSQL at %s: no such socket; is the server running?", b.addr)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("cannot connect to PostgreSQL at %s: host unreachable; check the host in the URL %s and the network", b.addr, b.redacted)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("cannot connect to PostgreSQL at %s: cannot resolve host %q; check the host in the URL %s", b.addr, dnsErr.Name, b.redacted)
	}
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return fmt.Errorf("cannot connect to PostgreSQL at %s: timed out; is the host reachable and the port right? (%w)", b.addr, context.DeadlineExceeded)
	}
	// pgconn's connect errors name the user and database, never the
	// password; keep only the innermost reason.
	inner := err
	for {
		u := errors.Unwrap(inner)
		if u == nil {
			break
		}
		inner = u
	}
	return fmt.Errorf("cannot connect to PostgreSQL at %s: %v", b.addr, inner)
}

// dbError describes a failure of a statement, or of the connection under it.
func (b *Backend) dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", op, b.connError(err))
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "42501": // insufficient_privilege
			return fmt.Errorf("%s %s: PostgreSQL user %q lacks the rights: %s; grant SELECT, INSERT, UPDATE, DELETE on the tables in schema %q (and USAGE on the schema) to it",
				op, b, b.cfg.User, pgErr.Message, b.schema)
		case "23505": // unique_violation
			return fmt.Errorf("%s %s: %s, although the serial is unchanged: were the tables edited by hand? Nothing was written; run again to read the state afresh", op, b, pgErr.Message)
		case "25006": // read_only_sql_transaction
			return fmt.Errorf("%s %s: the server is read-only (%s); point the URL at the primary", op, b, pgErr.Message)
		}
		return fmt.Errorf("%s %s: %s", op, b, pgErr.Message)
	}
	if errors.Is(err, context.DeadlineExceeded) && b.timeout > 0 {
		return b.timeoutError(op)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", op, b, err)
	}
	if pgconn.SafeToRetry(err) || isConnDead(err) {
		return fmt.Errorf("%s %s: lost the connection to PostgreSQL at %s: %v", op, b, b.addr, err)
	}
	return fmt.Errorf("%s %s: %w", op, b, err)
}

// isConnDead reports whether err means the connection is gone.
func isConnDead(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, net.ErrClosed) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
