package pg

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// DefaultTimeout bounds each state operation (a Read, a Commit, taking the
// lock, Unlock, Close) unless TimeoutEnv says otherwise: a server, pooler
// or network that stops answering turns into an error within it instead of
// a hang.
const DefaultTimeout = 30 * time.Second

// TimeoutEnv names the environment variable that sets the per-operation
// deadline: a Go duration ("45s", "2m"), or "0" for none.
const TimeoutEnv = "RECALL_STATE_TIMEOUT"

// Client TCP keepalive: a peer that vanished (power loss, a firewall that
// drops the connection's packets) is noticed within about half a minute
// even while no operation waits on it.
var clientKeepAlive = net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}

// parseTimeout reads TimeoutEnv's value.
func parseTimeout(v string) (time.Duration, error) {
	if v == "" {
		return DefaultTimeout, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n == 0 {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: want a duration such as 30s or 2m (0: no deadline)", TimeoutEnv, v)
	}
	return d, nil
}

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

// SetTimeout sets the per-operation deadline (0: none); for tests and
// callers that do not go through TimeoutEnv.
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

// timeoutError says that the server did not answer in time.
func (b *Backend) timeoutError(op string) error {
	return fmt.Errorf("%s %s: PostgreSQL at %s did not answer within %s (%s), so recall closed the connection: %w",
		op, b, b.addr, b.timeout, TimeoutEnv, context.DeadlineExceeded)
}

func timeoutFromEnv() (time.Duration, error) { return parseTimeout(os.Getenv(TimeoutEnv)) }
