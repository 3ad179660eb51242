package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	mod := func(v string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/recallhq/recall", Version: v}}
	}
	for _, tc := range []struct {
		name    string
		stamped string
		bi      *debug.BuildInfo
		ok      bool
		want    string
	}{
		{"go install of a tag", fallback, mod("v0.2.0"), true, "0.2.0"},
		{"go install of a commit", fallback, mod("v0.2.1-0.20261201120000-0123456789ab"), true, "0.2.1-0.20261201120000-0123456789ab"},
		{"ldflags win over the build info", "0.3.0", mod("v0.2.0"), true, "0.3.0"},
		{"ldflags without build info", "0.3.0", nil, false, "0.3.0"},
		{"a local build without VCS information", fallback, mod("(devel)"), true, fallback},
		{"no main module version", fallback, mod(""), true, fallback},
		{"no build info", fallback, nil, false, fallback},
		{"empty stamp", "", mod("v0.2.0"), true, "0.2.0"},
	} {
		if got := resolve(tc.stamped, tc.bi, tc.ok); got != tc.want {
			t.Errorf("%s: resolve(%q, %v) = %q, want %q", tc.name, tc.stamped, tc.bi, got, tc.want)
		}
	}
}

// TestStampedBuild builds a real recall with the release's -ldflags and
// checks that `recall version -json` reports the stamped version, whatever
// the go command recorded from the checkout.
func TestStampedBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds recall")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	bin := filepath.Join(t.TempDir(), "recall")
	build := exec.Command(goTool, "build", "-ldflags", "-X github.com/recallhq/recall/internal/version.Version=9.8.7", "-o", bin, "github.com/recallhq/recall/cmd/recall")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "-json").Output()
	if err != nil {
		t.Fatalf("recall version -json: %v", err)
	}
	if !strings.Contains(string(out), `"recall_version": "9.8.7"`) && !strings.Contains(string(out), `"recall_version":"9.8.7"`) {
		t.Errorf("recall version -json = %s, want recall_version 9.8.7", out)
	}
}
