package manifest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// loadWithin runs Load in the background and fails the test if it has not
// returned within a few seconds: reading a FIFO would block forever, and
// a regression must fail, not hang the test run.
func loadWithin(t *testing.T, paths ...string) (*Manifest, error) {
	t.Helper()
	type result struct {
		m   *Manifest
		err error
	}
	done := make(chan result, 1)
	go func() {
		m, err := Load(paths...)
		done <- result{m, err}
	}()
	select {
	case r := <-done:
		return r.m, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("Load(%q) blocked", paths)
		return nil, nil
	}
}

// TestLoad_SpecialFilesRefused: a named pipe, a device or a socket given
// as a manifest, or met as a *.yaml in a manifest directory, is refused
// with an error that says what it is; nothing blocks.
func TestLoad_SpecialFilesRefused(t *testing.T) {
	inDir(t, map[string]string{"dir/a.yaml": "version: 1\ncancel:\n  - {name: a, ids: [" + id1 + "]}\n"})
	if err := syscall.Mkfifo("pipe.yaml", 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	if err := syscall.Mkfifo("dir/b.yaml", 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want string
	}{
		{"pipe.yaml", "manifest pipe.yaml is a named pipe (FIFO), not a regular file: recall reads manifests from files only"},
		{"dir", "manifest " + filepath.Join("dir", "b.yaml") + " is a named pipe (FIFO), not a regular file"},
		{"/dev/null", "manifest /dev/null is a character device, not a regular file"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			m, err := loadWithin(t, tt.path)
			if err == nil || m != nil {
				t.Fatalf("got %v, %v; want an error", m, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to hold %q", err, tt.want)
			}
		})
	}
}

// TestLoadFile_FIFOAfterStat: a path that turns into a FIFO after Load's
// Stat (loadFile is given a regular file's FileInfo) is opened without
// blocking and refused by the check of the opened file.
func TestLoadFile_FIFOAfterStat(t *testing.T) {
	inDir(t, map[string]string{"recall.yaml": "version: 1\ncancel:\n  - {name: a, ids: [" + id1 + "]}\n"})
	fi, err := os.Stat("recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove("recall.yaml")
	if err := syscall.Mkfifo("recall.yaml", 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan error, 1)
	go func() {
		l := newLoader()
		defer l.close()
		done <- l.loadFile("recall.yaml", fi)
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "is a named pipe (FIFO), not a regular file") {
			t.Errorf("loadFile: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("loadFile blocked on a FIFO")
	}
}
