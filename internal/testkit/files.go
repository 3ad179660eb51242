package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes content to dir/name (mode 0644), failing the test if it
// cannot, and returns the file's path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
