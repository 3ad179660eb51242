package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHelperUnreachable is run by TestURL_Unreachable in a child process.
func TestHelperUnreachable(t *testing.T) {
	if os.Getenv("PGTEST_HELPER") != "1" {
		t.Skip("helper for TestURL_Unreachable")
	}
	URL(t)
	t.Log("reached the server")
}

// TestURL_Unreachable: with the server unreachable, a test is skipped,
// unless CI=true, where it fails.
func TestURL_Unreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP: TestHelperUnreachable"},
		{"false", false, "--- SKIP: TestHelperUnreachable"},
		{"true", true, "--- FAIL: TestHelperUnreachable"},
	} {
		cmd := exec.Command(exe, "-test.run=^TestHelperUnreachable$", "-test.v")
		cmd.Env = append(os.Environ(), "PGTEST_HELPER=1", "CI="+tc.ci,
			EnvURL+fmt.Sprintf("=postgres://postgres:s3cret@127.0.0.1:%d/test", port))
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("CI=%q: child failed = %v, want %v; output:\n%s", tc.ci, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "unreachable") {
			t.Errorf("CI=%q: output lacks %q and the reason:\n%s", tc.ci, tc.want, out)
		}
		if strings.Contains(string(out), "s3cret") {
			t.Errorf("CI=%q: output shows the password:\n%s", tc.ci, out)
		}
	}
}
