package pg

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/state"
)

// pgLock is a held lock: a session advisory lock on conn.
type pgLock struct {
	b    *Backend
	conn *pgx.Conn
	info state.LockInfo
	once sync.Once
	err  error
}

func (l *pgLock) Info() state.LockInfo { return l.info }

// Lock tries once to take the workspace's lock. A lock held by another
// process gives a *state.LockError naming the holder;
// state.LockWithContext waits.
func (b *Backend) Lock(ctx context.Context, req state.LockRequest) (state.Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("locking %s: %w", b, err)
	}
	b.mu.Lock()
	if b.lock != nil {
		id := b.lock.info.ID
		b.mu.Unlock()
		return nil, fmt.Errorf("lock %s: this process already holds its lock (ID %s)", b, id)
	}
	ctx, cancel := b.op(ctx, 0)
	defer cancel()
	_, err := b.connect(ctx) // tables exist before anyone writes a lock row
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	conn, err := b.dial(ctx)
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			conn.Close(ctx)
			cancel()
		}
	}()

	info := state.LockInfo{
		ID:        uuid.NewString(),
		Operation: req.Operation,
		Who:       state.Who(),
		Version:   version.Version,
		Path:      b.String(),
	}
	key := lockKey(b.schema, b.workspace)
	for try := 0; ; try++ {
		var ok bool
		if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			return nil, b.dbError("locking", err)
		}
		if ok {
			break
		}
		h, err := b.holder(ctx, conn)
		if err != nil {
			return nil, b.dbError("locking", err)
		}
		if h.pid != 0 || try > 0 {
			return nil, h.lockError()
		}
		// Released between the two queries: try again at once, once, so
		// that a holder pg_locks does not show cannot make this a loop.
	}
	info.Created = time.Now().UTC().Truncate(time.Second)
	_, err = conn.Exec(ctx, b.expand(`INSERT INTO {locks} (workspace, lock_id, operation, who, version, created, path, pid)
VALUES ($1, $2, $3, $4, $5, $6, $7, pg_backend_pid())
ON CONFLICT (workspace) DO UPDATE SET lock_id = EXCLUDED.lock_id, operation = EXCLUDED.operation, who = EXCLUDED.who,
	version = EXCLUDED.version, created = EXCLUDED.created, path = EXCLUDED.path, pid = EXCLUDED.pid`),
		b.workspace, info.ID, info.Operation, info.Who, info.Version, info.Created, info.Path)
	if err != nil {
		return nil, b.dbError("locking", err)
	}
	l := &pgLock{b: b, conn: conn, info: info}
	b.mu.Lock()
	b.lock = l
	b.mu.Unlock()
	keep = true
	return l, nil
}

// holder is who holds a workspace's advisory lock.
type holder struct {
	pid    uint32         // the holding session's backend PID; 0 if the lock is free
	info   state.LockInfo // from recall_locks
	rowPID uint32         // the PID recorded with info; 0 if no row
}

// lockError is the error for a lock held by h.
func (h holder) lockError() *state.LockError {
	if h.rowPID == h.pid {
		return &state.LockError{Info: h.info}
	}
	// The holder took the advisory lock but has not written its row yet.
	return &state.LockError{Err: fmt.Errorf("held by PostgreSQL session %d, which has not recorded who it is yet", h.pid)}
}

// holder finds the session holding the workspace's advisory lock and the
// row recorded for the workspace.
func (b *Backend) holder(ctx context.Context, conn *pgx.Conn) (holder, error) {
	var h holder
	key := uint64(lockKey(b.schema, b.workspace))
	// A bigint advisory key shows in pg_locks as classid (high half),
	// objid (low half) and objsubid 1.
	var pid *int32
	err := conn.QueryRow(ctx, `SELECT (SELECT pid FROM pg_locks
	WHERE locktype = 'advisory' AND granted AND objsubid = 1
	AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
	AND classid = $1::bigint::oid AND objid = $2::bigint::oid LIMIT 1)`,
		int64(key>>32), int64(key&0xffffffff)).Scan(&pid)
	if err != nil {
		return h, err
	}
	if pid != nil {
		h.pid = uint32(*pid)
	}
	var rowPID int32
	err = conn.QueryRow(ctx, b.expand(`SELECT lock_id, operation, who, version, created, path, pid FROM {locks} WHERE workspace = $1`), b.workspace).
		Scan(&h.info.ID, &h.info.Operation, &h.info.Who, &h.info.Version, &h.info.Created, &h.info.Path, &rowPID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		h.info = state.LockInfo{}
	case err != nil:
		return h, err
	default:
		h.info.Created = h.info.Created.UTC()
		h.rowPID = uint32(rowPID)
	}
	return h, nil
}

// Unlock releases the lock: it deletes the holder row, releases the
// advisory lock and closes the lock's connection. If that connection had
// already ended (force-unlock), the error wraps ErrLockLost.
func (l *pgLock) Unlock() error {
	l.once.Do(func() { l.err = l.unlock() })
	return l.err
}

func (l *pgLock) unlock() error {
	b := l.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == l {
		b.lock = nil
	}
	d := b.timeout
	if d <= 0 {
		d = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	// Closing the connection releases the advisory lock whatever happens
	// to the statements.
	defer l.conn.Close(ctx)
	lost := func(cause error) error {
		err := fmt.Errorf("unlock %s: %w (ID %s): its connection to PostgreSQL had ended, by force-unlock or a network failure", b, ErrLockLost, l.info.ID)
		if cause != nil {
			err = fmt.Errorf("%w (%v)", err, cause)
		}
		return err
	}
	if l.conn.IsClosed() {
		return lost(nil)
	}
	if _, err := l.conn.Exec(ctx, b.expand(`DELETE FROM {locks} WHERE workspace = $1 AND lock_id = $2`), b.workspace, l.info.ID); err != nil {
		if l.conn.IsClosed() {
			return lost(err)
		}
		return b.dbError("unlocking", err)
	}
	var released bool
	if err := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, lockKey(b.schema, b.workspace)).Scan(&released); err != nil {
		if l.conn.IsClosed() {
			return lost(err)
		}
		return b.dbError("unlocking", err)
	}
	if !released {
		return lost(nil)
	}
	return nil
}

// ForceUnlock releases the lock whose ID is id. If its holder's session is
// still open (a holder that hangs, or a machine the server has not yet
// noticed is gone), that session is ended with pg_terminate_backend: the
// server then releases the advisory lock, rolls back what the session was
// writing, and the holder can write nothing more. A holder row whose lock
// is already free is just deleted. An id that is not the current lock's is
// an error, and nothing is touched.
func (b *Backend) ForceUnlock(ctx context.Context, id string) error {
	ctx, conn, end, err := b.session(ctx, 10*time.Second) // and the wait for the session to end
	defer end()
	if err != nil {
		return err
	}
	h, err := b.holder(ctx, conn)
	if err != nil {
		return b.dbError("force-unlocking", err)
	}
	switch {
	case h.pid == 0 && h.info.ID == id:
		// Stale row: the lock itself is already free.
		return b.deleteLockRow(ctx, conn, id)
	case h.pid == 0:
		return fmt.Errorf("%s is not locked; nothing to unlock", b)
	case h.rowPID != h.pid:
		return fmt.Errorf("%s is locked by PostgreSQL session %d, which has not recorded a lock ID yet; try again in a moment", b, h.pid)
	case h.info.ID != id:
		return fmt.Errorf("lock ID %q does not match the lock held on %s: %s (operation %q, since %s, lock ID %s)",
			id, b, h.info.Who, h.info.Operation, h.info.Created.Format(time.RFC3339), h.info.ID)
	}
	var sent bool
	if err := conn.QueryRow(ctx, `SELECT pg_terminate_backend($1)`, int32(h.pid)).Scan(&sent); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42501" {
			return fmt.Errorf("cannot end PostgreSQL session %d, which holds the lock on %s: user %q lacks the right (%s); only a superuser, a member of pg_signal_backend or the PostgreSQL user that holds it may; one of them can run: SELECT pg_terminate_backend(%d)",
				h.pid, b, b.cfg.User, pgErr.Message, h.pid)
		}
		return b.dbError("force-unlocking", err)
	}
	// The session exits asynchronously; wait until the server has
	// released its lock.
	for deadline := time.Now().Add(10 * time.Second); ; {
		h2, err := b.holder(ctx, conn)
		if err != nil {
			return b.dbError("force-unlocking", err)
		}
		if h2.pid != h.pid {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("force-unlock %s: PostgreSQL session %d still holds the lock 10s after it was told to exit", b, h.pid)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return b.deleteLockRow(ctx, conn, id)
}

func (b *Backend) deleteLockRow(ctx context.Context, conn *pgx.Conn, id string) error {
	if _, err := conn.Exec(ctx, b.expand(`DELETE FROM {locks} WHERE workspace = $1 AND lock_id = $2`), b.workspace, id); err != nil {
		return b.dbError("force-unlocking", err)
	}
	return nil
}
