package clickatell

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/simulator"
)

const (
	scheduledID = "b09e1b1bdb5a070c978f03b6836b955c"
	deliveredID = "0123456789abcdef0123456789abcdef"
	unknownID   = "ffffffffffffffffffffffffffffffff"
)

// simServer serves a simulator for cfg with the test token.
func simServer(t testing.TB, cfg simulator.Config) (*simulator.Simulator, *httptest.Server) {
	t.Helper()
	cfg.Token = testToken
	return testkit.Sim(t, cfg)
}

func TestClient_Simulator(t *testing.T) {
	for _, f := range []Format{JSON, XML} {
		t.Run(f.String(), func(t *testing.T) {
			sim, srv := simServer(t, simulator.Config{Scheduled: []string{scheduledID}, Delivered: []string{deliveredID}})
			c := newTestClient(t, srv, WithFormat(f))

			res, err := c.MessageStatus(context.Background(), scheduledID)
			noToken(t, res, err)
			if err != nil || res.Outcome != outcome.Scheduled || res.Status != simulator.StatusScheduled {
				t.Fatalf("status of a scheduled message: %+v, %v", res, err)
			}
			for i := 0; i < 2; i++ { // a second stop answers 006 again
				res, err := stop(t, c, scheduledID)
				if err != nil || res.Outcome != outcome.Cancelled || res.Status != "006" || res.Description != "User cancelled message delivery" {
					t.Fatalf("stop #%d of a scheduled message: %+v, %v", i+1, res, err)
				}
			}
			if st, _ := sim.Status(scheduledID); st != "006" {
				t.Errorf("the simulator holds status %q, want 006", st)
			}
			res, err = stop(t, c, deliveredID)
			if err != nil || res.Outcome != outcome.TooLate || res.Status != "004" {
				t.Fatalf("stop of a delivered message: %+v, %v", res, err)
			}
			res, err = stop(t, c, unknownID)
			if err != nil || res.Outcome != outcome.NotFound || res.HTTPStatus != 404 || res.Code != "161" {
				t.Fatalf("stop of an unknown message: %+v, %v", res, err)
			}

			sim.SetToken("another-token")
			_, err = stop(t, c, scheduledID)
			var ae *APIError
			if !errors.As(err, &ae) || ae.HTTPStatus != 401 || ae.Code != "001" || Classify(err) != Stop {
				t.Fatalf("stop with a revoked token: %v, want 401 error 001, stop", err)
			}
		})
	}
}

// A wrong base URL (here ".../api", so the calls go to
// /api/rest/message/ID) reaches no API: the simulator answers like a
// generic web server, a plain-text 404, and the client settles nothing:
// every call is an error to give up on, never a NotFound outcome.
func TestClient_Simulator_WrongBasePath(t *testing.T) {
	for _, f := range []Format{JSON, XML} {
		t.Run(f.String(), func(t *testing.T) {
			sim, srv := simServer(t, simulator.Config{Scheduled: []string{scheduledID}})
			c := newTestClient(t, srv, WithFormat(f), WithBaseURL(srv.URL+"/api"))
			for _, id := range []string{scheduledID, unknownID} {
				res, err := stop(t, c, id)
				var ae *APIError
				if res != nil || !errors.As(err, &ae) || ae.HTTPStatus != 404 || ae.Code != "" || Classify(err) != GiveUp {
					t.Fatalf("stop of %s at a wrong base path: %+v, %v; want a 404 error to give up on", id, res, err)
				}
			}
			if st, _ := sim.Status(scheduledID); st != simulator.StatusScheduled {
				t.Errorf("the simulator holds status %q, want it still scheduled", st)
			}
		})
	}
}

func TestClient_Simulator_Faults(t *testing.T) {
	fixed := func() time.Time { return t0 }
	tests := []struct {
		name       string
		cfg        simulator.Config
		calls      int // the last one is checked
		disp       Disposition
		status     int // APIError.HTTPStatus; 0: a *TransportError
		retryAfter time.Duration
	}{
		{"429", simulator.Config{Rate: 1, Burst: 1, Now: fixed}, 2, Retry, 429, 0},
		{"429 Retry-After", simulator.Config{Rate: 1, Burst: 1, RetryAfter: 7, Now: fixed}, 2, Retry, 429, 7 * time.Second},
		{"503 error 901", simulator.Config{FailRate: 1}, 1, Retry, 503, 0},
		{"dropped", simulator.Config{DropRate: 1}, 1, Retry, 0, 0},
		{"dropped after acting", simulator.Config{DropAfterRate: 1}, 1, Retry, 0, 0},
	}
	for _, tt := range tests {
		for _, f := range []Format{JSON, XML} {
			t.Run(tt.name+"/"+f.String(), func(t *testing.T) {
				cfg := tt.cfg
				cfg.AnyScheduled = true
				_, srv := simServer(t, cfg)
				c := newTestClient(t, srv, WithFormat(f))
				var err error
				for i := 0; i < tt.calls; i++ {
					_, err = stop(t, c, scheduledID)
				}
				if Classify(err) != tt.disp {
					t.Fatalf("got %v, classified %v; want %v", err, Classify(err), tt.disp)
				}
				var ae *APIError
				var te *TransportError
				switch {
				case tt.status == 0 && !errors.As(err, &te):
					t.Fatalf("got %T %v, want a *TransportError", err, err)
				case tt.status != 0 && (!errors.As(err, &ae) || ae.HTTPStatus != tt.status || ae.RetryAfter != tt.retryAfter):
					t.Fatalf("got %v, want HTTP %d with Retry-After %v", err, tt.status, tt.retryAfter)
				}
			})
		}
	}
}

// TestRetryPolicy_Simulator settles every message against an API that
// drops a third of the connections (half of them after acting) and fails
// another third with 503, from 32 workers at once, and never spends more
// than the budget.
func TestRetryPolicy_Simulator(t *testing.T) {
	sim, srv := simServer(t, simulator.Config{AnyScheduled: true, DropRate: 0.15, DropAfterRate: 0.15, FailRate: 0.3, Seed: 7})
	c := newTestClient(t, srv)
	// With 60% of attempts failing, a message fails all of 1+n attempts
	// with probability 0.6^(1+n): at n = 20 one run in a hundred lost one
	// of its 400 messages (the workers' interleaving decides which draws
	// each message meets); at n = 40, one in three million.
	const maxRetries = 40
	p := RetryPolicy{MaxRetries: maxRetries, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond, Throttle: NewThrottle(0)}
	ids := make(chan string)
	go func() {
		for i := 0; i < 400; i++ {
			ids <- fmt.Sprintf("%032x", i+1)
		}
		close(ids)
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[outcome.Outcome]int{}
	for w := 0; w < 32; w++ {
		wg.Go(func() {
			for id := range ids {
				var res *Result
				n, err := p.Do(context.Background(), func(ctx context.Context) error {
					var err error
					res, err = c.StopMessage(ctx, id)
					return err
				})
				noToken(t, res, err)
				if n > 1+maxRetries || sim.Calls(id) != n {
					t.Errorf("%s: %d attempts, %d calls seen by the simulator, budget %d", id, n, sim.Calls(id), 1+maxRetries)
				}
				mu.Lock()
				if err != nil {
					t.Errorf("%s: %v after %d attempts", id, err, n)
				} else {
					outcomes[res.Outcome]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if outcomes[outcome.Cancelled] != 400 {
		t.Errorf("outcomes %v, want 400 cancelled", outcomes)
	}
}

// TestClient_SimulatorAnswers: the client against the simulator's other
// answers settles exactly what the status table settles, in JSON and XML.
func TestClient_SimulatorAnswers(t *testing.T) {
	answers := map[string]string{
		"10000000000000000000000000000001": "010",
		"10000000000000000000000000000002": "002",
		"10000000000000000000000000000003": "404:103",
		"10000000000000000000000000000004": "001",
		"20000000000000000000000000000001": "stuck",
		"20000000000000000000000000000002": "015",
		"20000000000000000000000000000003": "404:gateway",
		"20000000000000000000000000000004": "404:empty",
		"20000000000000000000000000000005": "404:html",
		"20000000000000000000000000000006": "404:text",
		"20000000000000000000000000000007": "404:nocode",
		"20000000000000000000000000000008": "404:data",
	}
	want := map[string]outcome.Outcome{
		"10000000000000000000000000000001": outcome.NotDelivered,
		"10000000000000000000000000000002": outcome.TooLate,
		"10000000000000000000000000000003": outcome.NotFound,
		"10000000000000000000000000000004": outcome.NotFound,
	}
	for _, f := range []Format{JSON, XML} {
		t.Run(f.String(), func(t *testing.T) {
			_, srv := simServer(t, simulator.Config{Answers: answers})
			c := newTestClient(t, srv, WithFormat(f))
			for id := range answers {
				res, err := stop(t, c, id)
				if o, ok := want[id]; ok {
					if err != nil || res.Outcome != o {
						t.Errorf("%s (%s): %+v, %v; want %v", id, answers[id], res, err, o)
					}
					continue
				}
				var se *StatusError
				switch {
				case res != nil:
					t.Errorf("%s (%s) settled as %v", id, answers[id], res.Outcome)
				case answers[id] == "stuck" && (!errors.As(err, &se) || !se.Scheduled() || Classify(err) != Retry):
					t.Errorf("%s (stuck): %v, want a *StatusError for 011 to retry", id, err)
				case answers[id] != "stuck" && Classify(err) != GiveUp:
					t.Errorf("%s (%s): %v classified %v, want give up", id, answers[id], err, Classify(err))
				}
			}
		})
	}
}
