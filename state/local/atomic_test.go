package local

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

var allSteps = []string{stepCreate, stepWrite, stepSync, stepClose, stepBackupLink, stepBackupRename, stepRename, stepSyncDir}

// setHook makes the write fail (or, with crash, panic as if the process
// died: nothing is cleaned up) at the nth time step is reached.
func setHook(t *testing.T, step string, nth int, crash bool) {
	t.Helper()
	seen := 0
	hook = func(s string) error {
		if s != step {
			return nil
		}
		seen++
		if seen != nth {
			return nil
		}
		if crash {
			panic(crashed{step})
		}
		return fmt.Errorf("injected failure at %s", step)
	}
	t.Cleanup(func() { hook = nil })
}

type crashed struct{ step string }

// atomicFixture is a state written twice (so that it has a backup), and a
// third commit's changes, large enough that the file is written in several
// pieces.
type atomicFixture struct {
	path   string
	b      *Backend
	st     *state.State
	v1, v2 []byte
	next   []state.Change
	v3     string // the file the third commit should write
	dir    string
}

func newAtomicFixture(t *testing.T) *atomicFixture {
	f := &atomicFixture{path: statePath(t)}
	f.dir = filepath.Dir(f.path)
	f.b = New(f.path)
	f.st = statetest.MustRead(t, f.b)
	mustCommit(t, f.b, statetest.Changes(0, 8000)...)
	f.v1 = readFile(t, f.path)
	mustCommit(t, f.b, statetest.Changes(8000, 100)...)
	f.v2 = readFile(t, f.path)
	f.next = statetest.Changes(20000, 100)
	s3 := f.st.Clone()
	for _, c := range f.next {
		s3.Set(c.ID, *c.Record)
	}
	s3.Serial = 3
	f.v3 = encodeString(t, s3)
	return f
}

// checkDisk asserts that the state file is the old or the new version
// (never anything else), that the backup is an older version, and returns
// which the state is.
func (f *atomicFixture) checkDisk(t *testing.T) (isNew bool) {
	t.Helper()
	got := readFile(t, f.path)
	switch {
	case bytes.Equal(got, f.v2):
	case string(got) == f.v3:
		isNew = true
	default:
		t.Fatalf("state file is neither the old nor the new version:\n%.300s", got)
	}
	if _, err := New(f.path).Read(ctx); err != nil {
		t.Fatalf("state does not read: %v", err)
	}
	bak := readFile(t, f.path+BackupSuffix)
	switch {
	case bytes.Equal(bak, f.v1):
		if isNew {
			t.Error("state is the new version but the backup is two versions old")
		}
	case bytes.Equal(bak, f.v2):
	default:
		t.Fatalf("backup is neither of the two previous versions:\n%.300s", bak)
	}
	if _, err := Decode(bytes.NewReader(bak), "backup"); err != nil {
		t.Fatalf("backup does not read: %v", err)
	}
	return isNew
}

// leftovers lists files other than the state and its backup.
func (f *atomicFixture) leftovers(t *testing.T) []string {
	entries, err := os.ReadDir(f.dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if n := e.Name(); n != filepath.Base(f.path) && n != filepath.Base(f.path)+BackupSuffix {
			out = append(out, n)
		}
	}
	return out
}

// TestCommit_FailureAtEveryStep fails the write at each of its steps and
// checks that the file on disk is the old or the new state, the backup is
// sane, nothing is left behind, and a later commit saves what failed.
func TestCommit_FailureAtEveryStep(t *testing.T) {
	for _, step := range allSteps {
		nths := []int{1}
		if step == stepWrite {
			nths = []int{1, 2}
		}
		for _, nth := range nths {
			t.Run(fmt.Sprintf("%s#%d", step, nth), func(t *testing.T) {
				f := newAtomicFixture(t)
				setHook(t, step, nth, false)
				err := f.b.Commit(ctx, f.next)
				if err == nil || !strings.Contains(err.Error(), "injected failure") {
					t.Fatalf("Commit: %v, want the injected failure", err)
				}
				isNew := f.checkDisk(t)
				if isNew != (step == stepSyncDir) {
					t.Errorf("after a failure at %s, the state is the new version: %v", step, isNew)
				}
				if l := f.leftovers(t); len(l) > 0 {
					t.Errorf("left behind: %v", l)
				}
				// The State keeps the changes, one serial past the file's.
				if f.st.Serial != 3 || f.st.Len() != 8200 {
					t.Errorf("after the failure the State has serial %d and %d messages; want 3, 8200", f.st.Serial, f.st.Len())
				}
				// A later commit with nothing new saves them, as serial 3.
				hook = nil
				mustCommit(t, f.b)
				if got := string(readFile(t, f.path)); got != f.v3 {
					t.Errorf("the retried write differs from the expected version 3:\n%s", lineDiff(f.v3, got))
				}
			})
		}
	}
}

// TestCommit_CrashAtEveryStep stops the write at each step as if the
// process had been killed there: no cleanup runs. The state and the backup
// must still read as a whole version, and a new Backend must carry on.
func TestCommit_CrashAtEveryStep(t *testing.T) {
	for _, step := range allSteps {
		t.Run(step, func(t *testing.T) {
			f := newAtomicFixture(t)
			nth := 1
			if step == stepWrite {
				nth = 2
			}
			setHook(t, step, nth, true)
			func() {
				defer func() {
					if r := recover(); r == nil {
						t.Fatal("the write did not reach the step")
					} else if _, ok := r.(crashed); !ok {
						panic(r)
					}
				}()
				f.b.Commit(ctx, f.next)
			}()
			hook = nil
			isNew := f.checkDisk(t)
			if isNew != (step == stepSyncDir) {
				t.Errorf("after a crash at %s, the state is the new version: %v", step, isNew)
			}
			// Leftover temporary files are never read, and do not get in
			// the way of the next process.
			b := New(f.path)
			s := statetest.MustRead(t, b)
			mustCommit(t, b, statetest.Changes(30000, 1)...)
			if got := statetest.MustRead(t, New(f.path)); got.Serial != s.Serial || got.Len() != s.Len() {
				t.Errorf("after recovery: serial %d, %d messages; want %d, %d", got.Serial, got.Len(), s.Serial, s.Len())
			}
			for _, l := range f.leftovers(t) {
				if !strings.HasPrefix(l, ".recall.state.json") || !strings.Contains(l, ".tmp-") {
					t.Errorf("unexpected file %s", l)
				}
			}
		})
	}
}

// TestWriteAtomic_FirstWrite: the first write of a state has no
// previous version to keep, and a failed first write leaves no file.
func TestWriteAtomic_FirstWrite(t *testing.T) {
	path := statePath(t)
	b := New(path)
	statetest.MustRead(t, b)
	setHook(t, stepRename, 1, false)
	if err := b.Commit(ctx, statetest.Changes(0, 3)); err == nil {
		t.Fatal("Commit succeeded despite the failure")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed first write left a state file (%v)", err)
	}
	if _, err := os.Stat(path + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed first write left a backup (%v)", err)
	}
	hook = nil
	mustCommit(t, b)
	if got := statetest.MustRead(t, New(path)); got.Serial != 1 || got.Len() != 3 {
		t.Errorf("after the retry: serial %d, %d messages; want 1, 3", got.Serial, got.Len())
	}
}
