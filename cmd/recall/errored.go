package main

import (
	"fmt"
	"os"
	"strings"
)

// erroredStatePath returns the file a state that could not be saved goes
// to: erroredStateFile, or, when that is already there (an earlier run's
// state, perhaps not pushed yet, whose answers may be in it alone),
// the first free recall.state.errored.N.json, so that no run's answers
// are ever written over. earlier reports whether erroredStateFile was
// there.
func erroredStatePath() (path string, earlier bool) {
	if _, err := os.Lstat(erroredStateFile); os.IsNotExist(err) {
		return erroredStateFile, false
	}
	base := strings.TrimSuffix(erroredStateFile, ".json")
	for i := 2; ; i++ {
		p := fmt.Sprintf("%s.%d.json", base, i)
		if _, err := os.Lstat(p); os.IsNotExist(err) {
			return p, true
		}
	}
}
