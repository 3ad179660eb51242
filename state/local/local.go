package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sync"

	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state"
)

// BackupSuffix is appended to the state's path to name the copy of the
// previous version that every write keeps.
const BackupSuffix = ".backup"

// LockSuffix is appended to the state's path to name its lock file.
const LockSuffix = ".lock"

// Backend is the local file backend. Create it with New; it touches the
// file system only when its methods are called. A Backend is safe for
// concurrent use by several goroutines; separate processes are kept apart
// by Lock.
type Backend struct {
	path string

	mu sync.Mutex
	// st is the state Read returned; Commit updates it in place.
	st *state.State
	// ids are st's message IDs in order, kept up to date by Commit so
	// that a checkpoint does not sort a million IDs again.
	ids []msgid.ID
	// diskSerial is the serial of the file as last read or written.
	diskSerial uint64
	// dirty is set when st holds changes that a failed write did not save.
	dirty bool
	// readErr is why the last Read failed: a state that cannot be read is
	// never overwritten.
	readErr error
	// canonical is set when the file (as identified by ident) is byte for
	// byte the encoding of st before the touched changes: a commit then
	// copies its unchanged lines instead of encoding every record.
	canonical bool
	ident     identity
	// touched are the IDs changed in st since the file was written.
	touched map[msgid.ID]struct{}
	// merged tells tests whether the last write copied unchanged lines.
	merged bool
}

var _ state.Backend = (*Backend)(nil)

// New returns the backend for the state file at path. Nothing is opened or
// created until Read, Commit, Replace or Lock; the directory must exist by
// the first write.
func New(path string) *Backend {
	return &Backend{path: path}
}

// String returns the state file's path.
func (b *Backend) String() string { return b.path }

// Path returns the state file's path.
func (b *Backend) Path() string { return b.path }

// BackupPath returns the path of the copy of the previous version.
func (b *Backend) BackupPath() string { return b.path + BackupSuffix }

// LockPath returns the path of the lock file: beside the state file, or,
// when the state's path is a symbolic link, beside the file it points to,
// so that processes naming the state either way exclude each other.
func (b *Backend) LockPath() string {
	if p, err := resolveLinks(b.path); err == nil {
		return p + LockSuffix
	}
	return b.path + LockSuffix
}

// Read reads the state file. A missing file is a new state (state.New());
// a file that cannot be parsed is an error wrapping state.ErrCorrupt that
// names the line; a file written by a newer recall is a *state.FormatError.
// After a failed Read, Commit and Replace refuse to write until a Read
// succeeds.
func (b *Backend) Read(ctx context.Context) (*state.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	res, ident, err := b.read()
	if err != nil {
		b.readErr = err
		return nil, err
	}
	b.st, b.ids, b.diskSerial, b.dirty, b.readErr = res.st, res.ids, res.st.Serial, false, nil
	b.canonical, b.ident, b.touched = res.canonical, ident, nil
	return res.st, nil
}

func (b *Backend) read() (decoded, identity, error) {
	f, err := os.Open(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return decoded{st: state.New()}, identity{}, nil
	}
	if err != nil {
		return decoded{}, identity{}, fmt.Errorf("reading state: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return decoded{}, identity{}, fmt.Errorf("reading state: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return decoded{}, identity{}, fmt.Errorf("reading state: %s is not a regular file", b.path)
	}
	res, err := decode(f, fi.Size(), b.path)
	if err != nil {
		var ce *corruptError
		if errors.As(err, &ce) {
			if _, serr := os.Stat(b.BackupPath()); serr == nil {
				ce.backup = b.BackupPath()
			}
		}
		return decoded{}, identity{}, err
	}
	ident, ok := identityOf(fi)
	res.canonical = res.canonical && ok
	return res, ident, nil
}

// refuse returns why this Backend may not write, or nil.
func (b *Backend) refuse() error {
	if b.readErr != nil {
		return fmt.Errorf("refusing to write %s: it could not be read: %w", b.path, b.readErr)
	}
	return nil
}

// Commit applies changes to the state Read returned, increments its serial,
// sets its recall version and rewrites the file atomically, keeping the
// previous file as BackupPath(). Any non-empty list of changes is a write,
// even one that changes nothing.
//
// If the write fails, the State keeps the changes (so that the caller can
// save it elsewhere) and its serial stays one past the file's; a later
// Commit, even with no changes, writes them with that same serial.
func (b *Backend) Commit(ctx context.Context, changes []state.Change) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.refuse(); err != nil {
		return err
	}
	if b.st == nil {
		return fmt.Errorf("commit to %s before reading it", b.path)
	}
	if len(changes) == 0 && !b.dirty {
		return nil
	}
	for _, c := range changes {
		if c.Record != nil {
			if err := checkRecord(c.ID, c.Record); err != nil {
				return fmt.Errorf("writing state %s: %w", b.path, err)
			}
		}
	}
	if err := b.checkUnchanged(); err != nil {
		return err
	}
	b.apply(changes)
	b.dirty = true
	b.st.Serial = b.diskSerial + 1
	b.st.RecallVersion = version.Version
	touched := make([]msgid.ID, 0, len(b.touched))
	for id := range b.touched {
		touched = append(touched, id)
	}
	slices.SortFunc(touched, msgid.Compare)
	b.merged = false
	renamed, fi, err := writeAtomic(b.path, true, func(w *fileWriter) error {
		if b.canonical {
			err := b.merge(w, touched)
			if !errors.Is(err, errNoMerge) {
				b.merged = err == nil
				return err
			}
			if err := w.reset(); err != nil {
				return err
			}
		}
		return encode(w, b.st, b.ids)
	})
	if renamed {
		b.written(fi)
	}
	if err != nil {
		return fmt.Errorf("writing state %s: %w", b.path, err)
	}
	return nil
}

// checkUnchanged refuses to write over a file that another process wrote
// since this Backend read it: its changes would be lost. (The lock keeps
// writers apart; this catches those that did not take it.)
func (b *Backend) checkUnchanged() error {
	fi, err := os.Stat(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		if b.diskSerial == 0 {
			return nil
		}
		return fmt.Errorf("state %s has disappeared since it was read (at serial %d); nothing was written", b.path, b.diskSerial)
	}
	if err != nil {
		return fmt.Errorf("writing state %s: %w", b.path, err)
	}
	if ident, ok := identityOf(fi); ok && ident.equal(b.ident) {
		return nil
	}
	now, _, err := b.read()
	if err != nil {
		return fmt.Errorf("state %s changed since it was read, and cannot be read now; nothing was written: %w", b.path, err)
	}
	if now.st.Lineage != b.st.Lineage {
		return fmt.Errorf("state %s was replaced by another process since it was read (lineage %s then, %s now); nothing was written", b.path, b.st.Lineage, now.st.Lineage)
	}
	if now.st.Serial != b.diskSerial {
		return fmt.Errorf("state %s was written by another process since it was read (serial %d then, %d now); nothing was written: run the command again", b.path, b.diskSerial, now.st.Serial)
	}
	return nil
}

// merge writes the state by copying the unchanged lines of the file, if
// it is still the one b.st was read from or written to.
func (b *Backend) merge(w io.Writer, touched []msgid.ID) error {
	old, fi, err := openStat(b.path)
	if err != nil {
		return errNoMerge
	}
	defer old.Close()
	if ident, ok := identityOf(fi); !ok || !ident.equal(b.ident) {
		return errNoMerge
	}
	return merge(w, old, b.st, touched)
}

// written records that the file now holds b.st.
func (b *Backend) written(fi os.FileInfo) {
	b.diskSerial, b.dirty, b.touched = b.st.Serial, false, nil
	b.ident, b.canonical = identityOf(fi)
}

// apply applies changes to b.st and keeps b.ids in order.
func (b *Backend) apply(changes []state.Change) {
	st := b.st
	// existed records, for each touched ID, whether it was in the state
	// before this commit.
	existed := make(map[msgid.ID]bool, len(changes))
	if b.touched == nil {
		b.touched = make(map[msgid.ID]struct{}, len(changes))
	}
	for _, c := range changes {
		if _, seen := existed[c.ID]; !seen {
			_, existed[c.ID] = st.Lookup(c.ID)
			b.touched[c.ID] = struct{}{}
		}
	}
	st.Apply(changes)
	var added []msgid.ID
	removed := 0
	for id, was := range existed {
		_, is := st.Lookup(id)
		switch {
		case is && !was:
			added = append(added, id)
		case was && !is:
			removed++
		}
	}
	if len(added) == 0 && removed == 0 {
		return
	}
	slices.SortFunc(added, msgid.Compare)
	ids := make([]msgid.ID, 0, len(b.ids)-removed+len(added))
	i := 0
	for _, id := range b.ids {
		if removed > 0 {
			if was, touched := existed[id]; touched && was {
				if _, is := st.Lookup(id); !is {
					continue
				}
			}
		}
		for i < len(added) && msgid.Compare(added[i], id) < 0 {
			ids = append(ids, added[i])
			i++
		}
		ids = append(ids, id)
	}
	ids = append(ids, added[i:]...)
	b.ids = ids
}

// Replace writes s as the whole state, keeping its lineage and serial, and
// makes a copy of it the state later Commits apply to. The recall version
// written is this one's.
func (b *Backend) Replace(ctx context.Context, s *state.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := check(s); err != nil {
		return fmt.Errorf("replacing state %s: %w", b.path, err)
	}
	c := s.Clone()
	c.RecallVersion = version.Version
	ids := c.IDs()

	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.refuse(); err != nil {
		return err
	}
	renamed, fi, err := writeAtomic(b.path, true, func(w *fileWriter) error {
		return encode(w, c, ids)
	})
	if renamed {
		b.st, b.ids = c, ids
		b.written(fi)
	}
	if err != nil {
		return fmt.Errorf("writing state %s: %w", b.path, err)
	}
	return nil
}

// WriteFile writes s to path atomically, without a backup or a lock: for
// saving a state that could not be written to its backend (SPEC's
// recall.state.errored.json) or exporting one. The recall version written
// is s.RecallVersion.
func WriteFile(path string, s *state.State) error {
	if err := check(s); err != nil {
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	ids := s.IDs()
	if _, _, err := writeAtomic(path, false, func(w *fileWriter) error {
		return encode(w, s, ids)
	}); err != nil {
		return fmt.Errorf("writing state %s: %w", path, err)
	}
	return nil
}

// Close releases nothing: a Backend holds no open files between calls. It
// does not release a Lock.
func (b *Backend) Close() error { return nil }
