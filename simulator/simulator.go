// Package simulator serves Clickatell's stop-message API on loopback, for
// recall's tests, demos and users' own pipeline tests. The clickatell-sim
// command wraps it; tests use it in-process with httptest.
//
// Skeleton: the exported API below is the contract; implemented with the
// client issue.
package simulator

import (
	"errors"
	"net/http"
	"time"
)

// Config describes the simulated account and the faults to inject.
type Config struct {
	// Token is the accepted bearer token.
	Token string
	// Scheduled are IDs that can still be stopped.
	Scheduled []string
	// Delivered are IDs already delivered (status 004).
	Delivered []string
	// AnyScheduled treats every well-formed unlisted ID as scheduled.
	AnyScheduled bool
	// Latency and Jitter are added to every answer.
	Latency, Jitter time.Duration
	// Rate answers 429 above this many requests per second (0: never).
	Rate float64
	// RetryAfter, if positive, is sent as Retry-After (seconds) with 429s.
	RetryAfter int
	// FailRate is the share of calls answered 503 with error 901.
	FailRate float64
	// DropRate is the share of calls whose connection is cut unanswered.
	DropRate float64
	// Seed seeds the fault injection (0: random).
	Seed int64
}

// Stats counts what the simulator saw.
type Stats struct {
	Requests     int64 `json:"requests"`
	Cancelled    int64 `json:"cancelled"`
	Throttled    int64 `json:"throttled"`
	Failed       int64 `json:"failed"`
	Dropped      int64 `json:"dropped"`
	Unauthorized int64 `json:"unauthorized"`
	// MaxInFlight is the most requests ever being served at once.
	MaxInFlight int64 `json:"max_in_flight"`
}

// Simulator is an http.Handler serving the API.
type Simulator struct{}

// New returns a Simulator for cfg.
func New(cfg Config) (*Simulator, error) { return nil, errors.New("simulator: not implemented") }

// ServeHTTP implements http.Handler.
func (s *Simulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {}

// Calls returns how many stop calls reached the simulator for id (any case).
func (s *Simulator) Calls(id string) int { return 0 }

// Stats returns the counters so far.
func (s *Simulator) Stats() Stats { return Stats{} }

// SetToken changes the accepted token (a revoked token mid-run).
func (s *Simulator) SetToken(token string) {}
