package main

import (
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// Scripts get mkfifo NAME, which makes a named pipe.
func init() {
	scriptCmds["mkfifo"] = cmdMkfifo
}

func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: mkfifo NAME")
	}
	if err := syscall.Mkfifo(ts.MkAbs(args[0]), 0o644); err != nil {
		ts.Fatalf("mkfifo: %v", err)
	}
}
