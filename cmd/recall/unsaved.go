package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
)

// eventUnsavedState is the -format json event that carries a state that
// could be written nowhere: {"type":"unsaved_state","time":…,
// "location":…,"state":{…the state file's JSON…}}.
const eventUnsavedState = "unsaved_state"

// printUnsavedState writes st on stdout, the last place left for it: as
// the state file's JSON, or with -format json as one "unsaved_state" event
// line, so that stdout still holds only JSON lines. location is where it
// should have gone.
func printUnsavedState(e *env, jsonOut bool, location string, st *state.State) error {
	if !jsonOut {
		return local.Encode(e.stdout, st)
	}
	head, err := json.Marshal(struct {
		Type     string    `json:"type"`
		Time     time.Time `json:"time"`
		Location string    `json:"location"`
	}{eventUnsavedState, time.Now(), location})
	if err != nil {
		return err
	}
	w := &lineWriter{w: e.stdout}
	// The event's fields, then the state as its last one, streamed: a
	// million-message state is not held twice in memory.
	w.Write(head[:len(head)-1])
	w.Write([]byte(`,"state":`))
	if err := local.Encode(w, st); err != nil {
		return err
	}
	w.Write([]byte("}"))
	if w.err != nil {
		return w.err
	}
	_, err = io.WriteString(e.stdout, "\n")
	return err
}

// lineWriter drops the newlines of what it writes: the state file's JSON
// has them only between values (a string's are escaped), so its bytes
// without them are the same JSON on one line.
type lineWriter struct {
	w   io.Writer
	err error
}

func (l *lineWriter) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			i = len(p)
		}
		if _, err := l.w.Write(p[:i]); err != nil {
			l.err = err
			return 0, err
		}
		p = p[min(i+1, len(p)):]
	}
	return n, nil
}

// unsavedRecovery says how to recover a state printed on stdout: where to
// save it, and the command that pushes it, ready to copy. push is the
// recovery command with erroredStateFile as the file to push.
func unsavedRecovery(jsonOut bool, push string) string {
	file := filepath.Join(os.TempDir(), erroredStateFile)
	cmd := strings.Replace(push, erroredStateFile, shellQuote(file), 1)
	save := fmt.Sprintf("save it as %s", file)
	if jsonOut {
		save = fmt.Sprintf("save it as %s with\n\n  jq -c 'select(.type == %q) | .state' APPLY_OUTPUT > %s\n\n(APPLY_OUTPUT: the file apply's stdout went to)", file, eventUnsavedState, shellQuote(file))
	}
	return fmt.Sprintf("To recover, %s, fix the problem above, then run, from this directory:\n\n  %s", save, cmd)
}
