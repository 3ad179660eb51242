// Package state defines recall's record of settled messages and the Backend
// interface that stores it.
//
// A State is what Terraform users know as state: a lineage that never
// changes, a serial that grows by one with every write that changes content,
// and the settled messages. Backends (the local file in state/local,
// PostgreSQL in state/pg) all pass the conformance suite in state/statetest.
package state

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/user"
	"time"

	"github.com/google/uuid"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
)

// FormatVersion is the state format this release reads and writes.
const FormatVersion = 1

// Record is one settled message.
type Record struct {
	// Outcome is how the message was settled.
	Outcome outcome.Outcome
	// Status is Clickatell's messageStatus ("006", "004", …); empty when the
	// API answered 404 without one.
	Status string
	// Description is Clickatell's description of Status, or of the error.
	Description string
	// Group is the manifest group that asked for the cancellation.
	Group string
	// At is when the outcome was recorded, UTC, to the second.
	At time.Time
}

// Equal reports whether r and o record the same: every field alike, At
// the same instant.
func (r Record) Equal(o Record) bool {
	return r.Outcome == o.Outcome && r.Status == o.Status && r.Description == o.Description && r.Group == o.Group && r.At.Equal(o.At)
}

// State is the whole recorded state.
type State struct {
	// Lineage identifies this state for its whole life; set on creation.
	// Empty means the state does not exist yet.
	Lineage string
	// Serial grows by one with every write that changes content; 0 for a
	// state never written.
	Serial uint64
	// RecallVersion is the version of recall that last wrote the state.
	RecallVersion string

	// The settled messages (settled ones only), read and written through
	// Get, Lookup, All, IDs, Len, Set, Delete, Reserve and Apply (see
	// messages.go). The zero value holds none and is ready to use.
	messages
}

// New returns an empty state with a fresh lineage and serial 0. It exists
// only in memory until a backend writes it.
func New() *State {
	return &State{Lineage: uuid.NewString()}
}

// Clone returns a copy of s that shares nothing with it, for callers that
// must not share a backend's State, which Commit updates in place.
func (s *State) Clone() *State {
	return &State{Lineage: s.Lineage, Serial: s.Serial, RecallVersion: s.RecallVersion, messages: s.messages.clone()}
}

// Exists reports whether the state has ever been written.
func (s *State) Exists() bool { return s != nil && s.Serial > 0 }

// Change is one entry of a checkpoint: a message settled (Record non-nil) or
// forgotten (Record nil, from `state rm`).
type Change struct {
	ID     msgid.ID
	Record *Record
}

// Apply makes the changes to s, in order: a Record sets its message, a nil
// Record deletes it.
func (s *State) Apply(changes []Change) {
	for _, c := range changes {
		if c.Record == nil {
			s.Delete(c.ID)
		} else {
			s.Set(c.ID, *c.Record)
		}
	}
}

// Backend stores a State. Implementations are safe for use by one process
// at a time per Backend value; cross-process safety comes from Lock.
type Backend interface {
	// String names the backend for messages (a path, or a URL without
	// its password). It never contains a secret.
	String() string

	// Read loads the latest state. A state that does not exist yet is not
	// an error: Read returns New() (serial 0, fresh lineage) and later
	// writes create it with that lineage. A corrupt state, or one with a
	// newer format_version, is an error (ErrCorrupt / *FormatError) and is
	// never overwritten afterwards by this Backend.
	//
	// The returned State is owned by the backend: Commit updates it in
	// place, and callers must not modify it.
	Read(ctx context.Context) (*State, error)

	// Commit applies changes on top of the state last returned by Read,
	// increments Serial by one and persists the result atomically. A Commit
	// with no changes writes nothing and keeps the serial. Backends write
	// only what changed where the medium allows it (PostgreSQL); the local
	// file rewrites itself atomically.
	Commit(ctx context.Context, changes []Change) error

	// Replace writes s as the whole state, keeping its lineage and serial
	// exactly (for moving state between backends). The caller checks
	// lineage and serial beforehand; Replace does not.
	Replace(ctx context.Context, s *State) error

	// Lock tries once to take the state's lock for an operation and
	// returns a Lock to release it. The backend fills in the LockInfo (ID,
	// who, version, created, path). If another process holds the lock, the
	// error is a *LockError naming the holder. Lock does not wait:
	// LockWithContext does, for every backend.
	Lock(ctx context.Context, req LockRequest) (Lock, error)

	// ForceUnlock removes a lock left behind, given its ID. Backends whose
	// locks cannot outlive their holder return an error saying so when no
	// such lock is held.
	ForceUnlock(ctx context.Context, id string) error

	// Close releases resources (connections, file handles). It does not
	// release a Lock: Unlock does.
	Close() error
}

// LockRequest asks for a lock.
type LockRequest struct {
	// Operation names what the holder does: "apply", "state rm", ….
	Operation string
	// Timeout is how long LockWithContext waits for a lock held by
	// someone else; 0 fails at once.
	Timeout time.Duration
}

// Lock is a held state lock.
type Lock interface {
	// Info describes the lock as others see it.
	Info() LockInfo
	// Unlock releases the lock.
	Unlock() error
}

// LockInfo describes who holds a lock; it is what a refused second process
// prints. Its JSON form is the local backend's lock file.
type LockInfo struct {
	// ID identifies the lock, for force-unlock.
	ID string `json:"id"`
	// Operation is what the holder is doing.
	Operation string `json:"operation"`
	// Who is user@host of the holder.
	Who string `json:"who"`
	// Version is the holder's recall version.
	Version string `json:"version"`
	// Created is when the lock was taken.
	Created time.Time `json:"created"`
	// Path is the state's location as the holder named it.
	Path string `json:"path"`
}

// Who returns user@host for LockInfo.Who: the login name (from the
// user database, else $USER) and the host name, with "unknown" for either
// when it cannot be found.
func Who() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return name + "@" + host
}

// LockError is returned when the lock is held by someone else.
type LockError struct {
	// Info describes the holder; zero if it could not be read.
	Info LockInfo
	// Err is the underlying cause, if any.
	Err error
}

func (e *LockError) Error() string {
	msg := "state is locked"
	if e.Info.ID != "" {
		msg = fmt.Sprintf("state is locked by %s (operation %q, since %s, recall %s, lock ID %s)",
			e.Info.Who, e.Info.Operation, e.Info.Created.UTC().Format(time.RFC3339), e.Info.Version, e.Info.ID)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *LockError) Unwrap() error { return e.Err }

// Lock backoff: the first retry comes quickly, later ones at most once a
// second, with jitter so that several waiters do not poll in step.
const (
	lockMinBackoff = 20 * time.Millisecond
	lockMaxBackoff = time.Second
)

// LockWithContext takes b's lock for req, waiting for it as long as
// req.Timeout allows (Terraform's statemgr.LockWithContext): while another
// process holds it (b.Lock returns a *LockError), it tries again with
// capped exponential backoff and jitter, until the lock is taken,
// req.Timeout has passed or ctx ends. It then returns the last *LockError,
// which names the holder and, in Err, why the wait ended. Any other error
// from b.Lock ends the wait at once.
func LockWithContext(ctx context.Context, b Backend, req LockRequest) (Lock, error) {
	deadline := time.Now().Add(req.Timeout)
	backoff := lockMinBackoff
	for {
		l, err := b.Lock(ctx, req)
		var le *LockError
		if err == nil || !errors.As(err, &le) {
			return l, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			if req.Timeout > 0 {
				le.Err = joinCause(le.Err, fmt.Errorf("gave up after waiting %s", req.Timeout))
			}
			return nil, err
		}
		// Jitter over [backoff/2, backoff).
		t := time.NewTimer(min(backoff/2+rand.N(backoff/2), wait))
		select {
		case <-ctx.Done():
			t.Stop()
			le.Err = joinCause(le.Err, ctx.Err())
			return nil, err
		case <-t.C:
		}
		backoff = min(2*backoff, lockMaxBackoff)
	}
}

// joinCause adds err to a LockError's cause, keeping err for errors.Is.
func joinCause(cause, err error) error {
	if cause == nil {
		return err
	}
	return fmt.Errorf("%v; %w", cause, err)
}

// ErrLockLost is wrapped by a backend's errors when its lock was taken away
// while held (force-unlock, or the lock's connection to a remote backend
// ended): nothing more can be written under it, so a run that sees it must
// stop rather than keep trying.
var ErrLockLost = errors.New("the state lock was lost")

// ErrCorrupt is wrapped by errors about state that cannot be parsed.
var ErrCorrupt = errors.New("state is corrupt")

// FormatError is returned for a state written by a newer recall.
type FormatError struct {
	// Location is the backend's String().
	Location string
	// Version is the format_version found.
	Version int
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: state format_version %d is newer than this recall supports (%d); upgrade recall", e.Location, e.Version, FormatVersion)
}
