package clickatell

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/simulator"
)

// MessageStatus against the simulator: every status a message can have
// reads as the outcome StopMessage would give it, 011 as Scheduled, and no
// call changes the message.
func TestClient_MessageStatus_Simulator(t *testing.T) {
	const (
		cancelledID = "1111111111111111111111111111aaaa"
		expiredID   = "2222222222222222222222222222bbbb"
	)
	for _, f := range []Format{JSON, XML} {
		t.Run(f.String(), func(t *testing.T) {
			sim, srv := simServer(t, simulator.Config{Scheduled: []string{scheduledID}, Delivered: []string{deliveredID}})
			for id, st := range map[string]string{cancelledID: "006", expiredID: "010"} {
				if err := sim.SetStatus(msgid.MustParse(id), st); err != nil {
					t.Fatal(err)
				}
			}
			c := newTestClient(t, srv, WithFormat(f))
			for _, tc := range []struct {
				id      string
				outcome outcome.Outcome
				status  string
				http    int
				code    string
			}{
				{scheduledID, outcome.Scheduled, "011", 200, ""},
				{cancelledID, outcome.Cancelled, "006", 200, ""},
				{deliveredID, outcome.TooLate, "004", 200, ""},
				{unknownID, outcome.NotFound, "", 404, "161"},
			} {
				for i := 0; i < 2; i++ { // a status query changes nothing
					res, err := c.MessageStatus(context.Background(), tc.id)
					noToken(t, res, err)
					if err != nil || res.ID != tc.id || res.Outcome != tc.outcome || res.Status != tc.status || res.HTTPStatus != tc.http || res.Code != tc.code {
						t.Fatalf("MessageStatus(%s) #%d = %+v, %v; want %v, status %q, HTTP %d, code %q", tc.id, i+1, res, err, tc.outcome, tc.status, tc.http, tc.code)
					}
				}
			}
			// 010 is whatever the shared decode table makes of it: the
			// same for both calls.
			got, gerr := c.MessageStatus(context.Background(), expiredID)
			want, werr := stop(t, c, expiredID)
			if (gerr == nil) != (werr == nil) || gerr == nil && (got.Outcome != want.Outcome || got.Status != want.Status) {
				t.Errorf("status 010: GET %+v, %v; DELETE %+v, %v: want the same reading", got, gerr, want, werr)
			}
			if n := sim.Calls(scheduledID); n != 0 {
				t.Errorf("the simulator saw %d stop calls for the scheduled message, want 0", n)
			}
			if st, _ := sim.Status(scheduledID); st != "011" {
				t.Errorf("the scheduled message is %q after status queries, want 011", st)
			}
			st := sim.Stats()
			if st.Lookups != 7 || st.NotFound != 2 {
				t.Errorf("simulator stats %s: want 7 lookups, 2 not found", st)
			}

			sim.SetToken("another-token")
			_, err := c.MessageStatus(context.Background(), scheduledID)
			var ae *APIError
			if !errors.As(err, &ae) || ae.HTTPStatus != 401 || Classify(err) != Stop {
				t.Fatalf("MessageStatus with a revoked token: %v, want 401, stop", err)
			}
		})
	}
}

// MessageStatus decodes through the stop call's table: an answer about
// another message, a proxy's page or a 503 is the same error for both.
func TestClient_MessageStatus_Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   Disposition
	}{
		{"answer about another message", 200, jsonData("011", "Message scheduled for later delivery", deliveredID), GiveUp},
		{"empty 200", 200, "", GiveUp},
		{"503", 503, `{"error":{"code":"901","description":"Internal error, please retry"}}`, Retry},
		{"gateway page", 502, "<html><title>Bad Gateway</title></html>", Retry},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			c := newTestClient(t, srv)
			res, err := c.MessageStatus(context.Background(), scheduledID)
			if err == nil || Classify(err) != tc.want {
				t.Fatalf("MessageStatus = %+v, %v; want an error to %v", res, err, tc.want)
			}
			if _, serr := stop(t, c, scheduledID); serr == nil || serr.Error() != err.Error() {
				t.Errorf("StopMessage: %v; MessageStatus: %v: want the same error", serr, err)
			}
		})
	}
}

// An error about a 2xx answer whose status is 011 (decode's answer to a
// stop call that did not take) is Scheduled for a status query; another
// status stays an error.
func TestAsStatus(t *testing.T) {
	res, err := asStatus(scheduledID, nil, testStatusErr{200, "011", "Message scheduled for later delivery (test)"})
	if err != nil || res.Outcome != outcome.Scheduled || res.Status != "011" || res.ID != scheduledID || res.Description != "Message scheduled for later delivery (test)" {
		t.Fatalf("asStatus(011 error) = %+v, %v", res, err)
	}
	res, err = asStatus(scheduledID, nil, fmt.Errorf("wrapped: %w", scheduledOnly{}))
	if err != nil || res.Outcome != outcome.Scheduled || res.Status != "011" || res.HTTPStatus != 200 || res.Description != "Message scheduled for later delivery" {
		t.Fatalf("asStatus(wrapped Scheduled() error) = %+v, %v", res, err)
	}
	e := testStatusErr{200, "099", "?"}
	if res, err := asStatus(scheduledID, nil, e); res != nil || err != error(e) {
		t.Fatalf("asStatus(099 error) = %+v, %v; want the error unchanged", res, err)
	}
	r := &Result{ID: scheduledID, Outcome: outcome.TooLate, Status: "011", HTTPStatus: 200}
	if res, err := asStatus(scheduledID, r, nil); err != nil || res.Outcome != outcome.Scheduled || r.Outcome != outcome.TooLate {
		t.Fatalf("asStatus(011 result) = %+v, %v (input now %+v)", res, err, r)
	}
}

type testStatusErr struct {
	http         int
	status, desc string
}

func (e testStatusErr) Error() string   { return "status " + e.status }
func (e testStatusErr) Scheduled() bool { return e.status == "011" }
func (e testStatusErr) AnswerStatus() (int, string, string) {
	return e.http, e.status, e.desc
}

type scheduledOnly struct{}

func (scheduledOnly) Error() string   { return "still scheduled (status 011)" }
func (scheduledOnly) Scheduled() bool { return true }
