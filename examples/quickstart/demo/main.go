// Command demo runs recall's quick start end to end, with no Clickatell
// account and no network: it starts the bundled Clickatell simulator on
// loopback, builds recall from this checkout, and runs
//
//	recall plan -f examples/quickstart -out quickstart.plan
//	recall apply quickstart.plan
//	recall plan -f examples/quickstart
//
// against it, leaving recall.state.json (and the saved plan) in the current
// directory. Run it from the repository's root:
//
//	go run ./examples/quickstart/demo
//
// Running it again shows that a rerun has nothing left to do.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/recallhq/recall/simulator"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifest := fs.String("f", defaultManifest(), "manifest `PATH` to plan and apply")
	statePath := fs.String("state", "recall.state.json", "state file `PATH` to write")
	planPath := fs.String("out", "quickstart.plan", "`PATH` of the saved plan")
	recallBin := fs.String("recall", "", "recall binary `PATH` to run (default: build it from this checkout)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	// The simulator: every well-formed ID is a scheduled message.
	sim, err := simulator.New(simulator.Config{AnyScheduled: true})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sim}
	go srv.Serve(ln)
	defer srv.Close()
	endpoint := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "Clickatell simulator listening on %s (every listed message is scheduled).\n", endpoint)

	bin := *recallBin
	if bin == "" {
		dir, err := os.MkdirTemp("", "recall-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "recall")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/recallhq/recall/cmd/recall")
		build.Stdout, build.Stderr = stderr, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building recall: %w", err)
		}
	}

	env := append(os.Environ(),
		"CLICKATELL_ENDPOINT="+endpoint,
		"CLICKATELL_TOKEN="+simulator.DefaultToken,
	)
	var stateFlag []string
	if *statePath != "recall.state.json" {
		stateFlag = []string{"-state", *statePath}
	}
	steps := [][]string{
		append(append([]string{"plan", "-f", *manifest}, stateFlag...), "-out", *planPath),
		append(append([]string{"apply"}, stateFlag...), *planPath),
		append([]string{"plan", "-f", *manifest}, stateFlag...),
	}
	for _, step := range steps {
		fmt.Fprintf(stdout, "\n$ recall %s\n", strings.Join(step, " "))
		cmd := exec.CommandContext(ctx, bin, step...)
		cmd.Env, cmd.Stdout, cmd.Stderr = env, stdout, stderr
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return fmt.Errorf("recall %s exited %d", step[0], ee.ExitCode())
			}
			return err
		}
	}
	st := sim.Stats()
	fmt.Fprintf(stdout, "\nThe simulator cancelled %d messages in %d calls. The state is in %s:\nlook at it with 'recall show%s', or run this demo again to see a rerun do nothing.\n",
		st.Cancelled, st.Requests, *statePath, strings.Join(append([]string{""}, stateFlag...), " "))
	return nil
}

// defaultManifest is examples/quickstart, found from the working directory
// (the repository's root) or else next to this file.
func defaultManifest() string {
	const rel = "examples/quickstart"
	if _, err := os.Stat(filepath.Join(rel, "recall.yaml")); err == nil {
		return rel
	}
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Dir(filepath.Dir(file))
	}
	return rel
}
