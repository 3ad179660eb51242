package local

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Steps of an atomic write, in order, as named to hook.
const (
	stepCreate       = "create"        // create the temporary file
	stepWrite        = "write"         // each write to the temporary file
	stepSync         = "sync"          // fsync the temporary file
	stepClose        = "close"         // close it
	stepBackupLink   = "backup-link"   // link (or copy) the old state to a temporary backup
	stepBackupRename = "backup-rename" // rename that over <state>.backup
	stepRename       = "rename"        // rename the temporary file over the state
	stepSyncDir      = "sync-dir"      // fsync the directory
)

// hook is called before each step of a write; an error it returns fails
// the write at that step, as a failing disk or kernel would. Tests replace
// it; it is nil otherwise.
var hook func(step string) error

func at(step string) error {
	if hook == nil {
		return nil
	}
	return hook(step)
}

// fileWriter is the temporary file, with the write step hooked.
type fileWriter struct {
	f *os.File
}

// reset empties the file, to start writing again.
func (w *fileWriter) reset() error {
	if err := w.f.Truncate(0); err != nil {
		return err
	}
	_, err := w.f.Seek(0, io.SeekStart)
	return err
}

func (w *fileWriter) Write(p []byte) (int, error) {
	if err := at(stepWrite); err != nil {
		return 0, err
	}
	return w.f.Write(p)
}

// writeAtomic replaces path with what write writes, atomically: a
// temporary file in the same directory is written, synced and closed; the
// current file (if any) becomes path.backup when backup is set; the
// temporary file is renamed over path and the directory is synced. The
// file at path is never opened for writing, so a crash at any instant
// leaves either the old or the new content there.
//
// If path is a symbolic link, the file it points to is replaced (in its
// own directory) and the link is kept; the backup stays beside the link.
//
// renamed reports whether path now holds the new content; it can be true
// with an error when only the final directory sync failed. fi describes the
// new file.
func writeAtomic(path string, backup bool, write func(*fileWriter) error) (renamed bool, fi os.FileInfo, err error) {
	backupPath := path + BackupSuffix
	if path, err = resolveLinks(path); err != nil {
		return false, nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// A new state is created 0644 less the umask, like any file; a
	// rewritten one keeps its mode.
	var keepMode fs.FileMode
	if old, err := os.Stat(path); err == nil {
		keepMode = old.Mode().Perm()
	}

	if err := at(stepCreate); err != nil {
		return false, nil, err
	}
	f, err := createTemp(filepath.Join(dir, "."+base+".tmp-"))
	if err != nil {
		return false, nil, err
	}
	tmp := f.Name()
	closed := false
	defer func() {
		if err != nil && !renamed {
			if !closed {
				f.Close()
			}
			os.Remove(tmp)
		}
	}()
	if keepMode != 0 {
		if err := f.Chmod(keepMode); err != nil {
			return false, nil, err
		}
	}
	if err := write(&fileWriter{f}); err != nil {
		return false, nil, err
	}
	if err := at(stepSync); err != nil {
		return false, nil, err
	}
	if err := f.Sync(); err != nil {
		return false, nil, err
	}
	if fi, err = f.Stat(); err != nil {
		return false, nil, err
	}
	if err := at(stepClose); err != nil {
		return false, nil, err
	}
	closed = true
	if err := f.Close(); err != nil {
		return false, nil, err
	}
	if backup {
		if err := keepBackup(path, backupPath); err != nil {
			return false, nil, fmt.Errorf("keeping the previous version as %s: %w", backupPath, err)
		}
	}
	if err := at(stepRename); err != nil {
		return false, nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, nil, err
	}
	if err := at(stepSyncDir); err != nil {
		return true, fi, err
	}
	if err := syncDir(dir); err != nil {
		return true, fi, fmt.Errorf("syncing directory %s: %w", dir, err)
	}
	return true, fi, nil
}

// createTemp creates a new file named prefix and a random suffix, mode
// 0644 less the umask (os.CreateTemp's files are 0600).
func createTemp(prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		f, err := os.OpenFile(prefix+randomSuffix(), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) && try < 100 {
			continue
		}
		return f, err
	}
}

// resolveLinks follows symbolic links from path to the file they name,
// which need not exist yet.
func resolveLinks(path string) (string, error) {
	for i := 0; i < 40; i++ {
		fi, err := os.Lstat(path)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return path, nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// keepBackup makes the current file at path (if any) the backup: a hard
// link to a temporary name renamed into place, so the backup is the exact
// old file and never a half-written one; a copy where links are not
// supported.
func keepBackup(path, backup string) error {
	dir, base := filepath.Split(backup)
	tmp := filepath.Join(dir, "."+base+".tmp-"+randomSuffix())
	if err := at(stepBackupLink); err != nil {
		return err
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil // first write: nothing to keep
	}
	if err := linkFile(path, tmp); err != nil {
		if err := copyFile(path, tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	if err := at(stepBackupRename); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, backup); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// linkFile is os.Link; tests replace it to take the copying path.
var linkFile = os.Link

// openStat opens the file at path and stats it: the identity and mode of
// the file that was opened, not of whatever is at path by then.
func openStat(path string) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// copyFile copies src to a new file dst and syncs it.
func copyFile(src, dst string) error {
	in, fi, err := openStat(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// syncDir fsyncs a directory, so that renames in it survive a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func randomSuffix() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// WriteFileAtomic replaces path with what write writes, as the state file
// is replaced (temporary file in the same directory, fsync, rename, fsync
// of the directory; a symbolic link at path is kept), without a backup.
// A failed write leaves any earlier file intact. Saved plans are written
// with it.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	_, _, err := writeAtomic(path, false, func(w *fileWriter) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	return err
}
