package simulator_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/recallhq/recall/simulator"
)

// FuzzServe feeds the handler arbitrary methods, paths and headers: it
// never panics, answers only with the statuses it documents, and every
// answer parses in the format it claims (outside the API: a plain-text 404).
func FuzzServe(f *testing.F) {
	f.Add("DELETE", "/rest/message/"+scheduled, "application/json", "1", "Bearer "+token)
	f.Add("GET", "/rest/message/"+strings.ToUpper(delivered), "application/xml;q=0.9, */*;q=0.1", "1", "bearer "+token)
	f.Add("DELETE", "/rest/message/", "", "", "")
	f.Add("PUT", "/rest/message/x/y", "text/html", "2", "Basic abc")
	f.Add("DELETE", "/rest/message/"+unknown, "application/json;q=abc", " 1 ", "Bearer  "+token+" ")
	f.Add("GET", "/", "*/*", "1", "Bearer")
	f.Fuzz(func(t *testing.T, method, path, accept, version, auth string) {
		if !validMethod(method) {
			return
		}
		sim, err := simulator.New(simulator.Config{Token: token, Scheduled: []string{scheduled}, Delivered: []string{delivered}})
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Method = method
		r.URL = &url.URL{Path: path}
		if strings.HasPrefix(path, "/_sim/") {
			return // the admin endpoints are tested on their own
		}
		r.Header = http.Header{"Accept": {accept}, "X-Version": {version}, "Authorization": {auth}}
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 401, 404, 405:
		default:
			t.Fatalf("status %d", w.Code)
		}
		var v map[string]map[string]string
		switch ct := w.Header().Get("Content-Type"); ct {
		case "application/json":
			if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil || len(v) != 1 {
				t.Fatalf("JSON answer %q: %v", w.Body, err)
			}
		case "application/xml":
			var x struct {
				Data  *struct{ MessageStatus string } `xml:"data"`
				Error *struct{ Code string }          `xml:"error"`
			}
			if err := xml.Unmarshal(w.Body.Bytes(), &x); err != nil || (x.Data == nil) == (x.Error == nil) {
				t.Fatalf("XML answer %q: %v", w.Body, err)
			}
		case "text/plain; charset=utf-8":
			// Outside the API: a generic web server's page.
			if strings.HasPrefix(path, "/rest/message/") || w.Code != 404 || w.Body.String() != "404 page not found\n" {
				t.Fatalf("plain-text answer %d %q to %q", w.Code, w.Body, path)
			}
		default:
			t.Fatalf("Content-Type %q", ct)
		}
		if st := sim.Stats(); st.Requests != 1 {
			t.Fatalf("Requests = %d", st.Requests)
		}
	})
}

// validMethod mirrors what net/http lets reach a handler: a token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("()<>@,;:\\\"/[]?={}", c) {
			return false
		}
	}
	return true
}
