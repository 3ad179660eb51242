package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultTimeout bounds each state operation (a Read, a Commit, taking the
// lock, Unlock, Close) unless Options.Timeout says otherwise: a server,
// pooler or network that stops answering turns into an error within it
// instead of a hang.
const DefaultTimeout = 30 * time.Second

// Client TCP keepalive: a peer that vanished (power loss, a firewall that
// drops the connection's packets) is noticed within about half a minute
// even while no operation waits on it.
var clientKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// configureTimeouts sets up the connection config for deadlines, once, in
// Open: a dialer with TCP keepalive (and, on Linux, TCP_USER_TIMEOUT, so
// that data the peer never acknowledges fails the connection), and, after
// connecting, the server-side statement_timeout and
// idle_in_transaction_session_timeout unless the URL sets them, so that
// the server too gives up on a session whose client stopped answering in
// the middle of a transaction (its row locks, and a lock session's
// advisory lock, are then released). Both read b.timeout when they run.
func (b *Backend) configureTimeouts() {
	connectTimeout := b.cfg.ConnectTimeout
	b.cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{Timeout: connectTimeout, KeepAliveConfig: clientKeepAlive}
		setUserTimeout(d, b.timeout)
		return d.DialContext(ctx, network, addr)
	}
	var params []string
	for _, p := range []string{"statement_timeout", "idle_in_transaction_session_timeout"} {
		if _, ok := b.cfg.RuntimeParams[p]; !ok {
			params = append(params, p)
		}
	}
	prev := b.cfg.AfterConnect
	// SET after connecting rather than startup parameters, which poolers
	// such as PgBouncer refuse unless told to ignore them.
	b.cfg.AfterConnect = func(ctx context.Context, c *pgconn.PgConn) error {
		if prev != nil {
			if err := prev(ctx, c); err != nil {
				return err
			}
		}
		if b.timeout <= 0 || len(params) == 0 {
			return nil
		}
		ms := strconv.FormatInt(b.timeout.Milliseconds(), 10)
		set := ""
		for _, p := range params {
			set += "SET " + p + " = " + ms + ";"
		}
		return c.Exec(ctx, set).Close()
	}
}

// op returns ctx bounded by the per-operation deadline, plus extra.
func (b *Backend) op(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	if b.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, b.timeout+extra)
}

// Timeout returns the per-operation deadline (0: none).
func (b *Backend) Timeout() time.Duration { return b.timeout }

// SetTimeout sets the per-operation deadline (0: none).
func (b *Backend) SetTimeout(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.timeout = d
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || errors.As(err, &netErr) && netErr.Timeout()
}

// TimeoutError says that PostgreSQL did not answer an operation within the
// per-operation deadline, so the connection was closed. It wraps
// context.DeadlineExceeded, and ErrLockLost when the connection was the
// lock's.
type TimeoutError struct {
	Location string        // the state, as Backend.String says it
	Op       string        // the operation ("read", "commit", ...); "" for a write under the lock
	Addr     string        // the server's host:port
	After    time.Duration // the deadline that passed
	LockID   string        // the lost lock's ID when the connection was the lock's
}

func (e *TimeoutError) Error() string {
	if e.LockID != "" {
		return fmt.Sprintf("%s: %v (ID %s): PostgreSQL at %s did not answer within %s, so recall closed the lock's connection; nothing more was written",
			e.Location, ErrLockLost, e.LockID, e.Addr, e.After)
	}
	return fmt.Sprintf("%s %s: PostgreSQL at %s did not answer within %s, so recall closed the connection: %v",
		e.Op, e.Location, e.Addr, e.After, context.DeadlineExceeded)
}

// LocationFirst implements state.Located: the text begins with Location
// when the connection was the lock's.
func (e *TimeoutError) LocationFirst() bool { return e.LockID != "" }

func (e *TimeoutError) Unwrap() []error {
	if e.LockID != "" {
		return []error{ErrLockLost, context.DeadlineExceeded}
	}
	return []error{context.DeadlineExceeded}
}

// timeoutError says that the server did not answer in time.
func (b *Backend) timeoutError(op string) error {
	return &TimeoutError{Location: b.String(), Op: op, Addr: b.addr, After: b.timeout}
}
