//go:build !unix && !windows

package local

import (
	"errors"
	"os"
)

// tryLockFile fails: this platform has no file locks recall knows of.
func tryLockFile(f *os.File) error {
	return errors.New("file locks are not supported on this platform; keep state in PostgreSQL")
}

func unlockFile(f *os.File, path string) error { return f.Close() }
