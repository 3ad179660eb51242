package pg

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/recallhq/recall/state"
)

// DefaultWorkspace is the workspace used when none is named.
const DefaultWorkspace = "default"

// DefaultSchema is the PostgreSQL schema that holds recall's tables unless
// the URL's schema parameter names another.
const DefaultSchema = "recall"

// defaultConnectTimeout bounds a connection attempt when neither the URL
// (connect_timeout) nor PGCONNECT_TIMEOUT says otherwise, so that an
// unreachable host fails in seconds rather than after the OS's TCP timeout.
const defaultConnectTimeout = 10 * time.Second

var (
	workspaceRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	schemaRE    = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
)

// IsURL reports whether loc names a PostgreSQL state (a postgres:// or
// postgresql:// URL) rather than a file.
func IsURL(loc string) bool {
	l := strings.ToLower(loc)
	return strings.HasPrefix(l, "postgres://") || strings.HasPrefix(l, "postgresql://")
}

// ValidateWorkspace checks a workspace name: 1 to 64 letters, digits, '.',
// '_' or '-', starting with a letter or digit.
func ValidateWorkspace(name string) error {
	if !workspaceRE.MatchString(name) {
		return fmt.Errorf("invalid workspace name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Backend is a state.Backend in PostgreSQL. It connects lazily: Open only
// checks the URL, and the first Read, Commit, Replace, Lock or ForceUnlock
// connects and creates or migrates the tables.
type Backend struct {
	workspace string
	schema    string
	redacted  string // the URL without its password
	addr      string // host:port, for error messages
	cfg       *pgx.ConnConfig
	sql       queries
	timeout   time.Duration // per-operation deadline; 0: none

	// mu serialises the Backend's work: it guards conn, ready, cur,
	// corrupt, lock and the lock's connection.
	mu      sync.Mutex
	conn    *pgx.Conn    // for reads and unlocked writes; opened lazily
	initErr error        // a permanent setup failure (schema too new)
	ready   bool         // tables exist and are current
	utf8    bool         // the server's encoding is UTF-8
	cur     *state.State // the state last read or written
	exists  bool         // cur has a row in recall_states
	corrupt error        // set when Read found the state corrupt: never write then
	lock    *pgLock      // the lock this Backend holds, if any
}

var _ state.Backend = (*Backend)(nil)

// Open returns a Backend for the state of workspace (DefaultWorkspace if
// empty) in the database at loc, a postgres:// or postgresql:// URL. It
// does not connect. Each operation is bounded by DefaultTimeout.
func Open(loc, workspace string) (*Backend, error) {
	return OpenWith(loc, workspace, Options{Timeout: DefaultTimeout})
}

// Options are OpenWith's settings.
type Options struct {
	// Timeout bounds each state operation (0: none); see DefaultTimeout.
	Timeout time.Duration
}

// OpenWith is Open with opts.
func OpenWith(loc, workspace string, opts Options) (*Backend, error) {
	if workspace == "" {
		workspace = DefaultWorkspace
	}
	if err := ValidateWorkspace(workspace); err != nil {
		return nil, err
	}
	u, err := url.Parse(loc)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("invalid PostgreSQL URL: %v; want postgres://USER@HOST[:PORT]/DATABASE", err)
	}
	if s := strings.ToLower(u.Scheme); s != "postgres" && s != "postgresql" {
		return nil, fmt.Errorf("invalid PostgreSQL URL: scheme %q; want postgres:// or postgresql://", u.Scheme)
	}
	redacted := redact(u) // with the schema parameter, which names the state too
	q := u.Query()
	schema := DefaultSchema
	if q.Has("schema") {
		schema = q.Get("schema")
		if !schemaRE.MatchString(schema) {
			return nil, fmt.Errorf("invalid schema %q in PostgreSQL URL: use 1 to 63 lower-case letters, digits and '_', not starting with a digit", schema)
		}
		q.Del("schema")
	}
	u.RawQuery = q.Encode()

	cc, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL URL %s: %s", redacted, parseErrorReason(err))
	}
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = defaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "recall"
	}
	b := &Backend{
		timeout:   opts.Timeout,
		workspace: workspace,
		schema:    schema,
		redacted:  redacted,
		addr:      net.JoinHostPort(cc.Host, fmt.Sprint(cc.Port)),
		cfg:       cc,
		sql:       newQueries(schema),
	}
	if strings.HasPrefix(cc.Host, "/") {
		b.addr = cc.Host // a Unix socket directory
	}
	b.configureTimeouts()
	return b, nil
}

// redact returns u as text with any password replaced by xxxxx, in the
// user info and in query parameters (password, sslpassword).
func redact(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		}
	}
	q := c.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") { // password, sslpassword
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// parseErrorReason returns the reason of a pgx configuration error without
// the connection string that pgx quotes in it (it may hold a password).
// pgconn.ParseConfigError keeps its reason unexported, so the reason is
// cut from the text after the quoted string.
func parseErrorReason(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "`: "); i >= 0 && strings.HasPrefix(msg, "cannot parse `") {
		return msg[i+3:]
	}
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return "cannot parse it"
	}
	return msg
}

// String names the state: the URL without its password, and the workspace.
func (b *Backend) String() string {
	return fmt.Sprintf("%s (workspace %q)", b.redacted, b.workspace)
}

// Workspace returns the workspace name.
func (b *Backend) Workspace() string { return b.workspace }

// Schema returns the PostgreSQL schema holding recall's tables.
func (b *Backend) Schema() string { return b.schema }

// Close closes the connection, except the lock's: Unlock closes that one.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), min(5*time.Second, max(b.timeout, time.Second)))
		defer cancel()
		b.conn.Close(ctx)
		b.conn = nil
	}
	return nil
}

// begin starts an operation of the Backend: it takes b.mu and bounds ctx
// by the per-operation deadline plus extra. The caller defers end, which
// cancels the context and releases b.mu.
func (b *Backend) begin(ctx context.Context, extra time.Duration) (_ context.Context, end func()) {
	b.mu.Lock()
	ctx, cancel := b.op(ctx, extra)
	return ctx, func() {
		cancel()
		b.mu.Unlock()
	}
}

// session begins an operation (see begin) on the Backend's connection,
// connecting first if need be. The caller defers end, also when err is
// not nil.
func (b *Backend) session(ctx context.Context, extra time.Duration) (_ context.Context, conn *pgx.Conn, end func(), err error) {
	ctx, end = b.begin(ctx, extra)
	conn, err = b.connect(ctx)
	return ctx, conn, end, err
}

// connect returns the Backend's connection, opening it, and creating or
// migrating the tables, on first use and after the connection was lost.
// The caller holds b.mu.
func (b *Backend) connect(ctx context.Context) (*pgx.Conn, error) {
	if b.initErr != nil {
		return nil, b.initErr
	}
	if b.conn == nil || b.conn.IsClosed() {
		c, err := pgx.ConnectConfig(ctx, b.cfg)
		if err != nil {
			return nil, b.connError(err)
		}
		b.conn = c
		b.utf8 = c.PgConn().ParameterStatus("server_encoding") == "UTF8"
	}
	if !b.ready {
		if err := b.migrate(ctx, b.conn); err != nil {
			var se *SchemaVersionError
			if errors.As(err, &se) {
				b.initErr = err
			}
			return nil, err
		}
		b.ready = true
	}
	return b.conn, nil
}

// lockKeepalives are the server-side TCP keepalive settings of a lock's
// session, unless the URL sets them: a holder whose machine vanished
// without closing its connection (power loss, network cut) is noticed, and
// its lock released, after about two minutes instead of the server
// default's two hours and more.
var lockKeepalives = map[string]string{
	"tcp_keepalives_idle":     "60",
	"tcp_keepalives_interval": "10",
	"tcp_keepalives_count":    "6",
}

// dial opens a connection of its own, for a lock.
func (b *Backend) dial(ctx context.Context) (*pgx.Conn, error) {
	cfg := b.cfg.Copy()
	for k, v := range lockKeepalives {
		if _, ok := cfg.RuntimeParams[k]; !ok {
			cfg.RuntimeParams[k] = v
		}
	}
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, b.connError(err)
	}
	return c, nil
}

// lockKey is the advisory lock key of a workspace: a hash, so that no
// table row has to exist before the lock is taken, and so that other
// applications' advisory locks on small integers never collide with it.
func lockKey(schema, workspace string) int64 {
	h := sha256.Sum256([]byte("recall state lock\x00" + schema + "\x00" + workspace))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// migrationKey is the advisory lock key that serialises schema migrations.
func migrationKey(schema string) int64 {
	h := sha256.Sum256([]byte("recall schema migration\x00" + schema))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// queries holds the SQL statements with the schema filled in.
type queries struct {
	states, messages, locks, version string // qualified, quoted table names
}

func newQueries(schema string) queries {
	t := func(name string) string { return pgx.Identifier{schema, name}.Sanitize() }
	return queries{
		states:   t("recall_states"),
		messages: t("recall_messages"),
		locks:    t("recall_locks"),
		version:  t("recall_schema_version"),
	}
}
