package simulator_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

const (
	token     = "test-token"
	scheduled = "360586640fe9846954897dffe6c13dfc"
	delivered = "b09e1b1bdb5a070c978f03b6836b955c"
	unknown   = "0123456789abcdef0123456789abcdef"
)

// newSim returns a simulator with one scheduled and one delivered ID.
func newSim(t *testing.T, cfg simulator.Config) *simulator.Simulator {
	t.Helper()
	if cfg.Token == "" {
		cfg.Token = token
	}
	cfg.Scheduled = append(cfg.Scheduled, scheduled)
	cfg.Delivered = append(cfg.Delivered, delivered)
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sim
}

// req builds an API request with the headers a correct client sends.
func req(method, id, accept string) *http.Request {
	r := httptest.NewRequest(method, "/rest/message/"+id, nil)
	r.Header.Set("X-Version", "1")
	r.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		r.Header.Set("Accept", accept)
	}
	return r
}

// serve runs r through sim in-process.
func serve(sim http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, r)
	return w
}

// answer is an answer decoded with the real JSON or XML decoder, in the
// shapes Clickatell documents.
type answer struct {
	Data *struct {
		MessageStatus string `json:"messageStatus" xml:"messageStatus"`
		Description   string `json:"description" xml:"description"`
		APIMessageID  string `json:"apiMessageId" xml:"apiMessageId"`
	} `json:"data" xml:"data"`
	Error *struct {
		Code          string `json:"code" xml:"code"`
		Description   string `json:"description" xml:"description"`
		Documentation string `json:"documentation" xml:"documentation"`
	} `json:"error" xml:"error"`
}

func decode(t *testing.T, w *httptest.ResponseRecorder) answer {
	t.Helper()
	var a answer
	ct := w.Header().Get("Content-Type")
	switch ct {
	case "application/json":
		dec := json.NewDecoder(w.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			t.Fatalf("decoding JSON answer: %v", err)
		}
	case "application/xml":
		var x struct {
			XMLName xml.Name `xml:"response"`
			answer
		}
		if err := xml.NewDecoder(w.Body).Decode(&x); err != nil {
			t.Fatalf("decoding XML answer: %v", err)
		}
		a = x.answer
	default:
		t.Fatalf("Content-Type %q, want application/json or application/xml", ct)
	}
	return a
}

// summary renders an answer as "HTTP data:STATUS:DESCRIPTION:ID" or
// "HTTP error:CODE:DESCRIPTION:DOC".
func summary(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	a := decode(t, w)
	switch {
	case a.Data != nil && a.Error == nil:
		return fmt.Sprintf("%d data:%s:%s:%s", w.Code, a.Data.MessageStatus, a.Data.Description, a.Data.APIMessageID)
	case a.Error != nil && a.Data == nil:
		return fmt.Sprintf("%d error:%s:%s:%s", w.Code, a.Error.Code, a.Error.Description, a.Error.Documentation)
	}
	t.Fatalf("answer has both or neither of data and error: %s", w.Body)
	return ""
}

// answered sums the counters in which each API request lands once.
func answered(s simulator.Stats) int64 {
	return s.Cancelled + s.AlreadyCancelled + s.NotStopped + s.Lookups + s.NotFound + s.BadRequest +
		s.Throttled + s.Failed + s.Dropped + s.Unauthorized + s.Abandoned
}

func doc(code string) string { return "http://www.clickatell.com/help/apidocs/error/" + code + ".htm" }

func TestSimulator_answers(t *testing.T) {
	for _, accept := range []struct{ header, ct string }{
		{"application/json", "application/json"},
		{"application/xml", "application/xml"},
	} {
		t.Run(accept.ct, func(t *testing.T) {
			sim := newSim(t, simulator.Config{})
			steps := []struct {
				name, method, id string
				edit             func(*http.Request) // nil: the request as a correct client sends it
				want             string
			}{
				{"lookup scheduled", "GET", scheduled, nil, "200 data:011:Message scheduled for later delivery:" + scheduled},
				{"stop scheduled", "DELETE", scheduled, nil, "200 data:006:User cancelled message delivery:" + scheduled},
				{"stop again", "DELETE", scheduled, nil, "200 data:006:User cancelled message delivery:" + scheduled},
				{"lookup cancelled", "GET", scheduled, nil, "200 data:006:User cancelled message delivery:" + scheduled},
				{"upper case ID", "DELETE", strings.ToUpper(scheduled), nil, "200 data:006:User cancelled message delivery:" + scheduled},
				{"stop delivered", "DELETE", delivered, nil, "200 data:004:Received by recipient:" + delivered},
				{"lookup delivered", "GET", delivered, nil, "200 data:004:Received by recipient:" + delivered},
				{"stop unknown", "DELETE", unknown, nil, "404 error:161:Resource does not exist:" + doc("161")},
				{"lookup unknown", "GET", unknown, nil, "404 error:161:Resource does not exist:" + doc("161")},
				{"malformed ID", "DELETE", "not-an-id", nil, "404 error:161:Resource does not exist:" + doc("161")},
				{"ID with a path after it", "DELETE", scheduled + "/x", nil, "404 error:161:Resource does not exist:" + doc("161")},
				{"missing ID", "DELETE", "", nil, "400 error:109:Missing message ID:" + doc("109")},
				{"wrong token", "DELETE", scheduled, func(r *http.Request) { r.Header.Set("Authorization", "Bearer nope") }, "401 error:001:Authentication failed:" + doc("001")},
				{"no token", "DELETE", scheduled, func(r *http.Request) { r.Header.Del("Authorization") }, "401 error:001:Authentication failed:" + doc("001")},
				{"basic auth", "DELETE", scheduled, func(r *http.Request) { r.SetBasicAuth("user", token) }, "401 error:001:Authentication failed:" + doc("001")},
				{"no version", "DELETE", scheduled, func(r *http.Request) { r.Header.Del("X-Version") }, "400 error:165:Invalid or no version header:" + doc("165")},
				{"version 2", "DELETE", scheduled, func(r *http.Request) { r.Header.Set("X-Version", "2") }, "400 error:165:Invalid or no version header:" + doc("165")},
				{"POST", "POST", scheduled, nil, "405 error:160:HTTP method not supported on this resource:" + doc("160")},
			}
			for _, s := range steps {
				r := req(s.method, s.id, accept.header)
				if s.edit != nil {
					s.edit(r)
				}
				w := serve(sim, r)
				if got := summary(t, w); got != s.want {
					t.Errorf("%s: got  %s\nwant %s", s.name, got, s.want)
				}
				if ct := w.Header().Get("Content-Type"); ct != accept.ct {
					t.Errorf("%s: Content-Type %q, want %q", s.name, ct, accept.ct)
				}
				if s.name == "POST" && w.Header().Get("Allow") != "DELETE, GET" {
					t.Errorf("POST: Allow %q, want %q", w.Header().Get("Allow"), "DELETE, GET")
				}
			}
			if st := sim.Stats(); st.Requests != int64(len(steps)) || answered(st) != st.Requests {
				t.Errorf("Stats %+v: want %d requests, each counted once", st, len(steps))
			}
			if got := sim.Calls(scheduled); got != 8 {
				// 3 stops, and 5 header or token failures that named it;
				// the POST is not a stop call.
				t.Errorf("Calls(scheduled) = %d, want 8", got)
			}
		})
	}
}

// A path outside the API (a wrong base URL, say ".../api/rest/message/ID")
// gets a generic web server's plain-text 404, with no Clickatell error code
// a client could read as "message unknown"; the message is not touched.
func TestSimulator_wrongPathIsAPlainNotFound(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	for _, path := range []string{"/api/rest/message/" + scheduled, "/rest/messages/" + scheduled, "/rest/message", "/", "/_simx"} {
		r := req("DELETE", scheduled, "application/json")
		r.URL.Path = path
		w := serve(sim, r)
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", path, w.Code)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want text/plain", path, ct)
		}
		if got := strings.TrimSpace(w.Body.String()); got != "404 page not found" {
			t.Errorf("%s: body %q, want \"404 page not found\"", path, got)
		}
	}
	if got := sim.Calls(scheduled); got != 0 {
		t.Errorf("Calls(scheduled) = %d after wrong paths, want 0", got)
	}
	if st := sim.Stats(); st.Requests != 5 || st.NotFound != 5 || answered(st) != st.Requests {
		t.Errorf("Stats %+v: want 5 requests, each counted once as not found", st)
	}
	// The message is still scheduled: the real path stops it.
	if got := summary(t, serve(sim, req("DELETE", scheduled, "application/json"))); got != "200 data:006:User cancelled message delivery:"+scheduled {
		t.Errorf("stop after wrong paths: %s", got)
	}
}

// The documented answers, byte for byte where the documentation gives them.
func TestSimulator_documentedShapes(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	w := serve(sim, req("DELETE", scheduled, "application/json"))
	if got, want := w.Body.String(), `{"data":{"messageStatus":"006","description":"User cancelled message delivery","apiMessageId":"360586640fe9846954897dffe6c13dfc"}}`+"\n"; got != want {
		t.Errorf("JSON stop answer:\n got %s\nwant %s", got, want)
	}
	r := req("DELETE", scheduled, "application/json")
	r.Header.Set("Authorization", "Bearer wrong")
	w = serve(sim, r)
	if got, want := w.Body.String(), `{"error":{"code":"001","description":"Authentication failed","documentation":"http://www.clickatell.com/help/apidocs/error/001.htm"}}`+"\n"; got != want {
		t.Errorf("JSON error answer:\n got %s\nwant %s", got, want)
	}
	w = serve(sim, req("DELETE", delivered, "application/xml"))
	want := `<?xml version="1.0"?>
<response>
    <data>
        <messageStatus>004</messageStatus>
        <description>Received by recipient</description>
        <apiMessageId>b09e1b1bdb5a070c978f03b6836b955c</apiMessageId>
    </data>
</response>
`
	if got := w.Body.String(); got != want {
		t.Errorf("XML answer:\n got %s\nwant %s", got, want)
	}
}

func TestSimulator_accept(t *testing.T) {
	sim := newSim(t, simulator.Config{AnyScheduled: true})
	for _, tc := range []struct {
		accept []string // nil: no header
		code   int
		ct     string
	}{
		{nil, 200, "application/json"},
		{[]string{"*/*"}, 200, "application/json"},
		{[]string{"application/*"}, 200, "application/json"},
		{[]string{"text/xml"}, 200, "application/xml"},
		{[]string{"Application/XML; charset=utf-8"}, 200, "application/xml"},
		{[]string{"application/json;q=0.5, application/xml"}, 200, "application/xml"},
		{[]string{"*/*, application/xml"}, 200, "application/xml"},
		{[]string{"text/html", "application/xml;q=0.1"}, 200, "application/xml"},
		{[]string{"application/json;q=0"}, 400, "application/json"},
		{[]string{"text/html"}, 400, "application/json"},
		{[]string{"text/plain, image/png"}, 400, "application/json"},
	} {
		r := req("DELETE", unknown[:31]+"1", "")
		r.Header["Accept"] = tc.accept
		w := serve(sim, r)
		if w.Code != tc.code || w.Header().Get("Content-Type") != tc.ct {
			t.Errorf("Accept %q: %d %s, want %d %s", tc.accept, w.Code, w.Header().Get("Content-Type"), tc.code, tc.ct)
		}
		if tc.code == 400 {
			if got, want := summary(t, w), "400 error:166:Invalid accept header:"+doc("166"); got != want {
				t.Errorf("Accept %q: %s, want %s", tc.accept, got, want)
			}
		}
	}
}

func TestSimulator_SetToken(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	if w := serve(sim, req("GET", scheduled, "")); w.Code != 200 {
		t.Fatalf("with the configured token: %d", w.Code)
	}
	sim.SetToken("rotated")
	if w := serve(sim, req("DELETE", scheduled, "")); w.Code != 401 {
		t.Fatalf("old token after SetToken: %d, want 401", w.Code)
	}
	if st, _ := sim.Status(scheduled); st != simulator.StatusScheduled {
		t.Errorf("a call with a revoked token changed the message: status %s", st)
	}
	r := req("DELETE", scheduled, "")
	r.Header.Set("Authorization", "bearer rotated") // scheme in any case
	if w := serve(sim, r); w.Code != 200 {
		t.Fatalf("new token: %d, want 200", w.Code)
	}
	if got := sim.Stats().Unauthorized; got != 1 {
		t.Errorf("Unauthorized = %d, want 1", got)
	}
	sim.SetToken("")
	r.Header.Set("Authorization", "Bearer ")
	if w := serve(sim, r); w.Code != 401 {
		t.Errorf("empty token accepted an empty bearer: %d", w.Code)
	}
}

func TestSimulator_statuses(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	a, b, c := msgid.MustParse("11111111111111111111111111111111"), msgid.MustParse("22222222222222222222222222222222"), msgid.MustParse("33333333333333333333333333333333")
	sim.AddScheduled(a)
	sim.AddDelivered(b)
	if err := sim.SetStatus(c, "001"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"000", "015", "6", "abc", "0066"} {
		if err := sim.SetStatus(c, bad); err == nil {
			t.Errorf("SetStatus(%q) accepted", bad)
		}
	}
	for _, tc := range []struct {
		id   msgid.ID
		want string
	}{
		{a, "200 data:006:User cancelled message delivery:" + a.String()},
		{b, "200 data:004:Received by recipient:" + b.String()},
		{c, "200 data:001:Message unknown:" + c.String()},
	} {
		if got := summary(t, serve(sim, req("DELETE", tc.id.String(), ""))); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
	if err := sim.SetStatus(a, ""); err != nil {
		t.Fatal(err)
	}
	if w := serve(sim, req("DELETE", a.String(), "")); w.Code != 404 {
		t.Errorf("after SetStatus(\"\"): %d, want 404", w.Code)
	}
	want := simulator.Stats{Requests: 4, Cancelled: 1, NotStopped: 2, NotFound: 1, MaxInFlight: 1, Stops: 4}
	if diff := cmp.Diff(want, sim.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestSimulator_anyScheduled(t *testing.T) {
	sim := newSim(t, simulator.Config{AnyScheduled: true})
	if st, ok := sim.Status(unknown); !ok || st != simulator.StatusScheduled {
		t.Errorf("Status of an unlisted ID = %q, %v; want scheduled", st, ok)
	}
	if got := summary(t, serve(sim, req("DELETE", unknown, ""))); got != "200 data:006:User cancelled message delivery:"+unknown {
		t.Errorf("unlisted ID: %s", got)
	}
	if got := summary(t, serve(sim, req("DELETE", delivered, ""))); got != "200 data:004:Received by recipient:"+delivered {
		t.Errorf("listed delivered ID: %s", got)
	}
	if w := serve(sim, req("DELETE", "zz"+unknown[2:], "")); w.Code != 404 {
		t.Errorf("malformed ID: %d, want 404", w.Code)
	}
}

func TestNew_errors(t *testing.T) {
	for _, tc := range []struct {
		cfg  simulator.Config
		want string
	}{
		{simulator.Config{Scheduled: []string{"abc"}}, "Config.Scheduled[0]: invalid message ID"},
		{simulator.Config{Scheduled: []string{scheduled}, Delivered: []string{strings.ToUpper(scheduled)}}, "Config.Delivered[0]: " + scheduled + " is listed as both scheduled and delivered"},
		{simulator.Config{FailRate: 1.5}, "FailRate must be between 0 and 1"},
		{simulator.Config{DropRate: -0.1}, "DropRate must be between 0 and 1"},
		{simulator.Config{FailRate: 0.6, DropRate: 0.6}, "must not exceed 1"},
		{simulator.Config{Rate: -1}, "Rate must be"},
		{simulator.Config{Latency: -time.Second}, "must not be negative"},
		{simulator.Config{Token: "a b"}, "must not contain spaces"},
	} {
		_, err := simulator.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
	}
	sim, err := simulator.New(simulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	r := req("GET", scheduled, "")
	r.Header.Set("Authorization", "Bearer "+simulator.DefaultToken)
	if w := serve(sim, r); w.Code != 404 {
		t.Errorf("empty Config.Token should accept DefaultToken: %d", w.Code)
	}
}

// manyIDs returns n distinct IDs.
func manyIDs(n int) []msgid.ID {
	ids := make([]msgid.ID, n)
	for i := range ids {
		ids[i] = msgid.MustParse(fmt.Sprintf("%032x", i+1))
	}
	return ids
}

// Injected failures answer 503/901 and leave the message scheduled; their
// share is close to FailRate, and a fixed seed repeats the same sequence.
func TestSimulator_failRate(t *testing.T) {
	const n = 4000
	ids := manyIDs(n)
	run := func() []int {
		sim, err := simulator.New(simulator.Config{Token: token, FailRate: 0.25, Seed: 42})
		if err != nil {
			t.Fatal(err)
		}
		sim.AddScheduled(ids...)
		codes := make([]int, n)
		for i, id := range ids {
			w := serve(sim, req("DELETE", id.String(), "application/xml"))
			codes[i] = w.Code
			st, _ := sim.StatusID(id)
			switch w.Code {
			case 503:
				if got := summary(t, w); got != "503 error:901:Internal error, please retry:"+doc("901") {
					t.Fatalf("503 answer: %s", got)
				}
				if st != simulator.StatusScheduled {
					t.Fatalf("a 503 changed the message: %s", st)
				}
			case 200:
				if st != simulator.StatusCancelled {
					t.Fatalf("a 200 left the message %s", st)
				}
			default:
				t.Fatalf("unexpected %d", w.Code)
			}
		}
		s := sim.Stats()
		if s.Failed+s.Cancelled != n {
			t.Fatalf("Failed %d + Cancelled %d != %d", s.Failed, s.Cancelled, n)
		}
		// 25% of 4000 is 1000, σ ≈ 27: allow ±5σ.
		if s.Failed < 860 || s.Failed > 1140 {
			t.Errorf("Failed = %d of %d, want about 1000", s.Failed, n)
		}
		return codes
	}
	a, b := run(), run()
	if !cmp.Equal(a, b) {
		t.Error("the same seed gave different failures")
	}
}

// drops go through a real server: the client sees a transport error.
func TestSimulator_drops(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   simulator.Config
		acted bool // whether a dropped call cancelled its message
	}{
		{"before", simulator.Config{DropRate: 0.3}, false},
		{"after", simulator.Config{DropAfterRate: 0.3}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 1000
			ids := manyIDs(n)
			cfg := tc.cfg
			cfg.Token, cfg.Seed = token, 7
			sim, err := simulator.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			sim.AddScheduled(ids...)
			srv := httptest.NewServer(sim)
			defer srv.Close()
			do := func(id msgid.ID) (int, string, error) {
				r := req("DELETE", id.String(), "")
				r.RequestURI = ""
				r.URL.Scheme, r.URL.Host = "http", srv.Listener.Addr().String()
				resp, err := srv.Client().Do(r)
				if err != nil {
					return 0, "", err
				}
				defer resp.Body.Close()
				body, err := io.ReadAll(resp.Body)
				return resp.StatusCode, string(body), err
			}
			dropped, retries, firstDropped := 0, 0, 0
			for _, id := range ids {
				code, _, err := do(id)
				if err == nil {
					if code != 200 {
						t.Fatalf("%s: %d", id, code)
					}
					if st, _ := sim.StatusID(id); st != simulator.StatusCancelled {
						t.Fatalf("answered 200 but %s", st)
					}
					continue
				}
				dropped++
				firstDropped++
				st, _ := sim.StatusID(id)
				if tc.acted != (st == simulator.StatusCancelled) {
					t.Fatalf("dropped call left %s at status %s", id, st)
				}
				if tc.acted {
					// Retries after a lost answer see 006 again.
					for {
						retries++
						code, body, err := do(id)
						if err != nil {
							dropped++
							continue
						}
						if want := `"messageStatus":"006"`; code != 200 || !strings.Contains(body, want) {
							t.Fatalf("retry after a lost answer: %d %s", code, body)
						}
						break
					}
				}
			}
			s := sim.Stats()
			if int(s.Dropped) != dropped {
				t.Errorf("Stats.Dropped = %d, client saw %d", s.Dropped, dropped)
			}
			// 30% of the calls, σ ≈ 14.5 for 1000.
			calls := n + retries
			if lo, hi := calls*3/10-75, calls*3/10+75; dropped < lo || dropped > hi {
				t.Errorf("dropped %d of %d calls, want about %d", dropped, calls, calls*3/10)
			}
			overlap := int64(0) // cut after cancelling: in Cancelled and Dropped
			if tc.acted {
				overlap = int64(firstDropped)
			}
			if answered(s)-overlap != s.Requests || s.Requests != int64(n+retries) {
				t.Errorf("Stats %+v: want %d requests, each counted once", s, n+retries)
			}
			if tc.acted && s.AlreadyCancelled != int64(firstDropped) {
				t.Errorf("AlreadyCancelled = %d, want one per ID whose first answer was lost (%d)", s.AlreadyCancelled, firstDropped)
			}
			if tc.acted && s.Cancelled != n {
				t.Errorf("Cancelled = %d, want %d", s.Cancelled, n)
			}
			if !tc.acted && int(s.Cancelled) != n-firstDropped {
				t.Errorf("Cancelled = %d, want %d", s.Cancelled, n-dropped)
			}
		})
	}
}

// clock is a manual clock for the rate limiter.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestSimulator_rate(t *testing.T) {
	const rate = 100 // burst: 10
	newRated := func(t *testing.T) (*simulator.Simulator, *clock) {
		c := &clock{now: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}
		sim := newSim(t, simulator.Config{AnyScheduled: true, Rate: rate, RetryAfter: 2, Now: c.Now})
		return sim, c
	}
	call := func(sim *simulator.Simulator) *httptest.ResponseRecorder {
		return serve(sim, req("DELETE", scheduled, ""))
	}

	t.Run("burst", func(t *testing.T) {
		sim, _ := newRated(t)
		got := map[int]int{}
		for range 3 * rate {
			w := call(sim)
			got[w.Code]++
			if w.Code == 429 {
				if ra := w.Header().Get("Retry-After"); ra != "2" {
					t.Fatalf("Retry-After %q, want 2", ra)
				}
				a := decode(t, w)
				if a.Error == nil || a.Error.Code != "429" || a.Error.Description != "Too many requests" {
					t.Fatalf("429 answer: %s", w.Body)
				}
			}
		}
		if got[200] != 10 || got[429] != 3*rate-10 {
			t.Errorf("300 calls at one instant: %v, want the burst of 10 through", got)
		}
		if sim.Calls(scheduled) != 3*rate {
			t.Errorf("Calls = %d: throttled calls must count", sim.Calls(scheduled))
		}
	})
	t.Run("under the rate", func(t *testing.T) {
		sim, c := newRated(t)
		step := time.Second * 10 / (9 * rate)
		for i := range 10 * rate {
			if w := call(sim); w.Code != 200 {
				t.Fatalf("call %d at 0.9×rate: %d", i, w.Code)
			}
			c.advance(step)
		}
	})
	t.Run("bursty under the rate", func(t *testing.T) {
		// Ten at once, then a pause: 0.9×rate on average.
		sim, c := newRated(t)
		for i := range 50 {
			for j := range 9 {
				if w := call(sim); w.Code != 200 {
					t.Fatalf("round %d call %d: %d", i, j, w.Code)
				}
			}
			c.advance(100 * time.Millisecond)
		}
	})
	t.Run("twice the rate", func(t *testing.T) {
		sim, c := newRated(t)
		const n = 20 * rate
		for range n {
			call(sim)
			c.advance(time.Second / (2 * rate))
		}
		s := sim.Stats()
		// Half of n, plus the burst.
		if s.Throttled < n/2-15 || s.Throttled > n/2 {
			t.Errorf("Throttled = %d of %d at twice the rate, want about %d", s.Throttled, n, n/2)
		}
	})
	t.Run("no header without RetryAfter", func(t *testing.T) {
		c := &clock{now: time.Unix(0, 0)}
		sim := newSim(t, simulator.Config{Rate: 1, Now: c.Now})
		var w *httptest.ResponseRecorder
		for range 3 {
			w = call(sim)
		}
		if w.Code != 429 || w.Header().Get("Retry-After") != "" {
			t.Errorf("third call at rate 1: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
		}
	})
}

// A client that gives up during the latency wait changes nothing.
func TestSimulator_latencyHonoursContext(t *testing.T) {
	sim := newSim(t, simulator.Config{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(sim, req("DELETE", scheduled, "").WithContext(ctx)) }()
	for sim.Stats().Requests == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	w := <-done
	if w.Body.Len() != 0 {
		t.Errorf("abandoned call got an answer: %s", w.Body)
	}
	if st, _ := sim.Status(scheduled); st != simulator.StatusScheduled {
		t.Errorf("abandoned call changed the message: %s", st)
	}
	if got := sim.Stats().Abandoned; got != 1 {
		t.Errorf("Abandoned = %d, want 1", got)
	}
	if got := sim.Calls(scheduled); got != 1 {
		t.Errorf("Calls = %d: an abandoned call counts", got)
	}
}

// Per-ID counts and outcomes stay exact under concurrency (run with -race).
func TestSimulator_concurrent(t *testing.T) {
	const workers, perWorker = 16, 500
	ids := manyIDs(10)
	sim := newSim(t, simulator.Config{})
	sim.AddScheduled(ids...)
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client := srv.Client()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = workers
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				id := ids[(w+i)%len(ids)]
				r, _ := http.NewRequest("DELETE", srv.URL+"/rest/message/"+strings.ToUpper(id.String()), nil)
				r.Header.Set("X-Version", "1")
				r.Header.Set("Authorization", "Bearer "+token)
				resp, err := client.Do(r)
				if err != nil {
					errs <- err
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !strings.Contains(string(body), `"006"`) {
					errs <- fmt.Errorf("%d %s", resp.StatusCode, body)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := sim.Calls(id.String()); got != workers*perWorker/len(ids) {
			t.Errorf("Calls(%s) = %d, want %d", id, got, workers*perWorker/len(ids))
		}
	}
	s := sim.Stats()
	if s.Requests != workers*perWorker || s.Cancelled != int64(len(ids)) || s.AlreadyCancelled != workers*perWorker-int64(len(ids)) {
		t.Errorf("Stats = %+v", s)
	}
	if s.MaxInFlight < 1 || s.MaxInFlight > workers {
		t.Errorf("MaxInFlight = %d, want between 1 and %d", s.MaxInFlight, workers)
	}
}

// MaxInFlight counts requests being served at once: hold n in the latency
// wait and see n.
func TestSimulator_maxInFlight(t *testing.T) {
	const n = 7
	sim := newSim(t, simulator.Config{Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { serve(sim, req("GET", scheduled, "").WithContext(ctx)) })
	}
	for sim.Stats().Requests < n {
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
	if got := sim.Stats().MaxInFlight; got != n {
		t.Errorf("MaxInFlight = %d, want %d", got, n)
	}
}

func TestSimulator_admin(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	serve(sim, req("DELETE", scheduled, ""))
	serve(sim, req("DELETE", scheduled, ""))
	get := func(path string) (int, string) {
		w := serve(sim, httptest.NewRequest("GET", path, nil)) // no token, no headers
		return w.Code, w.Body.String()
	}
	code, body := get("/_sim/stats")
	var st simulator.Stats
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("/_sim/stats: %d %s %v", code, body, err)
	}
	if st.Requests != 2 || st.Cancelled != 1 || st.AlreadyCancelled != 1 {
		t.Errorf("/_sim/stats = %+v", st)
	}
	var calls struct {
		ID     string `json:"id"`
		Calls  int    `json:"calls"`
		Status string `json:"status"`
	}
	code, body = get("/_sim/calls/" + strings.ToUpper(scheduled))
	if err := json.Unmarshal([]byte(body), &calls); code != 200 || err != nil {
		t.Fatalf("/_sim/calls: %d %s %v", code, body, err)
	}
	if calls.ID != scheduled || calls.Calls != 2 || calls.Status != "006" {
		t.Errorf("/_sim/calls = %+v", calls)
	}
	if code, body = get("/_sim/calls/" + unknown); code != 200 || !strings.Contains(body, `"status": ""`) {
		t.Errorf("/_sim/calls of an unknown ID: %d %s", code, body)
	}
	if code, _ = get("/_sim/calls/xyz"); code != 400 {
		t.Errorf("/_sim/calls of a malformed ID: %d", code)
	}
	if code, _ = get("/_sim/nothing"); code != 404 {
		t.Errorf("/_sim/nothing: %d", code)
	}
	post := func(body string) (int, string) {
		w := serve(sim, httptest.NewRequest("POST", "/_sim/tally", strings.NewReader(body)))
		return w.Code, w.Body.String()
	}
	code, body = post("# ids\n" + strings.ToUpper(scheduled) + "\n\n" + delivered + "\n" + unknown + "\n" + scheduled + "\n")
	var tally struct {
		IDs      int            `json:"ids"`
		Calls    int            `json:"calls"`
		Statuses map[string]int `json:"statuses"`
	}
	if err := json.Unmarshal([]byte(body), &tally); code != 200 || err != nil {
		t.Fatalf("/_sim/tally: %d %s %v", code, body, err)
	}
	if want := map[string]int{"006": 2, "004": 1, "": 1}; tally.IDs != 4 || tally.Calls != 4 || !cmp.Equal(tally.Statuses, want) {
		t.Errorf("/_sim/tally = %+v, want 4 IDs, 4 calls, statuses %v", tally, want)
	}
	if code, body = post(scheduled + "\nbogus\n"); code != 400 || !strings.Contains(body, `line 2: \"bogus\" is not a message ID`) {
		t.Errorf("/_sim/tally with a bad line: %d %s", code, body)
	}
	if code, _ = get("/_sim/tally"); code != 405 {
		t.Errorf("GET /_sim/tally: %d", code)
	}
	if sim.Stats().Requests != 2 {
		t.Errorf("admin calls counted as API requests")
	}
}

func TestSimulator_CallsMalformed(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	if got := sim.Calls("nope"); got != 0 {
		t.Errorf("Calls(malformed) = %d", got)
	}
	if _, ok := sim.Status("nope"); ok {
		t.Error("Status(malformed) reported known")
	}
}

// Under concurrency, with every fault on at once, what clients see matches
// the counters exactly (run with -race).
func TestSimulator_concurrentFaults(t *testing.T) {
	const workers, perWorker = 8, 300
	sim := newSim(t, simulator.Config{AnyScheduled: true, Rate: 2000, FailRate: 0.1, DropRate: 0.1,
		DropAfterRate: 0.05, Jitter: 100 * time.Microsecond, Seed: 3})
	srv := httptest.NewServer(sim)
	defer srv.Close()
	ids := manyIDs(50)
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				r, _ := http.NewRequest("DELETE", srv.URL+"/rest/message/"+ids[(w*7+i)%len(ids)].String(), nil)
				r.Header.Set("X-Version", "1")
				r.Header.Set("Authorization", "Bearer "+token)
				r.Header.Set("Accept", "application/xml")
				resp, err := srv.Client().Do(r)
				key := "dropped"
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					key = fmt.Sprint(resp.StatusCode)
				}
				mu.Lock()
				seen[key]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s := sim.Stats()
	if seen["200"]+seen["429"]+seen["503"]+seen["dropped"] != workers*perWorker {
		t.Fatalf("clients saw %v", seen)
	}
	calls, cancelled := 0, 0
	for _, id := range ids {
		calls += sim.CallsID(id)
		if st, _ := sim.StatusID(id); st == simulator.StatusCancelled {
			cancelled++
		}
	}
	if calls != workers*perWorker || s.Requests != workers*perWorker {
		t.Errorf("Calls sum %d, Requests %d, want %d", calls, s.Requests, workers*perWorker)
	}
	if int(s.Cancelled) != cancelled {
		t.Errorf("Cancelled = %d, but %d IDs are cancelled", s.Cancelled, cancelled)
	}
	// Calls cut after cancelling count in Cancelled and in Dropped.
	overlap := answered(s) - s.Requests
	if overlap < 0 || overlap > s.Cancelled {
		t.Errorf("Stats %+v do not add up to Requests", s)
	}
	if seen["429"] != int(s.Throttled) || seen["503"] != int(s.Failed) || seen["dropped"] != int(s.Dropped) ||
		seen["200"] != int(s.Cancelled+s.AlreadyCancelled-overlap) {
		t.Errorf("clients saw %v, simulator counted %+v", seen, s)
	}
	if s.Failed == 0 || s.Dropped == 0 {
		t.Errorf("no faults injected: %+v", s)
	}
}

// Where the connection cannot be hijacked (HTTP/2), a drop resets the
// stream: the client still gets no answer, and the message is untouched.
func TestSimulator_dropHTTP2(t *testing.T) {
	sim := newSim(t, simulator.Config{DropRate: 1})
	srv := httptest.NewUnstartedServer(sim)
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	r, _ := http.NewRequest("DELETE", srv.URL+"/rest/message/"+scheduled, nil)
	r.Header.Set("X-Version", "1")
	r.Header.Set("Authorization", "Bearer "+token)
	resp, err := srv.Client().Do(r)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("dropped call answered %s over %s", resp.Status, resp.Proto)
	}
	if st, _ := sim.Status(scheduled); st != simulator.StatusScheduled {
		t.Errorf("dropped call changed the message: %s", st)
	}
	if got := sim.Stats().Dropped; got != 1 {
		t.Errorf("Dropped = %d, want 1", got)
	}
}

func TestSimulator_AddStatus(t *testing.T) {
	sim := newSim(t, simulator.Config{AnyScheduled: true})
	id := msgid.MustParse(unknown)
	for _, tc := range []struct {
		status string
		added  bool
		err    string
	}{
		{simulator.StatusDelivered, true, ""},
		{simulator.StatusDelivered, false, ""},
		{simulator.StatusScheduled, false, unknown + " is listed as both delivered and scheduled"},
		{"999", false, `unknown message status "999"`},
	} {
		added, err := sim.AddStatus(id, tc.status)
		if added != tc.added || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("AddStatus(%s) = %v, %v; want %v, %q", tc.status, added, err, tc.added, tc.err)
		}
		var ce *simulator.ConflictError
		if tc.err != "" && tc.status == simulator.StatusScheduled && (!errors.As(err, &ce) || ce.Listed != "004" || ce.Want != "011") {
			t.Errorf("AddStatus conflict: %#v", err)
		}
	}
	// An unlisted ID under AnyScheduled is not "listed": no conflict.
	other := msgid.MustParse("44444444444444444444444444444444")
	if added, err := sim.AddStatus(other, simulator.StatusDelivered); !added || err != nil {
		t.Errorf("AddStatus of an unlisted ID under AnyScheduled: %v, %v", added, err)
	}
	if got := summary(t, serve(sim, req("DELETE", unknown, ""))); got != "200 data:004:Received by recipient:"+unknown {
		t.Errorf("after AddStatus: %s", got)
	}
}

// A status query (GET) meets the same checks, throttling and faults as a
// stop call, never changes the message, and is not counted as a stop.
func TestSimulator_statusQuery(t *testing.T) {
	t.Run("checks", func(t *testing.T) {
		sim := newSim(t, simulator.Config{Scheduled: []string{scheduled}})
		noVersion := req("GET", scheduled, "")
		noVersion.Header.Del("X-Version")
		badToken := req("GET", scheduled, "")
		badToken.Header.Set("Authorization", "Bearer nope")
		badAccept := req("GET", scheduled, "text/html")
		for _, tc := range []struct {
			name string
			r    *http.Request
			want string
		}{
			{"no X-Version", noVersion, "400 error:165"},
			{"wrong token", badToken, "401 error:001"},
			{"bad Accept", badAccept, "400 error:166"},
			{"scheduled", req("GET", scheduled, ""), "200 data:011:Message scheduled for later delivery:" + scheduled},
			{"unknown", req("GET", unknown, ""), "404 error:161"},
		} {
			if got := summary(t, serve(sim, tc.r)); !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s: %s, want %s…", tc.name, got, tc.want)
			}
		}
		if st, _ := sim.Status(scheduled); st != simulator.StatusScheduled || sim.Calls(scheduled) != 0 {
			t.Errorf("after status queries: status %q, %d stop calls; want 011, 0", st, sim.Calls(scheduled))
		}
		if st := sim.Stats(); st.Stops != 0 || st.Lookups != 1 || st.Requests != 5 || answered(st) != st.Requests {
			t.Errorf("stats %s: want 0 stops, 1 lookup, 5 requests", st)
		}
		serve(sim, req("DELETE", scheduled, ""))
		if st := sim.Stats(); st.Stops != 1 {
			t.Errorf("stats after a DELETE %s: want 1 stop", st)
		}
	})
	t.Run("faults", func(t *testing.T) {
		sim := newSim(t, simulator.Config{Scheduled: []string{scheduled}, FailRate: 1})
		if got := summary(t, serve(sim, req("GET", scheduled, ""))); !strings.HasPrefix(got, "503 error:901") {
			t.Errorf("GET with FailRate 1: %s", got)
		}
	})
	t.Run("throttled", func(t *testing.T) {
		now := time.Unix(1e9, 0)
		sim := newSim(t, simulator.Config{AnyScheduled: true, Rate: 1, Burst: 1, RetryAfter: 2, Now: func() time.Time { return now }})
		codes := []int{serve(sim, req("GET", scheduled, "")).Code, serve(sim, req("GET", scheduled, "")).Code, serve(sim, req("GET", scheduled, "")).Code}
		if codes[len(codes)-1] != http.StatusTooManyRequests {
			t.Errorf("GETs above the rate: %v, want a 429 at the end", codes)
		}
		if st := sim.Stats(); st.Throttled == 0 || st.Stops != 0 {
			t.Errorf("stats %s: want throttled GETs and no stops", st)
		}
	})
}
