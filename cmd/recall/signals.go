package main

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// hupIgnored records whether recall was started with SIGHUP ignored
// (nohup): then a hangup is meant not to stop it, and recall leaves it so.
// It must be read before any Notify for SIGHUP, which un-ignores it.
var hupIgnored = signal.Ignored(syscall.SIGHUP)

// stopSignals are the signals that stop recall: SIGINT and SIGTERM always,
// even when inherited as ignored (a background job of a non-interactive
// shell starts with SIGINT ignored; Notify un-ignores it), and SIGHUP
// unless nohup ignored it on purpose.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !hupIgnored {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

var (
	sigMu    sync.Mutex
	sigTaken bool // apply's run handles the signals itself
)

// handleSignals makes the stop signals end the process, as their default
// action does, also when they were inherited as ignored, until apply's
// run takes them over (takeSignals). Only main calls it: tests that run
// Main in-process keep their own signal handling.
func handleSignals() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, stopSignals()...)
	go func() {
		for s := range c {
			sigMu.Lock()
			taken := sigTaken
			sigMu.Unlock()
			if taken {
				continue // apply's handler got it too
			}
			n := 1
			if sn, ok := s.(syscall.Signal); ok {
				n = int(sn)
			}
			os.Exit(128 + n)
		}
	}()
}

// takeSignals delivers the stop signals to c instead of ending the
// process, until release is called; afterwards they end it again.
func takeSignals(c chan<- os.Signal) (release func()) {
	sigMu.Lock()
	sigTaken = true
	sigMu.Unlock()
	signal.Notify(c, stopSignals()...)
	var once sync.Once
	return func() {
		once.Do(func() {
			signal.Stop(c)
			sigMu.Lock()
			sigTaken = false
			sigMu.Unlock()
		})
	}
}
