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
	sigMu     sync.Mutex
	installed bool             // handleSignals ran
	taker     chan<- os.Signal // apply's run, which handles the signals itself
)

// handleSignals makes the stop signals end the process, as their default
// action does, also when they were inherited as ignored, except while
// apply's run takes them (takeSignals). Only main calls it: tests that
// run Main in-process keep their own signal handling.
func handleSignals() {
	c := make(chan os.Signal, 4)
	signal.Notify(c, stopSignals()...)
	sigMu.Lock()
	installed = true
	sigMu.Unlock()
	go func() {
		for s := range c {
			sigMu.Lock()
			t := taker
			sigMu.Unlock()
			if t != nil {
				select {
				case t <- s:
				default: // the taker has not read the last ones yet
				}
				continue
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
func takeSignals(c chan os.Signal) (release func()) {
	sigMu.Lock()
	defer sigMu.Unlock()
	direct := !installed
	if direct {
		signal.Notify(c, stopSignals()...)
	} else {
		taker = c
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if direct {
				signal.Stop(c)
				return
			}
			sigMu.Lock()
			taker = nil
			sigMu.Unlock()
		})
	}
}
