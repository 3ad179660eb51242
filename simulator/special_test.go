package simulator_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

// TestSimulator_Answers: each answer of SetAnswer's list, to a stop and
// to a status read, in JSON and XML.
func TestSimulator_Answers(t *testing.T) {
	id := msgid.MustParse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1")
	for _, tc := range []struct {
		answer    string
		code      int
		ct        string // "": none
		body      string // a substring of the JSON body; "" an empty body
		xmlBody   string // a substring of the XML body, if it differs
		getCode   int
		statusNow string
		found     bool
	}{
		{answer: "010", code: 200, ct: "application/json", body: `"messageStatus":"010","description":"Message expired","apiMessageId":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"`, xmlBody: "<messageStatus>010</messageStatus>", getCode: 200, statusNow: "010", found: true},
		{answer: "stuck", code: 200, ct: "application/json", body: `"messageStatus":"011"`, xmlBody: "<messageStatus>011</messageStatus>", getCode: 200, statusNow: "011", found: true},
		{answer: "015", code: 200, ct: "application/json", body: `{"data":{"messageStatus":"015","description":"Status 015 (not in Clickatell's table)","apiMessageId":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"}}`, xmlBody: "<messageStatus>015</messageStatus>", getCode: 200, statusNow: "015", found: true},
		{answer: "999", code: 200, ct: "application/json", body: `"messageStatus":"999"`, xmlBody: "<messageStatus>999</messageStatus>", getCode: 200, statusNow: "999", found: true},
		{answer: "404:161", code: 404, ct: "application/json", body: `{"error":{"code":"161"`, xmlBody: "<code>161</code>", getCode: 404},
		{answer: "404:103", code: 404, ct: "application/json", body: `{"error":{"code":"103","description":"Unknown API message ID"`, xmlBody: "<code>103</code>", getCode: 404},
		{answer: "404:104", code: 404, ct: "application/json", body: `{"error":{"code":"104"`, xmlBody: "<code>104</code>", getCode: 404},
		{answer: "404:empty", code: 404, getCode: 404},
		{answer: "404:html", code: 404, ct: "text/html", body: "<title>404 Not Found</title>", xmlBody: "<title>404 Not Found</title>", getCode: 404},
		{answer: "404:text", code: 404, ct: "text/plain; charset=utf-8", body: "404 page not found\n", xmlBody: "404 page not found\n", getCode: 404},
		{answer: "404:gateway", code: 404, ct: "application/json", body: `{"error":{"code":"404"}}`, xmlBody: `{"error":{"code":"404"}}`, getCode: 404},
		{answer: "404:nocode", code: 404, ct: "application/json", body: `{"error":{"description":"Invalid or missing parameter: apiMessageId"}}`, xmlBody: "<error>\n        <description>", getCode: 404},
		{answer: "404:data", code: 404, ct: "application/json", body: `{"data":{"messageStatus":"001","description":"Message unknown","apiMessageId":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"}}`, xmlBody: "<messageStatus>001</messageStatus>", getCode: 404},
	} {
		t.Run(tc.answer, func(t *testing.T) {
			sim := newSim(t, simulator.Config{AnyScheduled: true})
			if err := sim.SetAnswer(id, tc.answer); err != nil {
				t.Fatal(err)
			}
			for _, accept := range []string{"application/json", "application/xml"} {
				for _, method := range []string{"DELETE", "DELETE", "GET"} {
					w := serve(sim, req(method, id.String(), accept))
					want, body := tc.code, tc.body
					if method == "GET" {
						want = tc.getCode
					}
					ct := tc.ct
					if accept == "application/xml" {
						if tc.xmlBody != "" {
							body = tc.xmlBody
						}
						if ct == "application/json" && !strings.HasPrefix(tc.body, `{"error":{"code":"404"`) {
							ct = "application/xml"
						}
					}
					if w.Code != want || w.Header().Get("Content-Type") != ct || !strings.Contains(w.Body.String(), body) || body == "" && w.Body.Len() != 0 {
						t.Errorf("%s %s: %d %q %q; want %d %q holding %q", method, accept, w.Code, w.Header().Get("Content-Type"), w.Body, want, ct, body)
					}
				}
			}
			if st, found := sim.StatusID(id); st != tc.statusNow || found != tc.found {
				t.Errorf("StatusID = %q, %v; want %q, %v", st, found, tc.statusNow, tc.found)
			}
			if n := sim.CallsID(id); n != 4 {
				t.Errorf("%d stop calls counted, want 4", n)
			}
		})
	}
}

// TestSimulator_StuckN: stuck:N answers 011 to the first N stops, then
// cancels; SetStatus ends any answer.
func TestSimulator_StuckN(t *testing.T) {
	sim := newSim(t, simulator.Config{Answers: map[string]string{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2": "stuck:2"}})
	id := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
	for i, want := range []string{"011", "011", "006", "006"} {
		w := serve(sim, req("DELETE", id, ""))
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"messageStatus":"`+want+`"`) {
			t.Errorf("stop %d: %d %s, want %s", i+1, w.Code, w.Body, want)
		}
	}
	if st := sim.Stats(); st.Cancelled != 1 || st.NotStopped != 2 || st.AlreadyCancelled != 1 {
		t.Errorf("stats %s", st)
	}
	x := msgid.MustParse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3")
	if err := sim.SetAnswer(x, "404:gateway"); err != nil {
		t.Fatal(err)
	}
	if err := sim.SetStatus(x, "004"); err != nil {
		t.Fatal(err)
	}
	if w := serve(sim, req("DELETE", x.String(), "")); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"004"`) {
		t.Errorf("after SetStatus: %d %s, want 200 with 004", w.Code, w.Body)
	}
}

// TestSimulator_AnswerErrors: bad answers and conflicting listings are
// refused with the list of what is accepted.
func TestSimulator_AnswerErrors(t *testing.T) {
	sim := newSim(t, simulator.Config{})
	id := msgid.MustParse("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4")
	for _, bad := range []string{"", "11", "0110", "stuck:", "stuck:-1", "stuck:x", "404:", "404:500", "cancelled"} {
		if err := sim.SetAnswer(id, bad); err == nil || !strings.Contains(err.Error(), "want") {
			t.Errorf("SetAnswer(%q): %v, want a refusal saying what is accepted", bad, err)
		}
	}
	if added, err := sim.AddAnswer(id, "stuck"); !added || err != nil {
		t.Fatalf("AddAnswer: %v, %v", added, err)
	}
	if added, err := sim.AddAnswer(id, "stuck"); added || err != nil {
		t.Errorf("AddAnswer again: %v, %v; want false, nil", added, err)
	}
	var ce *simulator.ConflictError
	if _, err := sim.AddAnswer(id, "404:html"); !errors.As(err, &ce) || err.Error() != id.String()+" is listed as both answer stuck and answer 404:html" {
		t.Errorf("AddAnswer of another answer: %v", err)
	}
	if _, err := sim.AddAnswer(msgid.MustParse(scheduled), "015"); !errors.As(err, &ce) || !strings.Contains(err.Error(), "scheduled and status 015") {
		t.Errorf("AddAnswer for a scheduled ID: %v", err)
	}
	if _, err := simulator.New(simulator.Config{Answers: map[string]string{"xyz": "stuck"}}); err == nil {
		t.Error("Config.Answers with a bad ID accepted")
	}
}
