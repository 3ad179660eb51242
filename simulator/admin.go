package simulator

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/recallhq/recall/msgid"
)

// serveAdmin serves the simulator's own endpoints, for scripts that run the
// clickatell-sim command and want to check what it saw. They need no token
// and do not count as API requests:
//
//	GET /_sim/stats       the Stats, as JSON
//	GET /_sim/calls/{id}  {"id":…, "calls":N, "status":"006"}: the stop calls
//	                      that named id, and the status a call would find
//	                      now ("" when it would be answered 404)
func (s *Simulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, adminPrefix)
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
		st := s.store.lookup(id, s.anyScheduled)
		adminJSON(w, http.StatusOK, struct {
			ID     msgid.ID `json:"id"`
			Calls  uint32   `json:"calls"`
			Status string   `json:"status"`
		}{id, calls, statusCode(st)})
	default:
		adminJSON(w, http.StatusNotFound, map[string]string{"error": "no such endpoint; try /_sim/stats or /_sim/calls/{id}"})
	}
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
