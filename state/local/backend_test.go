package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

var ctx = context.Background()

func statePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "recall.state.json")
}

func mustCommit(t *testing.T, b *Backend, cs ...state.Change) {
	t.Helper()
	if err := b.Commit(ctx, cs); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkCanonical asserts that the file holds exactly Encode(s).
func checkCanonical(t *testing.T, path string, s *state.State) {
	t.Helper()
	if got, want := string(readFile(t, path)), encodeString(t, s); got != want {
		t.Fatalf("file differs from the encoding of the state:\n%s", lineDiff(want, got))
	}
}

func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("first difference on line %d:\nwant %q\ngot  %q", i+1, a, b)
		}
	}
	return "(no difference by line)"
}

// TestCommit_MergeMatchesEncode drives random commits and checks that the
// file copied line by line is always exactly what encoding the whole state
// gives.
func TestCommit_MergeMatchesEncode(t *testing.T) {
	path := statePath(t)
	b := New(path)
	s := statetest.MustRead(t, b)
	rng := rand.New(rand.NewPCG(1, 2))
	next := 0
	for round := 0; round < 150; round++ {
		var cs []state.Change
		ids := s.IDs()
		switch {
		case round%50 == 49 && len(ids) > 0: // remove everything
			for _, id := range ids {
				cs = append(cs, state.Change{ID: id})
			}
		default:
			for i := rng.IntN(30); i > 0; i-- { // add
				cs = append(cs, statetest.Changes(next, 1)...)
				next++
			}
			for i := rng.IntN(10); i > 0 && len(ids) > 0; i-- { // remove
				cs = append(cs, state.Change{ID: ids[rng.IntN(len(ids))]})
			}
			for i := rng.IntN(10); i > 0 && len(ids) > 0; i-- { // modify
				r := statetest.Record(rng.IntN(1000))
				r.Description = fmt.Sprintf("round %d \"%d\"", round, i)
				cs = append(cs, state.Change{ID: ids[rng.IntN(len(ids))], Record: &r})
			}
			if len(ids) > 0 && round%7 == 0 { // the first and last lines
				cs = append(cs, state.Change{ID: ids[0]}, state.Change{ID: ids[len(ids)-1]})
			}
			if round%5 == 0 { // before the first, after the last
				lo, hi := statetest.Record(round), statetest.Record(round+1)
				cs = append(cs, state.Change{ID: msgid.ID{0, byte(round)}, Record: &lo}, state.Change{ID: msgid.ID{0xff, byte(round)}, Record: &hi})
			}
		}
		if len(cs) == 0 {
			continue
		}
		wasCommitted := s.Exists()
		mustCommit(t, b, cs...)
		checkCanonical(t, path, s)
		if wasCommitted && !b.merged {
			t.Fatalf("round %d: the commit encoded the whole state instead of copying unchanged lines", round)
		}
		if d := statetest.Diff(s, statetest.MustRead(t, New(path))); d != "" {
			t.Fatalf("round %d: read back (-want +got):\n%s", round, d)
		}
	}
}

// TestCommit_FileChangedUnderneath: a commit never overwrites what another
// process wrote since this Backend read the file; a file that was only
// reformatted (same lineage and serial) is rewritten whole, not merged into.
func TestCommit_FileChangedUnderneath(t *testing.T) {
	path := statePath(t)
	a := New(path)
	statetest.MustRead(t, a)
	mustCommit(t, a, statetest.Changes(0, 100)...)

	other := New(path)
	statetest.MustRead(t, other)
	mustCommit(t, other, statetest.Changes(100, 50)...)
	written := readFile(t, path)

	err := a.Commit(ctx, statetest.Changes(200, 1))
	if err == nil || !strings.Contains(err.Error(), "serial 1 then, 2 now") {
		t.Fatalf("Commit over another process's write: %v", err)
	}
	if !bytes.Equal(readFile(t, path), written) {
		t.Fatal("the refused commit changed the file")
	}

	// Reformatted by hand, same content: the commit goes ahead.
	b := New(path)
	s := statetest.MustRead(t, b)
	reformatted := strings.ReplaceAll(string(written), "\n    ", "\n\t")
	if err := os.WriteFile(path, []byte(reformatted), 0o644); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, b, statetest.Changes(300, 1)...)
	if b.merged {
		t.Error("merged into a file that changed since it was read")
	}
	checkCanonical(t, path, s)

	// A file replaced by another lineage, or removed, is not written over.
	if err := New(path).Replace(ctx, statetest.LargeState(1)); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx, statetest.Changes(400, 1)); err == nil || !strings.Contains(err.Error(), "replaced by another process") {
		t.Errorf("Commit over another lineage: %v", err)
	}
	statetest.MustRead(t, b)
	os.Remove(path)
	if err := b.Commit(ctx, statetest.Changes(400, 1)); err == nil || !strings.Contains(err.Error(), "disappeared") {
		t.Errorf("Commit after the file was removed: %v", err)
	}
}

// TestCommit_NonCanonicalFile: a hand-formatted file is read, and the
// first commit writes it canonically.
func TestCommit_NonCanonicalFile(t *testing.T) {
	path := statePath(t)
	text := strings.ReplaceAll(specExampleText, "\n    ", "\n\t")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	b := New(path)
	s := statetest.MustRead(t, b)
	if d := statetest.Diff(specExample(), s); d != "" {
		t.Fatalf("(-want +got):\n%s", d)
	}
	mustCommit(t, b, statetest.Changes(0, 1)...)
	if b.merged {
		t.Error("merged into a non-canonical file")
	}
	checkCanonical(t, path, s)
	if s.Serial != 4 {
		t.Errorf("serial %d, want 4", s.Serial)
	}
	mustCommit(t, b, statetest.Changes(1, 1)...)
	if !b.merged {
		t.Error("second commit did not merge into the canonical file")
	}
	checkCanonical(t, path, s)
}

func TestCommit_Backup(t *testing.T) {
	path := statePath(t)
	b := New(path)
	statetest.MustRead(t, b)
	mustCommit(t, b, statetest.Changes(0, 10)...)
	if _, err := os.Stat(b.BackupPath()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the first write made a backup (%v); there was nothing to back up", err)
	}
	for i := 1; i <= 3; i++ {
		before := readFile(t, path)
		mustCommit(t, b, statetest.Changes(10*i, 10)...)
		if got := readFile(t, b.BackupPath()); !bytes.Equal(got, before) {
			t.Fatalf("commit %d: backup is not the previous file", i)
		}
	}
	// Replace keeps a backup too.
	before := readFile(t, path)
	if err := b.Replace(ctx, statetest.LargeState(3)); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, b.BackupPath()); !bytes.Equal(got, before) {
		t.Fatal("Replace: backup is not the previous file")
	}
	// No temporary files are left.
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if n := e.Name(); n != "recall.state.json" && n != "recall.state.json.backup" {
			t.Errorf("unexpected file %s", n)
		}
	}
}

func TestCommit_KeepsMode(t *testing.T) {
	path := statePath(t)
	b := New(path)
	statetest.MustRead(t, b)
	mustCommit(t, b, statetest.Changes(0, 1)...)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&^0o644 != 0 || fi.Mode().Perm()&0o600 != 0o600 {
		t.Errorf("a new state's mode: %v, %v; want 0644 less the umask", fi.Mode(), err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, b, statetest.Changes(1, 1)...)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after a commit: %v, %v; want 0600 kept", fi.Mode(), err)
	}
}

func TestCommit_Refusals(t *testing.T) {
	path := statePath(t)
	b := New(path)
	if err := b.Commit(ctx, statetest.Changes(0, 1)); err == nil {
		t.Error("Commit before Read succeeded")
	}
	statetest.MustRead(t, b)
	bad := state.Record{Outcome: 0, At: t0}
	if err := b.Commit(ctx, []state.Change{{ID: statetest.ID(1), Record: &bad}}); err == nil {
		t.Error("Commit of a record without an outcome succeeded")
	}
	farFuture := state.Record{Outcome: outcome.Cancelled, At: t0.AddDate(10000, 0, 0)}
	if err := b.Commit(ctx, []state.Change{{ID: statetest.ID(1), Record: &farFuture}}); err == nil {
		t.Error("Commit of a record dated after the year 9999 succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused commit wrote the file")
	}
	if err := b.Replace(ctx, &state.State{Serial: 1}); err == nil {
		t.Error("Replace with a state without a lineage succeeded")
	}
}

// TestRead_CorruptIsNeverOverwritten: after a Read that fails, neither
// Commit nor Replace touches the file, and the error says how to recover.
func TestRead_CorruptIsNeverOverwritten(t *testing.T) {
	good := specExampleText
	for name, text := range map[string]string{
		"corrupt":      strings.Replace(good, `"cancelled"`, `"cancel"`, 1),
		"truncated":    good[:100],
		"empty":        "",
		"newer format": strings.Replace(good, `"format_version": 1`, `"format_version": 2`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			path := statePath(t)
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path+BackupSuffix, []byte(good), 0o644); err != nil {
				t.Fatal(err)
			}
			b := New(path)
			_, err := b.Read(ctx)
			var fe *state.FormatError
			switch {
			case err == nil:
				t.Fatal("Read succeeded")
			case name == "newer format":
				if !errors.As(err, &fe) {
					t.Fatalf("Read: %v, want a *state.FormatError", err)
				}
			case !errors.Is(err, state.ErrCorrupt):
				t.Fatalf("Read: %v, want state.ErrCorrupt", err)
			default:
				if !strings.Contains(err.Error(), path+":") || !strings.Contains(err.Error(), path+".backup") {
					t.Errorf("error %q does not name the file's line and the backup to restore", err)
				}
			}
			if err := b.Commit(ctx, statetest.Changes(0, 1)); err == nil {
				t.Error("Commit after a failed Read succeeded")
			}
			if err := b.Replace(ctx, statetest.LargeState(2)); err == nil {
				t.Error("Replace after a failed Read succeeded")
			}
			if got := readFile(t, path); string(got) != text {
				t.Error("the state file changed")
			}
			if got := readFile(t, path+BackupSuffix); string(got) != good {
				t.Error("the backup changed")
			}
			// Restoring the backup is the documented recovery.
			if err := os.Rename(path+BackupSuffix, path); err != nil {
				t.Fatal(err)
			}
			statetest.MustRead(t, b)
			mustCommit(t, b, statetest.Changes(0, 1)...)
		})
	}
}

func TestRead_NotAFile(t *testing.T) {
	dir := t.TempDir()
	b := New(dir)
	if _, err := b.Read(ctx); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read of a directory: %v", err)
	}
	if err := b.Commit(ctx, statetest.Changes(0, 1)); err == nil {
		t.Error("Commit after a failed Read succeeded")
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recall.state.errored.json")
	s := specExample()
	if err := WriteFile(path, s); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, path)); got != specExampleText {
		t.Errorf("WriteFile wrote:\n%s", got)
	}
	if _, err := os.Stat(path + BackupSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Error("WriteFile made a backup")
	}
	got, err := Decode(bytes.NewReader(readFile(t, path)), path)
	if err != nil {
		t.Fatal(err)
	}
	if d := statetest.Diff(s, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestReplace_SetsVersion(t *testing.T) {
	path := statePath(t)
	s := statetest.LargeState(3)
	s.RecallVersion = "0.0.1"
	if err := New(path).Replace(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := statetest.MustRead(t, New(path)); got.RecallVersion != version.Version {
		t.Errorf("recall_version after Replace = %q, want this recall's %q", got.RecallVersion, version.Version)
	}
}

// TestCommit_Symlink: a state path that is a symbolic link keeps pointing
// at the file it names, which is replaced atomically in its directory.
func TestCommit_Symlink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "volume"), 0o755); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(dir, "volume", "state.json")
	link := filepath.Join(dir, "recall.state.json")
	if err := os.Symlink(filepath.Join("volume", "state.json"), link); err != nil {
		t.Skip("no symlinks:", err)
	}
	b := New(link)
	s := statetest.MustRead(t, b)
	mustCommit(t, b, statetest.Changes(0, 3)...)
	mustCommit(t, b, statetest.Changes(3, 3)...)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced: %v, %v", fi.Mode(), err)
	}
	checkCanonical(t, target, s)
	if got := statetest.MustRead(t, New(link)); got.Serial != 2 || got.Len() != 6 {
		t.Errorf("read through the link: serial %d, %d messages", got.Serial, got.Len())
	}
	bak, err := Decode(bytes.NewReader(readFile(t, link+BackupSuffix)), "backup")
	if err != nil || bak.Serial != 1 {
		t.Errorf("backup beside the link: %v", err)
	}
}

// TestLock_Symlink: naming the state through a link or directly takes the
// same lock.
// TestLock_MissingDirectory: a state in a directory that does not exist
// gets an error that says so, not the lock file's open error.
func TestLock_MissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "no-such-dir")
	path := filepath.Join(dir, "x.json")
	_, err := New(path).Lock(ctx, state.LockRequest{Operation: "apply"})
	if err == nil {
		t.Fatal("Lock in a missing directory succeeded")
	}
	want := "the state's directory " + dir + " does not exist"
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), ".lock") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %q: want it to say %q, not name the lock file, and wrap fs.ErrNotExist", err, want)
	}
	if _, serr := os.Stat(dir); !errors.Is(serr, fs.ErrNotExist) {
		t.Errorf("Lock created the directory: %v", serr)
	}
}

func TestLock_Symlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "state.json")
	link := filepath.Join(dir, "recall.state.json")
	if err := os.Symlink("state.json", link); err != nil {
		t.Skip("no symlinks:", err)
	}
	l, err := New(link).Lock(ctx, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	var le *state.LockError
	if _, err := New(target).Lock(ctx, state.LockRequest{Operation: "apply"}); !errors.As(err, &le) {
		t.Errorf("Lock through the target while locked through the link: %v", err)
	}
}

// TestLock_RemovesStaleTemps: taking the lock removes what writers killed
// mid-write left behind, and nothing else.
func TestLock_RemovesStaleTemps(t *testing.T) {
	path := statePath(t)
	dir := filepath.Dir(path)
	var stale, keep []string
	for _, n := range []string{".recall.state.json.tmp-123", ".recall.state.json.backup.tmp-abc"} {
		stale = append(stale, filepath.Join(dir, n))
	}
	for _, n := range []string{"recall.state.json", "recall.state.json.backup", ".recall.state.json.tmp", ".other.json.tmp-1", "recall.state.json.tmp-1"} {
		keep = append(keep, filepath.Join(dir, n))
	}
	lockRemovesTemps(t, path, stale, keep)
}

// lockRemovesTemps writes the files stale and keep, locks the state at
// path, and checks that the lock removed the stale files and kept the others.
func lockRemovesTemps(t *testing.T, path string, stale, keep []string) {
	t.Helper()
	for _, p := range slices.Concat(stale, keep) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l, err := New(path).Lock(ctx, state.LockRequest{Operation: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
}

// TestLock_RemovesStaleTempsThroughLink: for a state named through a
// link, the temps beside the target (the state's) and beside the link (the
// backup's) are both removed.
func TestLock_RemovesStaleTempsThroughLink(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "volume"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "recall.state.json")
	if err := os.Symlink(filepath.Join("volume", "state.json"), link); err != nil {
		t.Skip("no symlinks:", err)
	}
	stale := []string{filepath.Join(dir, "volume", ".state.json.tmp-123"), filepath.Join(dir, ".recall.state.json.backup.tmp-abc")}
	lockRemovesTemps(t, link, stale, nil)
}

// TestDecode_Sources: Decode reads files from where they stand and pipes
// (which cannot seek back for the strict decoder) in full.
func TestDecode_Sources(t *testing.T) {
	reformatted := strings.ReplaceAll(specExampleText, "\n    ", "\n\t")
	for _, text := range []string{specExampleText, reformatted} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			w.WriteString(text)
			w.Close()
		}()
		s, err := Decode(r, "stdin")
		r.Close()
		if err != nil {
			t.Fatalf("Decode from a pipe: %v", err)
		}
		if d := statetest.Diff(specExample(), s); d != "" {
			t.Errorf("Decode from a pipe (-want +got):\n%s", d)
		}

		path := statePath(t)
		if err := os.WriteFile(path, []byte("prefix"+text), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		f.Seek(int64(len("prefix")), io.SeekStart)
		s, err = Decode(f, path)
		f.Close()
		if err != nil {
			t.Fatalf("Decode from a file: %v", err)
		}
		if d := statetest.Diff(specExample(), s); d != "" {
			t.Errorf("Decode from a file (-want +got):\n%s", d)
		}
	}
}

// TestCommit_BackupByCopy: where hard links fail (some file systems), the
// backup is a copy of the previous file.
func TestCommit_BackupByCopy(t *testing.T) {
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: errors.ErrUnsupported} }
	defer func() { linkFile = os.Link }()
	path := statePath(t)
	b := New(path)
	statetest.MustRead(t, b)
	mustCommit(t, b, statetest.Changes(0, 10)...)
	before := readFile(t, path)
	mustCommit(t, b, statetest.Changes(10, 10)...)
	if got := readFile(t, b.BackupPath()); !bytes.Equal(got, before) {
		t.Fatal("the copied backup is not the previous file")
	}
	a, err1 := os.Stat(path)
	c, err2 := os.Stat(b.BackupPath())
	if err1 != nil || err2 != nil || os.SameFile(a, c) || c.Mode() != a.Mode() {
		t.Errorf("backup: %v %v; want a separate file with the state's mode", err1, err2)
	}
}
