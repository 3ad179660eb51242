package testkit

import (
	"bufio"
	"os/exec"
	"testing"
)

// Start starts cmd with its stdout on a pipe and returns a reader of it.
// When the test ends, the process is killed and waited for, if the test
// has not done so itself.
func Start(t testing.TB, cmd *exec.Cmd) *bufio.Reader {
	t.Helper()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return bufio.NewReader(stdout)
}
