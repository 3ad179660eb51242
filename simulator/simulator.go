// Package simulator serves Clickatell's legacy REST stop-message API
// (DELETE /rest/message/{id}, and GET for the status) on loopback, for
// recall's tests, demos and users' own pipeline tests. The clickatell-sim
// command wraps it; tests use it in-process:
//
//	sim, _ := simulator.New(simulator.Config{Token: "t", AnyScheduled: true})
//	srv := httptest.NewServer(sim)
//
// The simulator knows which IDs are scheduled (stoppable), cancelled,
// delivered or unknown, checks the headers and token the way the real API
// does, answers JSON or XML by Accept, and injects latency, throttling, 503s
// and dropped connections on request. Its answers are built from the shapes
// in Clickatell's documentation; where that documentation is silent (the
// answer to a delivered or unknown ID, the 429 body), the choice is written
// down next to the code that makes it.
//
// A path outside /rest/message/ and /_sim/ gets what a generic web server
// answers, a plain-text "404 page not found" (no Clickatell error code), so
// a client configured with a wrong base URL cannot mistake it for an
// unknown message. Every API request is handled in this order:
//
//  1. Throttling (Config.Rate), decided on arrival like a gateway in front of
//     the API: every API request counts against the rate, whatever its
//     headers. Throttled: 429.
//  2. Latency and jitter, honouring the request's context: a client that
//     gives up while waiting changes nothing.
//  3. Accept (400, error 166), method (405, error 160),
//     X-Version (400, error 165), token (401, error 001), message ID (400,
//     error 109 when missing; 404, error 161 when malformed).
//  4. Faults (Config.DropRate, Config.FailRate): the connection is cut, or
//     503 with error 901. A faulted call does not touch the message.
//  5. The message: scheduled → cancelled (200, 006); cancelled → 200, 006
//     again; delivered → 200, 004; unknown → 404, error 161. With
//     Config.DropAfterRate the connection is then cut although the message
//     was acted on, as when a real network loses an answer. An ID given an
//     answer with SetAnswer (Config.Answers) gets it instead: a stop that
//     does not take (011), a status not in Clickatell's table, or a 404
//     of another server (empty, a page, a gateway's JSON).
//
// The handler is built for throughput: IDs are kept as msgid.ID in sharded
// maps, counters are atomics, the fault RNG is lock-free, and answers are
// assembled from precomputed byte slices without fmt or encoding/json.
package simulator

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/recallhq/recall/msgid"
)

// DefaultToken is the token accepted when Config.Token is empty.
const DefaultToken = "sim-token"

// Message statuses the simulator gives its IDs (Clickatell's message status
// codes). SetStatus accepts any documented code, 001 to 014.
const (
	StatusScheduled = "011" // Message scheduled for later delivery: stoppable
	StatusCancelled = "006" // User cancelled message delivery
	StatusDelivered = "004" // Received by recipient
)

// Config describes the simulated account and the faults to inject.
type Config struct {
	// Token is the accepted bearer token (empty: DefaultToken).
	Token string
	// Scheduled are IDs that can still be stopped.
	Scheduled []string
	// Delivered are IDs already delivered (status 004).
	Delivered []string
	// Cancelled are IDs already cancelled (status 006), as by a user in
	// Clickatell's portal.
	Cancelled []string
	// AnyScheduled treats every well-formed unlisted ID as scheduled.
	AnyScheduled bool
	// Answers gives IDs answers beyond their status (SetAnswer's list:
	// "stuck", "015", "404:gateway", …), as clickatell-sim's -status file.
	Answers map[string]string
	// Latency and Jitter are added to every answer: Latency plus a uniform
	// random share of Jitter.
	Latency, Jitter time.Duration
	// Rate answers 429 above this many requests per second (0: never).
	Rate float64
	// Burst is how many requests above the steady Rate are let through at
	// once (0: Rate/10, at least 2). A client steadily under Rate is never
	// throttled; one at twice Rate sees about half its calls throttled.
	Burst int
	// RetryAfter, if positive, is sent as Retry-After (seconds) with 429s.
	RetryAfter int
	// FailRate is the share of calls answered 503 with error 901.
	FailRate float64
	// DropRate is the share of calls whose connection is cut unanswered,
	// before the message is touched.
	DropRate float64
	// DropAfterRate is the share of calls whose connection is cut after the
	// message was acted on (cancelled, if it was scheduled): the answer is
	// lost, and a retry must see 006 again.
	DropAfterRate float64
	// Seed seeds the fault injection and jitter (0: random). With a fixed
	// seed, requests served one after another meet the same faults.
	Seed int64
	// Now is the clock the rate limiter reads (nil: time.Now); tests
	// inject one to make throttling deterministic.
	Now func() time.Time
}

// Stats counts what the simulator saw. Every API request is counted in
// Requests and in one of the other counters (MaxInFlight aside), except a
// stop call cut after it cancelled its message (Config.DropAfterRate),
// which counts in both Cancelled and Dropped.
type Stats struct {
	// Requests is every API request (not the /_sim/ admin endpoints).
	Requests int64 `json:"requests"`
	// Cancelled is messages that went from scheduled to cancelled.
	Cancelled int64 `json:"cancelled"`
	// AlreadyCancelled is stop calls answered 006 for a message cancelled
	// before.
	AlreadyCancelled int64 `json:"already_cancelled"`
	// NotStopped is stop calls answered 200 with a status other than 006
	// (delivered, or another status set with SetStatus).
	NotStopped int64 `json:"not_stopped"`
	// Lookups is status queries (GET) answered 200.
	Lookups int64 `json:"lookups"`
	// NotFound is calls answered 404 (unknown or malformed ID, and paths
	// outside the API, answered with a plain-text page).
	NotFound int64 `json:"not_found"`
	// BadRequest is calls answered 400 or 405 (headers, missing ID, method).
	BadRequest int64 `json:"bad_request"`
	// Throttled is calls answered 429.
	Throttled int64 `json:"throttled"`
	// Failed is calls answered 503 (injected failures).
	Failed int64 `json:"failed"`
	// Dropped is calls whose connection was cut, before or after acting.
	Dropped int64 `json:"dropped"`
	// Unauthorized is calls answered 401.
	Unauthorized int64 `json:"unauthorized"`
	// Abandoned is calls whose client went away during the latency wait.
	Abandoned int64 `json:"abandoned"`
	// MaxInFlight is the most requests ever being served at once.
	MaxInFlight int64 `json:"max_in_flight"`
	// Stops is every stop call (DELETE) to the API, whatever it was
	// answered; it also counts in one of the counters above. A run that
	// must send no DELETE (recall's -refresh-only) checks it stays 0.
	Stops int64 `json:"stops"`
}

// Simulator is an http.Handler serving the API, plus the admin endpoints
// GET /_sim/stats and GET /_sim/calls/{id}. It is safe for concurrent use.
type Simulator struct {
	token        atomic.Pointer[string]
	anyScheduled bool
	latency      int64 // ns
	jitter       int64 // ns
	retryAfter   []string
	dropBelow    uint64 // fault thresholds on a uniform uint64 draw
	failBelow    uint64
	dropAfter    uint64
	faults       bool
	limiter      *limiter
	rng          atomic.Uint64
	store        store
	// specials holds the IDs given answers by SetAnswer (msgid.ID →
	// *special); hasSpecials spares every other call the lookup.
	specials    sync.Map
	hasSpecials atomic.Bool

	requests, cancelled, alreadyCancelled, notStopped, lookups     atomic.Int64
	notFound, badRequest, throttled, failed, dropped, unauthorized atomic.Int64
	abandoned, inFlight, maxInFlight                               atomic.Int64
	stops                                                          atomic.Int64
}

// New returns a Simulator for cfg, or an error naming what to fix in it.
func New(cfg Config) (*Simulator, error) {
	s := &Simulator{anyScheduled: cfg.AnyScheduled}
	tok := cfg.Token
	if tok == "" {
		tok = DefaultToken
	}
	if err := checkToken(tok); err != nil {
		return nil, err
	}
	s.token.Store(&tok)
	if cfg.Latency < 0 || cfg.Jitter < 0 {
		return nil, errors.New("simulator: Latency and Jitter must not be negative")
	}
	s.latency, s.jitter = int64(cfg.Latency), int64(cfg.Jitter)
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("simulator: Rate must be a finite number ≥ 0, got %v", cfg.Rate)
	}
	if cfg.Burst < 0 {
		return nil, fmt.Errorf("simulator: Burst must not be negative, got %d", cfg.Burst)
	}
	if cfg.Rate > 0 {
		now := cfg.Now
		if now == nil {
			now = time.Now
		}
		s.limiter = newLimiter(cfg.Rate, cfg.Burst, now)
	}
	if cfg.RetryAfter < 0 {
		return nil, fmt.Errorf("simulator: RetryAfter must not be negative, got %d", cfg.RetryAfter)
	}
	if cfg.RetryAfter > 0 {
		s.retryAfter = []string{fmt.Sprint(cfg.RetryAfter)}
	}
	for _, r := range []struct {
		name string
		v    float64
	}{{"FailRate", cfg.FailRate}, {"DropRate", cfg.DropRate}, {"DropAfterRate", cfg.DropAfterRate}} {
		if !(r.v >= 0 && r.v <= 1) {
			return nil, fmt.Errorf("simulator: %s must be between 0 and 1, got %v", r.name, r.v)
		}
	}
	if sum := cfg.FailRate + cfg.DropRate + cfg.DropAfterRate; sum > 1+1e-9 {
		return nil, fmt.Errorf("simulator: FailRate + DropRate + DropAfterRate must not exceed 1, got %v", sum)
	}
	// Thresholds on one uniform draw: [0, drop) drop, [drop, fail) 503,
	// [fail, dropAfter) drop after acting, the rest served normally.
	s.dropBelow = share(cfg.DropRate)
	s.failBelow = share(cfg.DropRate + cfg.FailRate)
	s.dropAfter = share(cfg.DropRate + cfg.FailRate + cfg.DropAfterRate)
	s.faults = s.dropAfter > 0
	seed := uint64(cfg.Seed)
	if seed == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	s.rng.Store(seed)
	s.store.init()
	for _, l := range []struct {
		ids    []string
		status uint8
		name   string
	}{{cfg.Scheduled, stScheduled, "Scheduled"}, {cfg.Delivered, stDelivered, "Delivered"}, {cfg.Cancelled, stCancelled, "Cancelled"}} {
		for i, t := range l.ids {
			id, err := msgid.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("simulator: Config.%s[%d]: %w", l.name, i, err)
			}
			if _, err := s.AddStatus(id, statusCode(l.status)); err != nil {
				return nil, fmt.Errorf("simulator: Config.%s[%d]: %w", l.name, i, err)
			}
		}
	}
	for t, answer := range cfg.Answers {
		id, err := msgid.Parse(t)
		if err != nil {
			return nil, fmt.Errorf("simulator: Config.Answers: %w", err)
		}
		if _, err := s.AddAnswer(id, answer); err != nil {
			return nil, fmt.Errorf("simulator: Config.Answers[%s]: %w", t, err)
		}
	}
	return s, nil
}

func checkToken(tok string) error {
	if strings.ContainsAny(tok, " \t\r\n") {
		return errors.New("simulator: the token must not contain spaces or line breaks")
	}
	return nil
}

// share maps a probability to a threshold on a uniform uint64.
func share(p float64) uint64 {
	if p <= 0 {
		return 0
	}
	if p >= 1 {
		return math.MaxUint64
	}
	return uint64(p * (1 << 64))
}

// rand64 returns the next value of a splitmix64 sequence: lock-free, and
// reproducible for requests served one at a time.
func (s *Simulator) rand64() uint64 {
	z := s.rng.Add(0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// SetToken changes the accepted token (a revoked token mid-run). An empty
// token rejects every call.
func (s *Simulator) SetToken(token string) {
	s.token.Store(&token)
}

// Calls returns how many stop calls (DELETE) named id (any case), whatever
// they were answered: throttled, failed, dropped, unauthorized and
// abandoned calls count, each once its answer is written or given up.
// Status queries (GET) do not count. A malformed id gives 0.
func (s *Simulator) Calls(id string) int {
	v, err := msgid.Parse(id)
	if err != nil {
		return 0
	}
	return s.CallsID(v)
}

// CallsID is Calls for a parsed ID.
func (s *Simulator) CallsID(id msgid.ID) int {
	_, calls := s.store.get(id)
	return int(calls)
}

// Status returns the message status a call for id (any case) would find
// now (e.g. StatusScheduled, StatusCancelled), and false when the call
// would be answered 404.
func (s *Simulator) Status(id string) (string, bool) {
	v, err := msgid.Parse(id)
	if err != nil {
		return "", false
	}
	return s.StatusID(v)
}

// StatusID is Status for a parsed ID.
func (s *Simulator) StatusID(id msgid.ID) (string, bool) {
	if code, found, ok := s.answerStatus(id); ok {
		return code, found
	}
	st := s.store.lookup(id, s.anyScheduled)
	if st == stUnknown {
		return "", false
	}
	return statusCode(st), true
}

// AddScheduled makes ids scheduled (stoppable), whatever they were.
func (s *Simulator) AddScheduled(ids ...msgid.ID) {
	for _, id := range ids {
		s.store.set(id, stScheduled)
	}
}

// AddDelivered makes ids delivered (status 004), whatever they were.
func (s *Simulator) AddDelivered(ids ...msgid.ID) {
	for _, id := range ids {
		s.store.set(id, stDelivered)
	}
}

// SetStatus gives id a message status: any documented code from 001 to 014
// (e.g. "001" Message unknown, "010" Message expired). A stop call answers
// 200 with that status; only 011 (scheduled) turns into 006. An empty status
// makes the ID unknown again (404) unless AnyScheduled is set.
func (s *Simulator) SetStatus(id msgid.ID, status string) error {
	if s.hasSpecials.Load() {
		s.specials.Delete(id)
	}
	if status == "" {
		s.store.set(id, stUnknown)
		return nil
	}
	st, ok := parseStatus(status)
	if !ok {
		return fmt.Errorf("simulator: unknown message status %q: want a code from 001 to 014", status)
	}
	s.store.set(id, st)
	return nil
}

// ConflictError is AddStatus's error for an ID listed twice with different
// statuses.
type ConflictError struct {
	ID           msgid.ID
	Listed, Want string // the status it has, and the one asked for
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s is listed as both %s and %s", e.ID, describeStatus(e.Listed), describeStatus(e.Want))
}

func describeStatus(code string) string {
	if len(code) != 3 || !isDigits(code) {
		return "answer " + code
	}
	switch code {
	case StatusScheduled:
		return "scheduled"
	case StatusDelivered:
		return "delivered"
	case StatusCancelled:
		return "cancelled"
	}
	return "status " + code
}

// AddStatus lists id with status (a code from 001 to 014), as the ID files
// of clickatell-sim do. It reports false when id was already listed with
// that status, and a *ConflictError when it was listed with another one.
// Unlike SetStatus, it never changes what an ID was listed as.
func (s *Simulator) AddStatus(id msgid.ID, status string) (bool, error) {
	st, ok := parseStatus(status)
	if !ok {
		return false, &AnswerError{Answer: status, Kind: "message status", Unknown: true, Want: "a code from 001 to 014"}
	}
	prev, ok := s.store.add(id, st)
	if !ok {
		return false, &ConflictError{ID: id, Listed: statusCode(prev), Want: status}
	}
	return prev != st, nil
}

// Stats returns the counters so far.
func (s *Simulator) Stats() Stats {
	return Stats{
		Requests:         s.requests.Load(),
		Cancelled:        s.cancelled.Load(),
		AlreadyCancelled: s.alreadyCancelled.Load(),
		NotStopped:       s.notStopped.Load(),
		Lookups:          s.lookups.Load(),
		NotFound:         s.notFound.Load(),
		BadRequest:       s.badRequest.Load(),
		Throttled:        s.throttled.Load(),
		Failed:           s.failed.Load(),
		Dropped:          s.dropped.Load(),
		Unauthorized:     s.unauthorized.Load(),
		Abandoned:        s.abandoned.Load(),
		MaxInFlight:      s.maxInFlight.Load(),
		Stops:            s.stops.Load(),
	}
}

// String renders the counters on one line, for logs.
func (st Stats) String() string {
	return fmt.Sprintf("requests=%d cancelled=%d already_cancelled=%d not_stopped=%d lookups=%d not_found=%d bad_request=%d throttled=%d failed=%d dropped=%d unauthorized=%d abandoned=%d max_in_flight=%d stops=%d",
		st.Requests, st.Cancelled, st.AlreadyCancelled, st.NotStopped, st.Lookups, st.NotFound, st.BadRequest,
		st.Throttled, st.Failed, st.Dropped, st.Unauthorized, st.Abandoned, st.MaxInFlight, st.Stops)
}

const (
	apiPrefix   = "/rest/message/"
	adminPrefix = "/_sim/"
)

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if strings.HasPrefix(path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	// In flight before counted: whoever sees Requests reach n knows that
	// those n requests are already counted in MaxInFlight's measure.
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		m := s.maxInFlight.Load()
		if n <= m || s.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	s.requests.Add(1)

	if !strings.HasPrefix(path, apiPrefix) {
		// Outside the API, as a generic web server answers: a plain-text
		// 404 with no Clickatell error in it. A client pointed at the
		// wrong base URL (".../api" + "/rest/message/…") must not read
		// this as "message unknown" and settle its messages.
		s.notFound.Add(1)
		http.NotFound(w, r)
		return
	}

	throttled := s.limiter != nil && !s.limiter.allow()

	isDelete := r.Method == http.MethodDelete
	if isDelete {
		s.stops.Add(1)
	}
	idText := path[len(apiPrefix):]
	id, idErr := msgid.Parse(idText)
	// Only stop calls with a well-formed ID are counted per ID.
	count := isDelete && idErr == nil

	if d := s.delay(); d > 0 {
		t := time.NewTimer(time.Duration(d))
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			if count {
				s.store.count(id)
			}
			s.abandoned.Add(1)
			return
		}
	}

	format, acceptOK := negotiate(r.Header["Accept"])

	if throttled {
		if count {
			s.store.count(id)
		}
		s.throttled.Add(1)
		h := w.Header()
		if s.retryAfter != nil {
			h["Retry-After"] = s.retryAfter
		}
		s.writeConst(w, format, http.StatusTooManyRequests, errTooMany)
		return
	}

	var fail *errAnswer
	status := http.StatusBadRequest
	switch {
	case !acceptOK:
		fail = errAccept
	case !isDelete && r.Method != http.MethodGet:
		w.Header()["Allow"] = allowed
		fail, status = errMethod, http.StatusMethodNotAllowed
	case !versionOK(r.Header["X-Version"]):
		fail = errVersion
	case !s.authorized(r.Header["Authorization"]):
		fail, status = errAuth, http.StatusUnauthorized
	case idText == "":
		fail = errMissingID
	case idErr != nil:
		fail, status = errNoResource, http.StatusNotFound
	}
	if fail != nil {
		if count {
			s.store.count(id)
		}
		switch status {
		case http.StatusUnauthorized:
			s.unauthorized.Add(1)
		case http.StatusNotFound:
			s.notFound.Add(1)
		default:
			s.badRequest.Add(1)
		}
		s.writeConst(w, format, status, fail)
		return
	}

	dropAfter := false
	if s.faults {
		u := s.rand64()
		switch {
		case u < s.dropBelow:
			if count {
				s.store.count(id)
			}
			s.dropped.Add(1)
			drop(w)
			return
		case u < s.failBelow:
			if count {
				s.store.count(id)
			}
			s.failed.Add(1)
			s.writeConst(w, format, http.StatusServiceUnavailable, errInternal)
			return
		case u < s.dropAfter:
			dropAfter = true
		}
	}

	if s.hasSpecials.Load() {
		if sp := s.specialOf(id); sp != nil && s.serveSpecial(w, format, isDelete, count, id, sp) {
			return
		}
	}

	var st, was uint8
	if isDelete {
		st, was = s.store.stop(id, s.anyScheduled)
	} else {
		st = s.store.lookup(id, s.anyScheduled)
		was = st
	}
	if dropAfter {
		if isDelete && was == stScheduled {
			s.cancelled.Add(1)
		}
		s.dropped.Add(1)
		drop(w)
		return
	}
	// Clickatell does not document what stopping a delivered or unknown
	// message answers. The simulator gives the likeliest answers its
	// reference names: 200 with the message's current status (the shape of
	// a status query), and 404 with error 161.
	if st == stUnknown {
		s.notFound.Add(1)
		s.writeConst(w, format, http.StatusNotFound, errNoResource)
		return
	}
	switch {
	case !isDelete:
		s.lookups.Add(1)
	case was == stScheduled:
		s.cancelled.Add(1)
	case st == stCancelled:
		s.alreadyCancelled.Add(1)
	default:
		s.notStopped.Add(1)
	}
	s.writeData(w, format, st, id)
}

// delay returns how long to wait before answering, in nanoseconds.
func (s *Simulator) delay() int64 {
	d := s.latency
	if s.jitter > 0 {
		// Uniform in [0, jitter], from the top 53 bits of a draw.
		f := float64(s.rand64()>>11) / (1 << 53)
		d += int64(f * float64(s.jitter+1))
	}
	return d
}

var allowed = []string{"DELETE, GET"}

func versionOK(v []string) bool {
	return len(v) == 1 && strings.TrimSpace(v[0]) == "1"
}

// authorized checks "Authorization: Bearer TOKEN" (scheme in any case).
func (s *Simulator) authorized(v []string) bool {
	if len(v) != 1 {
		return false
	}
	h := v[0]
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return false
	}
	tok := *s.token.Load()
	got := strings.TrimSpace(h[len(scheme):])
	return tok != "" && subtle.ConstantTimeCompare([]byte(got), []byte(tok)) == 1
}

// drop cuts the connection without an answer. Under HTTP/1 the connection
// is hijacked and closed; where hijacking is impossible (HTTP/2), the
// handler aborts, which resets the stream.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}
