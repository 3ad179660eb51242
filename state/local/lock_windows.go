//go:build windows

package local

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockOffset is where the locked byte lies: far past the LockInfo, because
// Windows locks are mandatory and would stop others reading the holder's
// info.
const lockOffset = 1 << 62

// tryLockFile takes an exclusive LockFileEx lock on f without waiting.
func tryLockFile(f *os.File) error {
	ol := windows.Overlapped{Offset: uint32(lockOffset & 0xffffffff), OffsetHigh: uint32(lockOffset >> 32)}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) || errors.Is(err, windows.ERROR_IO_PENDING) {
		return errWouldBlock
	}
	return err
}

// unlockFile empties the lock file and releases the lock by closing it.
// Windows does not remove a file that others hold open, so the (empty)
// file stays.
func unlockFile(f *os.File, path string) error {
	err := f.Truncate(0)
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}
