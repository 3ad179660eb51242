package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// actionlintPath finds actionlint on PATH or where `go install` puts it.
func actionlintPath() string {
	if p, err := exec.LookPath("actionlint"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "actionlint")
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	return ""
}

// TestActionlint runs actionlint (github.com/rhysd/actionlint; it runs
// shellcheck on the run: scripts too when shellcheck is installed) on the
// example workflows. Without actionlint it is skipped, except under
// CI=true, where it fails: CI installs it.
func TestActionlint(t *testing.T) {
	bin := actionlintPath()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("actionlint is not installed; CI=true, so this fails rather than skips: go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12")
		}
		t.Skip("actionlint is not installed: go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12")
	}
	files, err := filepath.Glob(filepath.Join("github-actions", ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflows found (%v)", err)
	}
	cmd := exec.Command(bin, append([]string{"-no-color"}, files...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Errorf("actionlint %s: %v\n%s", strings.Join(files, " "), err, out)
	}
}
