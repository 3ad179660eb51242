//go:build unix

package local

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// tryLockFile takes an exclusive flock(2) on f without waiting.
func tryLockFile(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return errWouldBlock
		}
		return err
	}
}

// unlockFile removes the lock file while still holding the lock, then
// releases the lock by closing the file. A process that opened the file
// before the removal and locks it after sees (samePath) that the path no
// longer names it, and starts again.
func unlockFile(f *os.File, path string) error {
	var err error
	if same, serr := samePath(f, path); serr == nil && same {
		if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = rerr
		}
	}
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
