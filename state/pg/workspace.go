package pg

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/recallhq/recall/internal/version"
)

// ErrWorkspaceExists is CreateWorkspace's error for a workspace that
// already exists.
var ErrWorkspaceExists = errors.New("workspace already exists")

// Workspaces lists the workspaces of the Backend's schema, sorted: those
// with a row in recall_states (written once, or made by CreateWorkspace),
// and DefaultWorkspace, which always exists as Terraform's does.
func (b *Backend) Workspaces(ctx context.Context) ([]string, error) {
	ctx, conn, end, err := b.session(ctx, 0)
	defer end()
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, b.expand(`SELECT workspace FROM {states} ORDER BY workspace`))
	if err != nil {
		return nil, b.dbError("listing the workspaces of", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, b.dbError("listing the workspaces of", err)
	}
	if !slices.Contains(names, DefaultWorkspace) {
		names = append(names, DefaultWorkspace)
		slices.Sort(names)
	}
	return names, nil
}

// CreateWorkspace creates the Backend's workspace as an empty state (a
// fresh lineage, serial 0, no messages), so that Workspaces lists it. The
// error wraps ErrWorkspaceExists when it exists already; DefaultWorkspace
// always does.
func (b *Backend) CreateWorkspace(ctx context.Context) error {
	if b.workspace == DefaultWorkspace {
		return fmt.Errorf("%s: %w", b, ErrWorkspaceExists)
	}
	ctx, end := b.begin(ctx, 0)
	defer end()
	w, err := b.writer(ctx)
	if err != nil {
		return err
	}
	created := false
	err = b.inTx(ctx, w, "creating", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, b.expand(`INSERT INTO {states} (workspace, lineage, serial, recall_version, messages) VALUES ($1, $2, 0, $3, 0) ON CONFLICT (workspace) DO NOTHING`),
			b.workspace, uuid.NewString(), version.Version)
		created = tag.RowsAffected() == 1
		return err
	})
	if err != nil {
		return err
	}
	if !created {
		return fmt.Errorf("%s: %w", b, ErrWorkspaceExists)
	}
	b.cur = nil // the next Read sees the new row
	return nil
}

// DeleteWorkspace deletes the Backend's workspace: its messages and its
// state row. The caller holds the workspace's lock (from this Backend's
// Lock) and has decided, after a Read, that its messages may go; the
// lock's row goes with Unlock. DefaultWorkspace cannot be deleted.
func (b *Backend) DeleteWorkspace(ctx context.Context) error {
	if b.workspace == DefaultWorkspace {
		return errors.New("the default workspace cannot be deleted")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.lock == nil {
		return fmt.Errorf("deleting %s: the workspace's lock is not held", b)
	}
	ctx, cancel := b.op(ctx, sizeAllowance(b.messageCount()))
	defer cancel()
	w, err := b.writer(ctx)
	if err != nil {
		return err
	}
	err = b.inTx(ctx, w, "deleting", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, b.expand(`DELETE FROM {messages} WHERE workspace = $1`), b.workspace); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, b.expand(`DELETE FROM {states} WHERE workspace = $1`), b.workspace)
		return err
	})
	if err != nil {
		return err
	}
	b.cur, b.exists = nil, false
	return nil
}

// messageCount is how many messages the last Read saw; the caller holds
// b.mu.
func (b *Backend) messageCount() int {
	if b.cur == nil {
		return 0
	}
	return b.cur.Len()
}
