package simulator

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/recallhq/recall/msgid"
)

// serveAdmin serves the simulator's own endpoints, for scripts that run the
// clickatell-sim command and want to check what it saw. They need no token
// and do not count as API requests:
//
//	GET /_sim/stats       the Stats, as JSON ("stops" counts every DELETE)
//	GET /_sim/calls/{id}  {"id":…, "calls":N, "status":"006"}: the stop calls
//	                      that named id, and the status a call would find
//	                      now ("" when it would be answered 404)
//	POST /_sim/tally      body: IDs, one a line (blank and # lines ignored);
//	                      answer: {"ids":N, "calls":N, "statuses":{"006":N, …}}
//	                      how many of them are at each status ("" unknown),
//	                      and their stop calls in all: one request for a
//	                      whole benchmark's IDs instead of one per ID
func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, adminPrefix)
	if name == "tally" {
		s.serveTally(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		adminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed; use GET"})
		return
	}
	switch {
	case name == "stats":
		adminJSON(w, http.StatusOK, s.Stats())
	case strings.HasPrefix(name, "calls/"):
		text := strings.TrimPrefix(name, "calls/")
		id, err := msgid.Parse(text)
		if err != nil {
			adminJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		_, calls := s.store.get(id)
		st, _ := s.StatusID(id)
		adminJSON(w, http.StatusOK, struct {
			ID     msgid.ID `json:"id"`
			Calls  uint32   `json:"calls"`
			Status string   `json:"status"`
		}{id, calls, st})
	default:
		adminJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint; try GET /_sim/stats, GET /_sim/calls/{id} or POST /_sim/tally"})
	}
}

// maxTally caps a tally's body: 64 MB is about 1.9 million IDs.
const maxTally = 64 << 20

func (s *Simulator) serveTally(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		adminJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed; POST the IDs, one a line"})
		return
	}
	type tally struct {
		IDs      int            `json:"ids"`
		Calls    int64          `json:"calls"`
		Statuses map[string]int `json:"statuses"`
	}
	t := tally{Statuses: map[string]int{}}
	sc := bufio.NewScanner(http.MaxBytesReader(w, r.Body, maxTally))
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		id, ok := msgid.ParseBytes(text)
		if !ok {
			if len(text) > 40 {
				text = text[:40]
			}
			adminJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("line %d: %q is not a message ID", line, text)})
			return
		}
		_, calls := s.store.get(id)
		t.IDs++
		t.Calls += int64(calls)
		st, _ := s.StatusID(id)
		t.Statuses[st]++
	}
	if err := sc.Err(); err != nil {
		adminJSON(w, http.StatusBadRequest, map[string]string{"error": "reading the IDs: " + err.Error()})
		return
	}
	adminJSON(w, http.StatusOK, t)
}

func adminJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
