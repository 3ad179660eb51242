// Command recall is Terraform for cancelling scheduled Clickatell SMS: a
// manifest in git lists the messages that must not go out; plan shows what
// would change; apply cancels them and records the outcome in state.
package main

import (
	"context"
	"os"
	"runtime/pprof"
)

func main() {
	handleSignals()
	stop := cpuProfile(os.Getenv("RECALL_CPUPROFILE"))
	code := Main(context.Background(), os.Args[1:], newEnv())
	stop()
	os.Exit(code)
}

// cpuProfile writes a CPU profile of the run to path (the hidden
// RECALL_CPUPROFILE, for measuring start-up); empty: none.
func cpuProfile(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}
