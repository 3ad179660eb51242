package pg

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/recallhq/recall/internal/intern"
	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// batchSize is how many messages one UPDATE or DELETE statement of a
// Commit carries: large enough that a checkpoint is a handful of
// statements, small enough that one statement's arrays stay a few MB.
// New messages go in one COPY, whatever their number.
const batchSize = 10000

// txBeginner is a pool or a connection.
type txBeginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// Read loads the workspace's state in one consistent snapshot. A workspace
// never written gives state.New().
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	ctx, pool, end, err := b.session(ctx, 0)
	defer end()
	if err != nil {
		return nil, err
	}
	tx, err := pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, b.dbError("reading", err)
	}
	defer tx.Rollback(context.Background())

	s := &state.State{}
	var count int64
	err = tx.QueryRow(ctx, b.expand(`SELECT lineage, serial, recall_version, messages FROM {states} WHERE workspace = $1`), b.workspace).
		Scan(&s.Lineage, &s.Serial, &s.RecallVersion, &count)
	if errors.Is(err, pgx.ErrNoRows) {
		b.cur, b.corrupt, b.exists = state.New(), nil, false
		return b.cur, nil
	}
	if err != nil {
		return nil, b.dbError("reading", err)
	}
	if err := b.readMessages(ctx, tx, s, int(min(max(count, 0), 1<<26))); err != nil {
		if errors.Is(err, state.ErrCorrupt) {
			b.corrupt = err
			b.cur = nil
		}
		return nil, err
	}
	b.cur, b.corrupt, b.exists = s, nil, true
	return s, nil
}

// readMessages streams the workspace's messages into s. Rows arrive in the
// binary protocol; the few distinct statuses, descriptions and groups are
// interned (up to intern.Max of them), so that a row allocates nothing of
// its own.
func (b *Backend) readMessages(ctx context.Context, tx pgx.Tx, s *state.State, sizeHint int) error {
	rows, err := tx.Query(ctx, b.expand(`SELECT id, outcome, status, description, grp, at, exact FROM {messages} WHERE workspace = $1`), b.workspace)
	if err != nil {
		return b.dbError("reading", err)
	}
	defer rows.Close()
	binaryAt := rows.FieldDescriptions()[5].Format == pgx.BinaryFormatCode
	s.Reserve(sizeHint)
	str := intern.Table{}.Bytes
	for rows.Next() {
		raw := rows.RawValues()
		var id msgid.ID
		if len(raw[0]) != len(id) {
			return fmt.Errorf("%w: %s: a message ID is %d bytes long, not %d", state.ErrCorrupt, b, len(raw[0]), len(id))
		}
		copy(id[:], raw[0])
		var rec state.Record
		switch string(raw[1]) {
		case "cancelled":
			rec.Outcome = outcome.Cancelled
		case "too_late":
			rec.Outcome = outcome.TooLate
		case "not_found":
			rec.Outcome = outcome.NotFound
		case "not_delivered":
			rec.Outcome = outcome.NotDelivered
		default:
			return fmt.Errorf("%w: %s: message %s has unknown outcome %q (want cancelled, too_late, not_found or not_delivered); if a newer recall wrote this state, upgrade recall", state.ErrCorrupt, b, id, raw[1])
		}
		rec.Status, rec.Description, rec.Group = str(raw[2]), str(raw[3]), str(raw[4])
		if binaryAt && len(raw[5]) == 8 {
			rec.At = fromPGMicros(int64(binary.BigEndian.Uint64(raw[5])))
		} else {
			// Text results (a pooler in simple-protocol mode).
			var at time.Time
			if err := rows.Scan(nil, nil, nil, nil, nil, &at, nil); err != nil {
				return b.dbError("reading", err)
			}
			rec.At = at.UTC()
		}
		if raw[6] != nil {
			ss, err := decodeExact(raw[6], 3)
			if err != nil {
				return fmt.Errorf("%w: %s: message %s: %v", state.ErrCorrupt, b, id, err)
			}
			rec.Status, rec.Description, rec.Group = str([]byte(ss[0])), str([]byte(ss[1])), str([]byte(ss[2]))
		}
		s.Set(id, rec)
	}
	if err := rows.Err(); err != nil {
		return b.dbError("reading", err)
	}
	return nil
}

// normalize gives a record the precision the state keeps: UTC, seconds.
func normalize(r state.Record) state.Record {
	r.At = r.At.UTC().Truncate(time.Second)
	return r
}

// Commit writes the changes that differ from the state last read, bumps
// the serial if there are any, and updates that state in place. The serial
// is compared and set in the same transaction as the rows: if another
// process wrote the state since, nothing is written and the error is a
// *SerialConflictError.
func (b *Backend) Commit(ctx context.Context, changes []state.Change) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.corrupt != nil {
		return fmt.Errorf("refusing to write %s: %w", b, b.corrupt)
	}
	if b.cur == nil {
		return fmt.Errorf("commit to %s: Read must come before Commit", b)
	}
	ups, dels, err := b.effective(changes)
	if err != nil {
		return fmt.Errorf("commit to %s: %w; nothing was written", b, err)
	}
	if len(ups) == 0 && len(dels) == 0 {
		return nil
	}
	ctx, cancel := b.op(ctx, sizeAllowance(len(ups)+len(dels)))
	defer cancel()
	w, err := b.writer(ctx)
	if err != nil {
		return err
	}
	cur := b.cur
	// The message count after the commit: the serial check guarantees
	// that the database holds cur.
	count := cur.Len() - len(dels)
	for _, c := range ups {
		if _, ok := cur.Lookup(c.ID); !ok {
			count++
		}
	}
	err = b.inTx(ctx, w, "writing", func(tx pgx.Tx) error {
		var tag pgconn.CommandTag
		var err error
		if !b.exists {
			tag, err = tx.Exec(ctx, b.expand(`INSERT INTO {states} (workspace, lineage, serial, recall_version, messages) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace) DO NOTHING`),
				b.workspace, cur.Lineage, cur.Serial+1, version.Version, count)
		} else {
			tag, err = tx.Exec(ctx, b.expand(`UPDATE {states} SET serial = serial + 1, recall_version = $4, messages = $5, updated_at = now() WHERE workspace = $1 AND lineage = $2 AND serial = $3`),
				b.workspace, cur.Lineage, cur.Serial, version.Version, count)
		}
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return b.conflict(ctx, tx, cur)
		}
		return b.writeChanges(ctx, tx, cur, ups, dels)
	})
	if err != nil {
		return err
	}
	cur.Apply(ups)
	for _, id := range dels {
		cur.Delete(id)
	}
	cur.Serial++
	cur.RecallVersion = version.Version
	b.exists = true
	return nil
}

// effective reduces changes to those that change the state: the last
// change of each ID wins, and re-recording an identical record or
// forgetting an unknown ID is dropped.
func (b *Backend) effective(changes []state.Change) (ups []state.Change, dels []msgid.ID, err error) {
	last := make(map[msgid.ID]int, len(changes))
	for i, c := range changes {
		last[c.ID] = i
	}
	for i, c := range changes {
		if last[c.ID] != i {
			continue
		}
		old, had := b.cur.Lookup(c.ID)
		if c.Record == nil {
			if had {
				dels = append(dels, c.ID)
			}
			continue
		}
		r := normalize(*c.Record)
		if !r.Outcome.Valid() {
			return nil, nil, fmt.Errorf("message %s has invalid outcome %d", c.ID, r.Outcome)
		}
		if had && old.Equal(r) {
			continue
		}
		ups = append(ups, state.Change{ID: c.ID, Record: &r})
	}
	return ups, dels, nil
}

// writeChanges writes the effective changes against cur, which the
// database holds (the serial check came first): messages new to the state
// are copied in with COPY, changed ones updated and forgotten ones deleted
// batchSize to a statement. Knowing which rows exist spares the server the
// conflict checks of an upsert, about half its work.
func (b *Backend) writeChanges(ctx context.Context, tx pgx.Tx, cur *state.State, ups []state.Change, dels []msgid.ID) error {
	var added, changed []state.Change
	for _, c := range ups {
		if _, ok := cur.Lookup(c.ID); ok {
			changed = append(changed, c)
		} else {
			added = append(added, c)
		}
	}
	if len(added) > 0 {
		slices.SortFunc(added, func(x, y state.Change) int { return msgid.Compare(x.ID, y.ID) })
		err := b.copyIn(ctx, tx, len(added), func(i int) (msgid.ID, *state.Record) {
			return added[i].ID, added[i].Record
		})
		if err != nil {
			return err
		}
	}
	update := b.expand(`UPDATE {messages} AS m SET outcome = u.outcome, status = u.status, description = u.description, grp = u.grp, at = u.at, exact = u.exact
FROM unnest($2::bytea[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::bytea[])
	AS u(id, outcome, status, description, grp, at, exact)
WHERE m.workspace = $1 AND m.id = u.id`)
	for len(changed) > 0 {
		n := min(len(changed), batchSize)
		ids := make([][]byte, n)
		outcomes, statuses, descs, groups := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ats, exacts := make([]time.Time, n), make([][]byte, n)
		for i, c := range changed[:n] {
			ids[i] = c.ID[:]
			r := c.Record
			outcomes[i], ats[i] = r.Outcome.String(), r.At
			statuses[i], descs[i], groups[i], exacts[i] = b.texts(r)
		}
		tag, err := tx.Exec(ctx, update, b.workspace, ids, outcomes, statuses, descs, groups, ats, exacts)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(n) {
			return fmt.Errorf("%d of %d changed messages are not in the database although the serial is unchanged: were the tables edited by hand? Nothing was written; run again to read the state afresh", int64(n)-tag.RowsAffected(), n)
		}
		changed = changed[n:]
	}
	del := b.expand(`DELETE FROM {messages} WHERE workspace = $1 AND id = ANY($2::bytea[])`)
	for len(dels) > 0 {
		n := min(len(dels), batchSize)
		ids := make([][]byte, n)
		for i := range dels[:n] {
			ids[i] = dels[i][:]
		}
		if _, err := tx.Exec(ctx, del, b.workspace, ids); err != nil {
			return err
		}
		dels = dels[n:]
	}
	return nil
}

// texts returns the text columns of r, and its exact column: nil unless
// the text columns cannot hold r's strings exactly.
func (b *Backend) texts(r *state.Record) (status, desc, grp string, exact []byte) {
	if storable(r.Status, b.utf8) && storable(r.Description, b.utf8) && storable(r.Group, b.utf8) {
		return r.Status, r.Description, r.Group, nil
	}
	return approx(r.Status, b.utf8), approx(r.Description, b.utf8), approx(r.Group, b.utf8), encodeExact(r.Status, r.Description, r.Group)
}

// conflict builds the error for a serial compare-and-set that failed.
func (b *Backend) conflict(ctx context.Context, tx pgx.Tx, cur *state.State) error {
	e := &SerialConflictError{Location: b.String(), Expected: cur.Serial}
	var lineage string
	err := tx.QueryRow(ctx, b.expand(`SELECT lineage, serial FROM {states} WHERE workspace = $1`), b.workspace).Scan(&lineage, &e.Found)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	if err == nil && lineage != cur.Lineage {
		e.Lineage = lineage
	}
	return e
}

// Replace writes s as the whole state of the workspace, with its lineage
// and serial, in one transaction: the old messages are deleted and the new
// ones copied in with COPY. Like Commit, it refuses after a Read that found
// the state corrupt; a Backend that has not read may replace a corrupt
// state (state push -force does, to restore a backup).
func (b *Backend) Replace(ctx context.Context, s *state.State) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s == nil || s.Lineage == "" {
		return fmt.Errorf("replace %s: the state has no lineage", b)
	}
	if b.corrupt != nil {
		return fmt.Errorf("refusing to write %s: %w", b, b.corrupt)
	}
	extra := sizeAllowance(s.Len())
	ctx, cancel := b.op(ctx, extra)
	defer cancel()
	w, err := b.writer(ctx)
	if err != nil {
		return err
	}
	n := &state.State{Lineage: s.Lineage, Serial: s.Serial, RecallVersion: version.Version}
	n.Reserve(s.Len())
	for id, r := range s.All() {
		if !r.Outcome.Valid() {
			return fmt.Errorf("replace %s: message %s has invalid outcome %d", b, id, r.Outcome)
		}
		n.Set(id, normalize(r))
	}
	err = b.inTx(ctx, w, "replacing", func(tx pgx.Tx) error {
		if b.timeout > 0 && extra > 0 {
			// The COPY of a large state takes longer than one statement
			// usually may.
			if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", (b.timeout+extra).Milliseconds())); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, b.expand(`INSERT INTO {states} (workspace, lineage, serial, recall_version, messages) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (workspace) DO UPDATE SET lineage = EXCLUDED.lineage, serial = EXCLUDED.serial,
	recall_version = EXCLUDED.recall_version, messages = EXCLUDED.messages, updated_at = now()`),
			b.workspace, n.Lineage, n.Serial, n.RecallVersion, n.Len())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, b.expand(`DELETE FROM {messages} WHERE workspace = $1`), b.workspace); err != nil {
			return err
		}
		// In key order, so that the primary key index is built in order.
		ids := n.IDs()
		return b.copyIn(ctx, tx, len(ids), func(i int) (msgid.ID, *state.Record) {
			r := n.Get(ids[i])
			return ids[i], &r
		})
	})
	if err != nil {
		return err
	}
	b.cur, b.corrupt, b.exists = n, nil, true
	return nil
}

// writer returns where writes go: the lock's connection while this Backend
// holds the lock, so that a holder whose session was ended cannot write;
// the pool otherwise. The caller holds b.mu.
func (b *Backend) writer(ctx context.Context) (txBeginner, error) {
	pool, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	if b.lock == nil {
		return pool, nil
	}
	if b.lock.conn.IsClosed() {
		return nil, b.lockLost(nil)
	}
	return b.lock.conn, nil
}

// inTx runs fn in a read-committed transaction on w and commits it.
func (b *Backend) inTx(ctx context.Context, w txBeginner, op string, fn func(pgx.Tx) error) error {
	tx, err := w.BeginTx(ctx, pgx.TxOptions{})
	if err != nil {
		return b.writeError(op, err)
	}
	defer tx.Rollback(context.Background())
	if err := fn(tx); err != nil {
		var sc *SerialConflictError
		if errors.As(err, &sc) {
			return err
		}
		return b.writeError(op, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return b.writeError(op, err)
	}
	return nil
}

// writeError describes a failed write; a write under a lock whose
// connection died means the lock is gone.
func (b *Backend) writeError(op string, err error) error {
	if b.lock != nil && b.lock.conn.IsClosed() {
		return b.lockLost(err)
	}
	return b.dbError(op, err)
}

func (b *Backend) lockLost(cause error) error {
	said := ""
	if cause != nil {
		var pgErr *pgconn.PgError
		if errors.As(cause, &pgErr) {
			said = " (server said: " + pgErr.Message + ")"
		}
	}
	if isTimeout(cause) && b.timeout > 0 {
		return &TimeoutError{Location: b.String(), Addr: b.addr, After: b.timeout, LockID: b.lock.info.ID}
	}
	return &lockLostError{location: b.String(), lockID: b.lock.info.ID, said: said}
}

// lockLostError says that the lock's connection ended; it wraps ErrLockLost.
type lockLostError struct {
	location, lockID string
	said             string // what the server said, if anything
}

func (e *lockLostError) Error() string {
	return fmt.Sprintf("%s: %v (ID %s): its connection to PostgreSQL ended, by force-unlock or a network failure; nothing was written%s", e.location, ErrLockLost, e.lockID, e.said)
}

func (e *lockLostError) Unwrap() error { return ErrLockLost }

// LocationFirst implements state.Located.
func (e *lockLostError) LocationFirst() bool { return true }

// sizeAllowance is the time a large write gets on top of the
// per-operation deadline: a second per 10,000 messages.
func sizeAllowance(n int) time.Duration { return time.Duration(n/10000) * time.Second }

// copyColumns are the messages table's columns, as copyIn fills them.
var copyColumns = []string{"workspace", "id", "outcome", "status", "description", "grp", "at", "exact"}

// copyIn copies n messages into the messages table with COPY (binary
// format, encoded by pgx); row returns the i-th.
func (b *Backend) copyIn(ctx context.Context, tx pgx.Tx, n int, row func(i int) (msgid.ID, *state.Record)) error {
	i := 0
	vals := make([]any, len(copyColumns)) // pgx encodes a row before asking for the next
	_, err := tx.CopyFrom(ctx, pgx.Identifier{b.schema, "recall_messages"}, copyColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		id, rec := row(i)
		i++
		status, desc, grp, exact := b.texts(rec)
		vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6] = b.workspace, id[:], rec.Outcome.String(), status, desc, grp, rec.At
		vals[7] = nil // NULL
		if exact != nil {
			vals[7] = exact
		}
		return vals, nil
	}))
	return err
}
