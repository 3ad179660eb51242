package testkit

import (
	"os"
	"sync"
	"testing"
)

// SharedDir is a temporary directory the tests of one test binary share,
// for what is too slow to make per test (a build, a large fixture): made
// and filled by Fill the first time Get is called, removed by Remove,
// which the package's TestMain calls after m.Run.
type SharedDir struct {
	// Prefix names the directory, as os.MkdirTemp's pattern.
	Prefix string
	// Fill writes the directory's contents.
	Fill func(dir string) error

	once sync.Once
	dir  string
	err  error
}

// Get returns the directory, made and filled on the first call; a failure
// to make or fill it fails every test that asks.
func (s *SharedDir) Get(t testing.TB) string {
	t.Helper()
	s.once.Do(func() {
		if s.dir, s.err = os.MkdirTemp("", s.Prefix); s.err == nil {
			s.err = s.Fill(s.dir)
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.dir
}

// Remove removes the directory, if it was made.
func (s *SharedDir) Remove() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
