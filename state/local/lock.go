package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/state"
)

// Lock tries once to take the state's lock: an exclusive flock(2) on
// LockPath(), which holds the LockInfo as JSON for others to read. A lock
// held by another process gives a *state.LockError naming it;
// state.LockWithContext waits. The operating system drops the lock when
// the holder exits, however it exits; a lock file left behind by a killed
// holder is simply taken over.
func (b *Backend) Lock(ctx context.Context, req state.LockRequest) (state.Lock, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("locking state %s: %w", b.path, err)
	}
	lockPath := b.LockPath()
	f, holder, err := tryLock(lockPath)
	if err != nil {
		if dir := filepath.Dir(lockPath); errors.Is(err, fs.ErrNotExist) && !dirExists(dir) {
			return nil, &MissingDirError{Path: b.path, Dir: dir, Err: err}
		}
		return nil, fmt.Errorf("locking state %s: %w", b.path, err)
	}
	if f == nil {
		return nil, holder
	}
	info := state.LockInfo{
		ID:        uuid.NewString(),
		Operation: req.Operation,
		Who:       state.Who(),
		Version:   version.Version,
		Path:      b.path,
		Created:   time.Now().UTC().Truncate(time.Second),
	}
	if err := writeInfo(f, info); err != nil {
		unlockFile(f, lockPath)
		return nil, fmt.Errorf("locking state %s: writing %s: %w", b.path, lockPath, err)
	}
	// A state named through a link is written beside its target, and its
	// backup beside the link: both places may hold temps.
	target := strings.TrimSuffix(lockPath, LockSuffix)
	removeStaleTemps(target)
	if target != b.path {
		removeStaleTemps(b.path)
	}
	return &fileLock{f: f, path: lockPath, info: info}, nil
}

// lockOpenedHook, when set by a test, runs between opening the lock file
// and locking it: where another process's Unlock can come in between.
var lockOpenedHook func()

// tryLock tries once to take the lock at path. It returns the locked file,
// or a *state.LockError describing the holder, or an error.
func tryLock(path string) (*os.File, *state.LockError, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, nil, err
		}
		if lockOpenedHook != nil {
			lockOpenedHook()
		}
		err = tryLockFile(f)
		if errors.Is(err, errWouldBlock) {
			le := readHolder(f, path)
			f.Close()
			return nil, le, nil
		}
		if err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("locking %s: %w (the file system may not support locks)", path, err)
		}
		// A holder unlinks the file on Unlock just before releasing it: if
		// we opened the file before that and locked it after, we hold a
		// lock on a file nobody else will open. Start again on the file
		// the path names now.
		if same, err := samePath(f, path); err != nil {
			f.Close()
			return nil, nil, err
		} else if !same {
			f.Close()
			continue
		}
		return f, nil, nil
	}
}

// errWouldBlock is tryLockFile's answer when another process holds the
// lock.
var errWouldBlock = errors.New("lock held by another process")

// samePath reports whether path still names the file f.
func samePath(f *os.File, path string) (bool, error) {
	a, err := f.Stat()
	if err != nil {
		return false, err
	}
	b, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(a, b), nil
}

// readHolder reads the holder's LockInfo from the lock file. The holder
// writes it just after taking the lock, so an empty or partial file is
// read again a few times before giving up.
func readHolder(f *os.File, path string) *state.LockError {
	var info state.LockInfo
	var err error
	for try := 0; try < 5; try++ {
		if try > 0 {
			time.Sleep(10 * time.Millisecond)
		}
		if info, err = readInfo(f); err == nil {
			return &state.LockError{Info: info}
		}
	}
	return &state.LockError{Err: fmt.Errorf("held by another process; its lock information in %s could not be read: %v", path, err)}
}

func readInfo(f *os.File) (state.LockInfo, error) {
	var info state.LockInfo
	data, err := io.ReadAll(io.NewSectionReader(f, 0, 64<<10))
	if err != nil {
		return info, err
	}
	if len(data) == 0 {
		return info, errors.New("the file is empty")
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, err
	}
	if info.ID == "" {
		return info, errors.New("no lock ID")
	}
	return info, nil
}

// writeInfo replaces the lock file's content with info. It is written in
// place (not renamed into place): the lock belongs to this file.
func writeInfo(f *os.File, info state.LockInfo) error {
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err = f.WriteAt(data, 0)
	return err
}

// fileLock is a held lock.
type fileLock struct {
	f    *os.File
	path string
	info state.LockInfo

	once sync.Once
	err  error
}

func (l *fileLock) Info() state.LockInfo { return l.info }

// Unlock removes the lock file and releases the lock. Calling it again
// does nothing.
func (l *fileLock) Unlock() error {
	l.once.Do(func() {
		if err := unlockFile(l.f, l.path); err != nil {
			l.err = fmt.Errorf("unlocking %s: %w", l.path, err)
		}
	})
	return l.err
}

// ForceUnlock never removes a live lock: the operating system releases a
// local state's lock when its holder exits, so a lock can only be held by
// a process that is still running. If one is, the error (a
// *state.LockError) names it; if none is, the error says there is nothing
// to unlock, and a lock file left by a killed holder is removed.
func (b *Backend) ForceUnlock(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	lockPath := b.LockPath()
	f, holder, err := tryLock(lockPath)
	if err != nil {
		return fmt.Errorf("checking the lock on %s: %w", b.path, err)
	}
	if f == nil {
		if holder.Info.ID != "" && holder.Info.ID != id {
			holder.Err = fmt.Errorf("lock ID %q does not match the lock held (%s)", id, holder.Info.ID)
			return holder
		}
		holder.Err = errors.New("local state locks cannot be forced: the lock is released when that process exits, so stop it if it is stuck")
		return holder
	}
	stale, _ := readInfo(f)
	unlockFile(f, lockPath)
	if stale.ID == id {
		return fmt.Errorf("state %s is not locked: the process that held lock %s (%s, %q) has exited and the operating system released its lock; nothing to unlock", b.path, id, stale.Who, stale.Operation)
	}
	return fmt.Errorf("state %s is not locked: local state locks are released when their holder exits; nothing to unlock", b.path)
}

// removeStaleTemps removes the temporary files that writers of the state
// at path killed mid-write left behind (a million-message state's are
// 170 MB each). Only the lock holder writes, so while the lock is held no
// live writer owns one. Failures are ignored: the files are never read.
func removeStaleTemps(path string) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (strings.HasPrefix(n, "."+base+".tmp-") || strings.HasPrefix(n, "."+base+BackupSuffix+".tmp-")) {
			os.Remove(filepath.Join(dir, n))
		}
	}
}

// MissingDirError is a lock asked for a state whose directory does not
// exist: recall creates the state file, never its directories.
type MissingDirError struct {
	// Path is the state's path.
	Path string
	// Dir is its directory, which does not exist.
	Dir string
	// Err is the open's error, for errors.Is(err, fs.ErrNotExist).
	Err error
}

func (e *MissingDirError) Error() string {
	return fmt.Sprintf("locking state %s: the state's directory %s does not exist", e.Path, e.Dir)
}

func (e *MissingDirError) Unwrap() error { return e.Err }

func dirExists(dir string) bool {
	fi, err := os.Stat(dir)
	return err == nil && fi.IsDir()
}
