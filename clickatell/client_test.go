package clickatell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/recallhq/recall/outcome"
)

// testToken is the token every test client holds. Every error and result
// a test sees is checked not to contain it (see noToken).
const testToken = "tok-S3cr3t-9f2a1c"

const id1 = "360586640fe9846954897dffe6c13dfc"

// noToken fails the test if any of the strings made from v hold the token.
func noToken(t *testing.T, vs ...any) {
	t.Helper()
	for _, v := range vs {
		if v == nil {
			continue
		}
		if e, ok := v.(error); ok && e == nil {
			continue
		}
		for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v)} {
			if strings.Contains(s, testToken) {
				t.Fatalf("the token leaked: %s", s)
			}
		}
		if e, ok := v.(error); ok {
			for u := errors.Unwrap(e); u != nil; u = errors.Unwrap(u) {
				if strings.Contains(u.Error(), testToken) {
					t.Fatalf("the token leaked from a wrapped error: %s", u.Error())
				}
			}
		}
	}
}

// newTestClient returns a client of srv with the test token.
func newTestClient(t *testing.T, srv *httptest.Server, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithBaseURL(srv.URL), WithToken(testToken), WithHTTPClient(srv.Client())}, opts...)
	c, err := New(all...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	noToken(t, c)
	return c
}

// stop calls StopMessage and checks its outcome for the token.
func stop(t *testing.T, c *Client, id string) (*Result, error) {
	t.Helper()
	res, err := c.StopMessage(context.Background(), id)
	noToken(t, res, err)
	return res, err
}

func jsonData(status, desc, id string) string {
	return fmt.Sprintf(`{"data":{"messageStatus":"%s","description":"%s","apiMessageId":"%s"}}`, status, desc, id)
}

func xmlData(status, desc, id string) string {
	return fmt.Sprintf("<?xml version=\"1.0\"?>\n<response>\n    <data>\n    <messageStatus>%s</messageStatus>\n    <description>%s</description>\n    <apiMessageId>%s</apiMessageId>\n    </data>\n</response>\n", status, desc, id)
}

func jsonErr(code, desc string) string {
	return fmt.Sprintf(`{"error":{"code":"%s","description":"%s","documentation":"http://www.clickatell.com/help/apidocs/error/%s.htm"}}`, code, desc, code)
}

func xmlErr(code, desc string) string {
	return fmt.Sprintf("<?xml version=\"1.0\"?>\n<response>\n  <error>\n    <code>%s</code>\n    <description>%s</description>\n  </error>\n</response>\n", code, desc)
}

// canned answers one fixed answer to every request.
type canned struct {
	status int
	header map[string]string
	body   string
}

func (a canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// TestClient_StopMessage_Answers covers every answer shape the reference
// documents, or that a proxy could plausibly give, in JSON and in XML.
func TestClient_StopMessage_Answers(t *testing.T) {
	type want struct {
		res        *Result // nil: an error
		disp       Disposition
		errType    string // "api", "decode"
		code       string // APIError.Code
		retryAfter time.Duration
		errHas     string
	}
	type shape struct {
		name   string
		status int
		header map[string]string
		json   string // "" with xml "": the same empty body
		xml    string
		want   want
	}
	res := func(o outcome.Outcome, status, desc, code string, http int) *Result {
		return &Result{ID: id1, Outcome: o, Status: status, Description: desc, Code: code, HTTPStatus: http}
	}
	// errShape and dataShape are a shape answering Clickatell's error, or
	// its data about id1, in both formats; settledShape is a dataShape
	// whose status settles the message as o.
	errShape := func(name string, status int, code, desc string, w want) shape {
		return shape{name: name, status: status, json: jsonErr(code, desc), xml: xmlErr(code, desc), want: w}
	}
	dataShape := func(name string, status int, code, desc string, w want) shape {
		return shape{name: name, status: status, json: jsonData(code, desc, id1), xml: xmlData(code, desc, id1), want: w}
	}
	settledShape := func(name string, status int, code, desc string, o outcome.Outcome) shape {
		return dataShape(name, status, code, desc, want{res: res(o, code, desc, "", status)})
	}
	shapes := []shape{
		settledShape("200 006 cancelled", 200, "006", "User cancelled message delivery", outcome.Cancelled),
		settledShape("200 001 unknown", 200, "001", "Message unknown", outcome.NotFound),
		settledShape("200 004 delivered", 200, "004", "Received by recipient", outcome.TooLate),
		dataShape("200 011 scheduled", 200, "011", "Message scheduled for later delivery", want{disp: Retry, errType: "status", code: "011", errHas: `still scheduled (status 011): the stop did not take (Clickatell says "Message scheduled for later delivery")`}),
		{name: "200 11 scheduled, unpadded", status: 200,
			json: `{"data":{"messageStatus":11}}`, xml: `<response><data><messageStatus>11</messageStatus></data></response>`,
			want: want{disp: Retry, errType: "status", code: "011", errHas: "still scheduled (status 011): the stop did not take"}},
		dataShape("200 015 unknown status", 200, "015", "Something new", want{disp: GiveUp, errType: "status", code: "015", errHas: `unknown message status 015: not one of Clickatell's documented statuses, so nothing is recorded (Clickatell says "Something new")`}),
		{name: "200 999 unknown status", status: 200,
			json: `{"data":{"messageStatus":"999"}}`, xml: `<response><data><messageStatus>999</messageStatus></data></response>`,
			want: want{disp: GiveUp, errType: "status", code: "999", errHas: "unknown message status 999"}},
		{name: "200 000 unknown status", status: 200,
			json: `{"data":{"messageStatus":"0"}}`, xml: `<response><data><messageStatus>0</messageStatus></data></response>`,
			want: want{disp: GiveUp, errType: "status", code: "000", errHas: "unknown message status 000"}},
		// Answer shapes seen in public client code.
		{name: "200 006 with charge as a number", status: 200,
			json: `{"data":{"messageStatus":"006","description":"User cancelled message delivery","apiMessageId":"` + id1 + `","charge":0.8}}`,
			xml:  `<response><data><messageStatus>006</messageStatus><description>User cancelled message delivery</description><charge>0.8</charge></data></response>`,
			want: want{res: res(outcome.Cancelled, "006", "User cancelled message delivery", "", 200)}},
		{name: "200 006 with charge as a string", status: 200,
			json: `{"data":{"charge":"0.8","messageStatus":"006","description":"User cancelled message delivery","apiMessageId":"` + id1 + `"}}`,
			xml:  `<response><data><charge>0.8</charge><messageStatus>006</messageStatus><description>User cancelled message delivery</description></data></response>`,
			want: want{res: res(outcome.Cancelled, "006", "User cancelled message delivery", "", 200)}},
		{name: "200 004 with callback fields", status: 200,
			json: `{"data":{"apiId":"3512","apiMessageId":"` + id1 + `","clientMessageId":"c-1","timestamp":1764237600,"to":"27999000001","from":"Shop","charge":0.8,"messageStatus":"004","description":"Received by recipient"},"meta":{"v":1}}`,
			xml:  `<response><data><apiId>3512</apiId><apiMessageId>` + id1 + `</apiMessageId><clientMessageId>c-1</clientMessageId><timestamp>1764237600</timestamp><to>27999000001</to><from>Shop</from><messageStatus>004</messageStatus><description>Received by recipient</description></data><meta>1</meta></response>`,
			want: want{res: res(outcome.TooLate, "004", "Received by recipient", "", 200)}},
		{name: "402 error code as a number", status: 402,
			json: `{"error":{"code":301,"description":"No credit left"}}`, xml: `<response><error><code>301</code><description>No credit left</description></error></response>`,
			want: want{disp: Stop, errType: "api", code: "301"}},
		{name: "401 error code as an unpadded number", status: 401,
			json: `{"error":{"code":7,"description":"IP lockdown violation"}}`, xml: `<response><error><code>7</code><description>IP lockdown violation</description></error></response>`,
			want: want{disp: Stop, errType: "api", code: "007"}},
		{name: "404 error 161 as a number", status: 404,
			json: `{"error":{"code":161,"description":"Resource does not exist"}}`, xml: `<response><error><code>161</code><description>Resource does not exist</description></error></response>`,
			want: want{res: res(outcome.NotFound, "", "Resource does not exist", "161", 404)}},
		{name: "400 error without a code", status: 400,
			json: `{"error":{"description":"Invalid or missing parameter: apiMessageId"}}`, xml: `<response><error><description>Invalid or missing parameter: apiMessageId</description></error></response>`,
			want: want{disp: GiveUp, errType: "api", errHas: "HTTP 400 Bad Request: Invalid or missing parameter: apiMessageId"}},
		{name: "404 error without a code", status: 404,
			json: `{"error":{"description":"Invalid or missing parameter: apiMessageId"}}`, xml: `<response><error><description>Invalid or missing parameter: apiMessageId</description></error></response>`,
			want: want{disp: GiveUp, errType: "api", errHas: "not Clickatell's answer about the message"}},
		{name: "404 gateway JSON", status: 404,
			json: `{"error":{"code":"404"}}`, xml: `<response><error><code>404</code></error></response>`,
			want: want{disp: GiveUp, errType: "api", code: "404", errHas: "HTTP 404 Not Found, error 404; not Clickatell's answer about the message (no error 161, 103 or 104), so nothing is recorded"}},
		{name: "404 gateway JSON with a message", status: 404,
			json: `{"error":{"code":"404","message":"no Route matched with those values"}}`, xml: `<response><error><code>404</code><message>no Route matched</message></error></response>`,
			want: want{disp: GiveUp, errType: "api", code: "404"}},
		errShape("404 error 101", 404, "101", "Invalid or missing parameters", want{disp: GiveUp, errType: "api", code: "101"}),
		{name: "200 006 upper-case ID echoed", status: 200,
			json: jsonData("006", "User cancelled message delivery", strings.ToUpper(id1)), xml: xmlData("006", "User cancelled message delivery", strings.ToUpper(id1)),
			want: want{res: res(outcome.Cancelled, "006", "User cancelled message delivery", "", 200)}},
		{name: "200 006 without apiMessageId", status: 200,
			json: `{"data":{"messageStatus":"006","description":"User cancelled message delivery"}}`,
			xml:  `<response><data><messageStatus>006</messageStatus><description>User cancelled message delivery</description></data></response>`,
			want: want{res: res(outcome.Cancelled, "006", "User cancelled message delivery", "", 200)}},
		settledShape("202 with data", 202, "006", "User cancelled message delivery", outcome.Cancelled),
		settledShape("207 with data", 207, "004", "Received by recipient", outcome.TooLate),
		{name: "200 about another message", status: 200,
			json: jsonData("006", "User cancelled message delivery", "b09e1b1bdb5a070c978f03b6836b955c"), xml: xmlData("006", "User cancelled message delivery", "b09e1b1bdb5a070c978f03b6836b955c"),
			want: want{disp: GiveUp, errType: "decode", errHas: "not " + id1}},
		{name: "200 without messageStatus", status: 200,
			json: `{"data":{"description":"User cancelled message delivery"}}`,
			xml:  `<response><data><description>User cancelled message delivery</description></data></response>`,
			want: want{disp: GiveUp, errType: "decode", errHas: "no messageStatus"}},
		{name: "200 with a word for a status", status: 200,
			json: `{"data":{"messageStatus":"cancelled"}}`,
			xml:  `<response><data><messageStatus>cancelled</messageStatus></data></response>`,
			want: want{disp: GiveUp, errType: "decode", errHas: `messageStatus "cancelled" is not a status code`}},
		{name: "200 with neither data nor error", status: 200,
			json: `{"ok":true}`, xml: `<response><ok/></response>`,
			want: want{disp: GiveUp, errType: "decode", errHas: "neither data nor error"}},
		{name: "200 empty", status: 200,
			want: want{disp: GiveUp, errType: "decode", errHas: "empty answer"}},
		{name: "200 truncated", status: 200,
			json: `{"data":{"messageStatus":"006","descrip`, xml: "<response><data><messageStatus>006</messageStatus><descr",
			want: want{disp: GiveUp, errType: "decode", errHas: "malformed"}},
		errShape("200 with error 001", 200, "001", "Authentication failed", want{disp: Stop, errType: "api", code: "001"}),
		errShape("404 error 161", 404, "161", "Resource does not exist", want{res: res(outcome.NotFound, "", "Resource does not exist", "161", 404)}),
		errShape("404 error 103", 404, "103", "Unknown API message ID", want{res: res(outcome.NotFound, "", "Unknown API message ID", "103", 404)}),
		{name: "404 no body", status: 404,
			want: want{disp: GiveUp, errType: "api", errHas: "HTTP 404 Not Found; not Clickatell's answer about the message"}},
		{name: "404 blank body", status: 404, header: map[string]string{"Content-Type": "application/json"},
			json: " \r\n", xml: "\n",
			want: want{disp: GiveUp, errType: "api", errHas: "not Clickatell's answer about the message"}},
		dataShape("404 with data 001", 404, "001", "Message unknown", want{disp: GiveUp, errType: "api", errHas: "HTTP 404 Not Found: Message unknown; not Clickatell's answer"}),
		dataShape("404 with data 006", 404, "006", "User cancelled message delivery", want{disp: GiveUp, errType: "api"}),
		errShape("400 error 103", 400, "103", "Unknown API message ID", want{res: res(outcome.NotFound, "", "Unknown API message ID", "103", 400)}),
		errShape("400 error 104", 400, "104", "Unknown client message ID", want{res: res(outcome.NotFound, "", "Unknown client message ID", "104", 400)}),
		errShape("400 error 101", 400, "101", "Invalid or missing parameters", want{disp: GiveUp, errType: "api", code: "101"}),
		errShape("400 error 165", 400, "165", "Invalid or no version header", want{disp: Stop, errType: "api", code: "165"}),
		errShape("400 error 166", 400, "166", "Invalid accept header", want{disp: Stop, errType: "api", code: "166"}),
		errShape("401 error 001", 401, "001", "Authentication failed", want{disp: Stop, errType: "api", code: "001", errHas: "HTTP 401 Unauthorized, error 001: Authentication failed"}),
		errShape("401 error 007", 401, "007", "IP lockdown violation", want{disp: Stop, errType: "api", code: "007"}),
		{name: "401 no body", status: 401,
			want: want{disp: Stop, errType: "api", errHas: "HTTP 401 Unauthorized"}},
		errShape("402 error 301", 402, "301", "No credit left", want{disp: Stop, errType: "api", code: "301"}),
		errShape("404 error 001", 404, "001", "Authentication failed", want{disp: Stop, errType: "api", code: "001"}),
		errShape("405 error 160", 405, "160", "HTTP method not supported on this resource", want{disp: GiveUp, errType: "api", code: "160"}),
		errShape("410 error 128", 410, "128", "Number delisted", want{disp: GiveUp, errType: "api", code: "128"}),
		errShape("429 without Retry-After", 429, "429", "Too many requests", want{disp: Retry, errType: "api", code: "429"}),
		{name: "429 Retry-After seconds", status: 429, header: map[string]string{"Retry-After": "3"},
			json: jsonErr("429", "Too many requests"), xml: xmlErr("429", "Too many requests"),
			want: want{disp: Retry, errType: "api", code: "429", retryAfter: 3 * time.Second, errHas: "Retry-After 3s"}},
		{name: "429 Retry-After date", status: 429, header: map[string]string{"Retry-After": "Fri, 27 Nov 2026 10:00:07 GMT"},
			want: want{disp: Retry, errType: "api", retryAfter: 7 * time.Second}},
		{name: "429 Retry-After garbage", status: 429, header: map[string]string{"Retry-After": "soon"},
			want: want{disp: Retry, errType: "api"}},
		errShape("503 error 901", 503, "901", "Internal error, please retry", want{disp: Retry, errType: "api", code: "901"}),
		errShape("500 error 901 in a 200", 200, "901", "Internal error, please retry", want{disp: Retry, errType: "api", code: "901"}),
		{name: "502 HTML page", status: 502, header: map[string]string{"Content-Type": "text/html"},
			json: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body>\r\n</html>\r\n",
			xml:  "<!DOCTYPE html><html><head><title>Service \n Unavailable</title></head><body>down</body></html>",
			want: want{disp: Retry, errType: "api", errHas: "got an HTML page, not an API answer"}},
		{name: "404 HTML page", status: 404, header: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			json: "<!doctype html><title>Not Found</title><p>nothing here",
			xml:  "<html><body>Not Found</body></html>",
			want: want{disp: GiveUp, errType: "api", errHas: "got an HTML page"}},
		{name: "404 plain text from another server", status: 404, header: map[string]string{"Content-Type": "text/plain"},
			json: "404 page not found\n", xml: "404 page not found\n",
			want: want{disp: GiveUp, errType: "api", errHas: "neither JSON nor XML"}},
		{name: "404 JSON page from another server", status: 404, header: map[string]string{"Content-Type": "application/json"},
			json: `{"timestamp":"2026-11-27T10:00:00Z","status":404,"path":"/rest/message"}`, xml: `<response><status>404</status></response>`,
			want: want{disp: GiveUp, errType: "api", errHas: "neither data nor error"}},
		{name: "200 HTML page", status: 200, header: map[string]string{"Content-Type": "text/html"},
			json: "<html><head><title>Login</title></head></html>", xml: "<HTML><BODY>captive portal</BODY></HTML>",
			want: want{disp: GiveUp, errType: "decode", errHas: "got an HTML page"}},
		{name: "504 garbage", status: 504,
			json: "upstream timed out\x00\x1b[31m", xml: "upstream timed out\x00\x1b[31m",
			want: want{disp: Retry, errType: "api", errHas: `the body starts "upstream timed out??[31m"`}},
		{name: "wrong content type", status: 200, header: map[string]string{"Content-Type": "text/plain"},
			json: jsonData("006", "User cancelled message delivery", id1), xml: xmlData("006", "User cancelled message delivery", id1),
			want: want{res: res(outcome.Cancelled, "006", "User cancelled message delivery", "", 200)}},
		{name: "crossed content type", status: 200, header: map[string]string{"Content-Type": "application/xml"},
			json: jsonData("004", "Received by recipient", id1), xml: xmlData("004", "Received by recipient", id1),
			want: want{res: res(outcome.TooLate, "004", "Received by recipient", "", 200)}},
		{name: "301 redirect", status: 301, header: map[string]string{"Location": "https://elsewhere.example/rest/message/" + id1},
			want: want{disp: GiveUp, errType: "api", errHas: "unexpected redirect to \"https://elsewhere.example/rest/message/"}},
		{name: "echo of the token", status: 400, header: map[string]string{"Content-Type": "text/plain"},
			json: "Authorization: Bearer " + testToken + "\nX-Version: 1", xml: "you sent " + testToken,
			want: want{disp: GiveUp, errType: "api", errHas: "[REDACTED]"}},
	}
	// Every status of Clickatell's table, by the outcome it settles.
	for _, st := range []struct {
		o    outcome.Outcome
		code string
		desc string
	}{
		{outcome.TooLate, "002", "Message queued"}, {outcome.TooLate, "003", "Delivered to gateway"}, {outcome.TooLate, "008", "OK"},
		{outcome.NotDelivered, "005", "Error with message"}, {outcome.NotDelivered, "007", "Error delivering message"},
		{outcome.NotDelivered, "009", "Routing error"}, {outcome.NotDelivered, "010", "Message expired"},
		{outcome.NotDelivered, "012", "Out of credit"}, {outcome.NotDelivered, "013", "Clickatell cancelled message delivery"},
		{outcome.NotDelivered, "014", "Maximum MT limit exceeded"},
	} {
		shapes = append(shapes, shape{name: "200 " + st.code + " " + st.o.String(), status: 200,
			json: jsonData(st.code, st.desc, id1), xml: xmlData(st.code, st.desc, id1),
			want: want{res: res(st.o, st.code, st.desc, "", 200)}})
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, f := range []Format{JSON, XML} {
		for _, sh := range shapes {
			t.Run(f.String()+"/"+sh.name, func(t *testing.T) {
				body, ct := sh.json, "application/json"
				if f == XML {
					body, ct = sh.xml, "application/xml"
				}
				h := map[string]string{}
				if body != "" {
					h["Content-Type"] = ct
				}
				for k, v := range sh.header {
					h[k] = v
				}
				srv := httptest.NewServer(canned{status: sh.status, header: h, body: body})
				defer srv.Close()
				c := newTestClient(t, srv, WithFormat(f))
				c.now = func() time.Time { return now }
				res, err := stop(t, c, id1)
				if sh.want.res != nil {
					if err != nil {
						t.Fatalf("got error %v, want %+v", err, sh.want.res)
					}
					if diff := cmp.Diff(sh.want.res, res); diff != "" {
						t.Fatalf("result (-want +got):\n%s", diff)
					}
					return
				}
				if err == nil {
					t.Fatalf("got %+v, want an error", res)
				}
				if d := Classify(err); d != sh.want.disp {
					t.Errorf("Classify(%v) = %v, want %v", err, d, sh.want.disp)
				}
				var ae *APIError
				var de *DecodeError
				switch sh.want.errType {
				case "api":
					if !errors.As(err, &ae) {
						t.Fatalf("error %T %v is not an *APIError", err, err)
					}
					if ae.HTTPStatus != sh.status || ae.Code != sh.want.code || ae.RetryAfter != sh.want.retryAfter {
						t.Errorf("APIError{HTTPStatus: %d, Code: %q, RetryAfter: %v}, want {%d, %q, %v}", ae.HTTPStatus, ae.Code, ae.RetryAfter, sh.status, sh.want.code, sh.want.retryAfter)
					}
				case "status":
					var se *StatusError
					if !errors.As(err, &se) {
						t.Fatalf("error %T %v is not a *StatusError", err, err)
					}
					if se.Status != sh.want.code || se.HTTPStatus != sh.status || se.Method != http.MethodDelete {
						t.Errorf("StatusError{Status: %q, HTTPStatus: %d, Method: %q}, want {%q, %d, DELETE}", se.Status, se.HTTPStatus, se.Method, sh.want.code, sh.status)
					}
				case "decode":
					if errors.As(err, &ae) || !errors.As(err, &de) {
						t.Fatalf("error %T %v is not a bare *DecodeError", err, err)
					}
					if de.HTTPStatus != sh.status {
						t.Errorf("DecodeError.HTTPStatus = %d, want %d", de.HTTPStatus, sh.status)
					}
				}
				if !strings.Contains(err.Error(), sh.want.errHas) {
					t.Errorf("error %q does not say %q", err, sh.want.errHas)
				}
				if strings.ContainsAny(err.Error(), "\x00\x1b\r\n") {
					t.Errorf("error %q holds control characters", err)
				}
				// Shown to users as is: no package prefix, and no
				// clause said twice.
				if strings.Contains(err.Error(), "clickatell:") {
					t.Errorf("error %q names the Go package", err)
				}
				for _, once := range []string{"HTML page", "not an API answer"} {
					if n := strings.Count(err.Error(), once); n > 1 {
						t.Errorf("error %q says %q %d times", err, once, n)
					}
				}
			})
		}
	}
}

// TestClient_StopMessage_Request checks what is sent.
func TestClient_StopMessage_Request(t *testing.T) {
	for _, f := range []Format{JSON, XML} {
		t.Run(f.String(), func(t *testing.T) {
			var mu sync.Mutex
			var got *http.Request
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = r.Clone(context.Background())
				mu.Unlock()
				io.WriteString(w, jsonData("006", "User cancelled message delivery", id1))
			}))
			defer srv.Close()
			c, err := New(WithBaseURL(srv.URL+"/prefix/"), WithToken(testToken), WithFormat(f), WithUserAgent("recall/9.9.9 (test)"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stop(t, c, id1); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			accept := map[Format]string{JSON: "application/json", XML: "application/xml"}[f]
			wantHeaders := map[string]string{
				"X-Version":     "1",
				"Authorization": "Bearer " + testToken,
				"Accept":        accept,
				"User-Agent":    "recall/9.9.9 (test)",
			}
			for k, v := range wantHeaders {
				if g := got.Header.Values(k); len(g) != 1 || g[0] != v {
					t.Errorf("header %s = %q, want %q", k, g, v)
				}
			}
			if got.Method != http.MethodDelete || got.URL.Path != "/prefix/rest/message/"+id1 {
				t.Errorf("request %s %s, want DELETE /prefix/rest/message/%s", got.Method, got.URL.Path, id1)
			}
			mu.Unlock()
			if res, err := c.MessageStatus(context.Background(), id1); err != nil || res.Outcome != outcome.Cancelled {
				t.Fatalf("MessageStatus = %+v, %v", res, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got.Method != http.MethodGet {
				t.Errorf("MessageStatus sent %s, want GET", got.Method)
			}
		})
	}
}

func TestClient_DefaultUserAgent(t *testing.T) {
	c, err := New(WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.hUA[0], "recall/") || c.BaseURL() != DefaultBaseURL {
		t.Errorf("defaults: User-Agent %q, base %q", c.hUA[0], c.BaseURL())
	}
}

func TestClient_KeepAlive(t *testing.T) {
	var mu sync.Mutex
	conns := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		conns[r.RemoteAddr] = true
		mu.Unlock()
		io.WriteString(w, jsonData("006", "User cancelled message delivery", id1))
	}))
	defer srv.Close()
	c, err := New(WithBaseURL(srv.URL), WithToken(testToken))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := stop(t, c, id1); err != nil {
			t.Fatal(err)
		}
	}
	if len(conns) != 1 {
		t.Errorf("20 sequential calls used %d connections, want 1", len(conns))
	}
}

// hijack answers by cutting the connection, after writing head (if any).
func hijack(head string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if head != "" {
			buf.WriteString(head)
			buf.Flush()
		}
		conn.Close()
	}
}

func TestClient_StopMessage_Transport(t *testing.T) {
	tests := []struct {
		name    string
		handler http.Handler
		errHas  string
	}{
		{"dropped before answering", hijack(""), "EOF"},
		{"dropped mid-body", hijack("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n{\"data\":{\"messageStatus\":\"006\""), "connection closed before the whole answer arrived"},
		{"dropped mid-header", hijack("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"), "EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			c := newTestClient(t, srv)
			res, err := stop(t, c, id1)
			var te *TransportError
			if !errors.As(err, &te) {
				t.Fatalf("got %+v, %v; want a *TransportError", res, err)
			}
			if Classify(err) != Retry {
				t.Errorf("Classify(%v) = %v, want retry", err, Classify(err))
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("error %q does not say %q", err, tt.errHas)
			}
		})
	}
}

func TestClient_StopMessage_Oversized(t *testing.T) {
	for _, status := range []int{200, 502} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			big := `{"data":{"messageStatus":"006","description":"` + strings.Repeat("x", MaxBodySize) + `"}}`
			srv := httptest.NewServer(canned{status: status, header: map[string]string{"Content-Type": "application/json"}, body: big})
			defer srv.Close()
			_, err := stop(t, newTestClient(t, srv), id1)
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), "longer than 64 KiB") {
				t.Fatalf("got %v, want a *DecodeError about the size", err)
			}
			if want := map[int]Disposition{200: GiveUp, 502: Retry}[status]; Classify(err) != want {
				t.Errorf("Classify = %v, want %v", Classify(err), want)
			}
			if len(err.Error()) > 400 {
				t.Errorf("error is %d bytes long: %.100q…", len(err.Error()), err)
			}
		})
	}
}

func TestClient_StopMessage_Timeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv, WithTimeout(20*time.Millisecond))
	_, err := stop(t, c, id1)
	var te *TransportError
	if !errors.As(err, &te) || !te.Timeout || Classify(err) != Retry {
		t.Fatalf("got %v (%T), want a timed-out *TransportError that is retried", err, err)
	}
	if !strings.Contains(err.Error(), "no answer within 20ms") || strings.Contains(err.Error(), "clickatell:") {
		t.Errorf("error %q does not say how long it waited", err)
	}
}

func TestClient_StopMessage_ContextEnded(t *testing.T) {
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	c := newTestClient(t, srv)

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	res, err := c.StopMessage(ctx, id1)
	noToken(t, res, err)
	if !errors.Is(err, context.Canceled) || Classify(err) != GiveUp {
		t.Fatalf("got %v, want context.Canceled, given up", err)
	}

	// Already ended: nothing is sent.
	_, err = c.StopMessage(ctx, id1)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	select {
	case <-started:
		t.Error("a call was sent with an ended context")
	default:
	}
}

func TestClient_StopMessage_BadID(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent: %s", r.URL)
	}))
	defer srv.Close()
	c := newTestClient(t, srv)
	for _, id := range []string{"", "../admin", "a/b", "a b", "abc?x=1", "%2e%2e", strings.Repeat("a", 129), "ü"} {
		if _, err := stop(t, c, id); err == nil || Classify(err) != GiveUp {
			t.Errorf("StopMessage(%q) = %v, want an error, given up", id, err)
		}
	}
}

func TestClient_NeverFollowsRedirects(t *testing.T) {
	var other int
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other++
		if r.Header.Get("Authorization") != "" {
			t.Error("the token was sent to the redirect's target")
		}
		io.WriteString(w, jsonData("006", "x", id1))
	}))
	defer target.Close()
	for _, code := range []int{301, 302, 303, 307, 308} {
		srv := httptest.NewServer(http.RedirectHandler(target.URL+"/rest/message/"+id1, code))
		hc := &http.Client{}
		c, err := New(WithBaseURL(srv.URL), WithToken(testToken), WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		_, err = stop(t, c, id1)
		if Classify(err) != GiveUp || !strings.Contains(fmt.Sprint(err), "redirect") {
			t.Errorf("%d: got %v, want a redirect error", code, err)
		}
		if hc.CheckRedirect != nil {
			t.Error("the caller's http.Client was changed")
		}
		srv.Close()
	}
	if other != 0 {
		t.Errorf("%d redirects were followed", other)
	}
}

func TestClient_String(t *testing.T) {
	c, err := New(WithToken(testToken), WithBaseURL("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), fmt.Sprintf("%v %+v %#v", *c, *c, *c)} {
		if strings.Contains(s, testToken) || !strings.Contains(s, "[REDACTED]") {
			t.Errorf("%q", s)
		}
	}
}

func TestNew_Options(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		errHas  string // "": valid
		wantURL string
	}{
		{"defaults", nil, "", DefaultBaseURL},
		{"https", []Option{WithBaseURL("https://api.clickatell.com/")}, "", "https://api.clickatell.com"},
		{"https with path", []Option{WithBaseURL("https://proxy.example:8443/clickatell/")}, "", "https://proxy.example:8443/clickatell"},
		{"http 127.0.0.1", []Option{WithBaseURL("http://127.0.0.1:8080")}, "", "http://127.0.0.1:8080"},
		{"http 127.8.9.10", []Option{WithBaseURL("http://127.8.9.10:8080")}, "", "http://127.8.9.10:8080"},
		{"http ::1", []Option{WithBaseURL("http://[::1]:8080")}, "", "http://[::1]:8080"},
		{"http localhost", []Option{WithBaseURL("http://localhost:8080")}, "", "http://localhost:8080"},
		{"http LOCALHOST.", []Option{WithBaseURL("HTTP://LOCALHOST.:8080")}, "", "http://LOCALHOST.:8080"},
		{"http remote", []Option{WithBaseURL("http://api.clickatell.com")}, "refusing plain http://", ""},
		{"http 10.0.0.1", []Option{WithBaseURL("http://10.0.0.1:8080")}, "refusing plain http://", ""},
		{"http localhost lookalike", []Option{WithBaseURL("http://localhost.evil.example")}, "refusing plain http://", ""},
		{"http 127 in a name", []Option{WithBaseURL("http://127.0.0.1.nip.io")}, "refusing plain http://", ""},
		{"http ::ffff:10.0.0.1", []Option{WithBaseURL("http://[::ffff:10.0.0.1]")}, "refusing plain http://", ""},
		{"ftp", []Option{WithBaseURL("ftp://api.clickatell.com")}, "scheme must be https", ""},
		{"no scheme", []Option{WithBaseURL("api.clickatell.com")}, "scheme must be https", ""},
		{"no host", []Option{WithBaseURL("https:///rest")}, "has no host", ""},
		{"empty", []Option{WithBaseURL("  ")}, "empty API base URL", ""},
		{"user info", []Option{WithBaseURL("https://user:pw@api.clickatell.com")}, "must not hold a user name", ""},
		{"query", []Option{WithBaseURL("https://api.clickatell.com/?x=1")}, "must not have a query", ""},
		{"fragment", []Option{WithBaseURL("https://api.clickatell.com/#x")}, "must not have a query or fragment", ""},
		{"bad port", []Option{WithBaseURL("https://api.clickatell.com:99999")}, "port", ""},
		{"not a URL", []Option{WithBaseURL("https://[::1")}, "is not a URL", ""},
		{"empty token", []Option{WithToken("")}, "empty API token", ""},
		{"token with newline", []Option{WithToken(testToken + "\n")}, "holds whitespace at byte 18 of 18", ""},
		{"token with space", []Option{WithToken("tok " + testToken)}, "holds whitespace", ""},
		{"token with control", []Option{WithToken(testToken + "\x00")}, "holds a control character", ""},
		{"nil http client", []Option{WithHTTPClient(nil)}, "nil *http.Client", ""},
		{"empty user agent", []Option{WithUserAgent(" ")}, "empty User-Agent", ""},
		{"user agent with newline", []Option{WithUserAgent("recall\r\nX-Evil: 1")}, "control character", ""},
		{"format", []Option{WithFormat(Format(7))}, "unknown format", ""},
		{"negative timeout", []Option{WithTimeout(-time.Second)}, "negative timeout", ""},
		{"zero timeout", []Option{WithTimeout(0)}, "", DefaultBaseURL},
		{"negative conns", []Option{WithMaxConns(-1)}, "negative connection count", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append([]Option{WithToken(testToken)}, tt.opts...)
			c, err := New(opts...)
			noToken(t, c, err)
			if tt.errHas == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if c.BaseURL() != tt.wantURL {
					t.Errorf("BaseURL() = %q, want %q", c.BaseURL(), tt.wantURL)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("New: %v, want an error saying %q", err, tt.errHas)
			}
		})
	}
	if _, err := New(); err == nil || !strings.Contains(err.Error(), "no API token") {
		t.Errorf("New() without a token: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClient_RedactsTransportErrors: a transport (a proxy library, say)
// that quotes the request's Authorization header in its error must not
// carry the token into recall's output.
func TestClient_RedactsTransportErrors(t *testing.T) {
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("proxy refused request with %s: %w", r.Header.Get("Authorization"), io.ErrUnexpectedEOF)
	})}
	c, err := New(WithToken(testToken), WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.StopMessage(context.Background(), id1)
	if err == nil {
		t.Fatalf("got %+v, want an error", res)
	}
	if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "Bearer [REDACTED]") {
		t.Errorf("error %q", err)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) || Classify(err) != Retry {
		t.Errorf("redaction lost the cause: Is(ErrUnexpectedEOF) %v, Classify %v", errors.Is(err, io.ErrUnexpectedEOF), Classify(err))
	}
}

// TestClient_ConnectionPool: parallel calls share a bounded pool of
// kept-alive connections.
func TestClient_ConnectionPool(t *testing.T) {
	for _, maxConns := range []int{4, 64} {
		t.Run(fmt.Sprint(maxConns), func(t *testing.T) {
			var mu sync.Mutex
			conns := map[string]bool{}
			inFlight, most := 0, 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				conns[r.RemoteAddr] = true
				inFlight++
				most = max(most, inFlight)
				mu.Unlock()
				time.Sleep(time.Millisecond)
				mu.Lock()
				inFlight--
				mu.Unlock()
				io.WriteString(w, jsonData("006", "User cancelled message delivery", id1))
			}))
			defer srv.Close()
			c, err := New(WithBaseURL(srv.URL), WithToken(testToken), WithMaxConns(maxConns))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for w := 0; w < 2*maxConns; w++ {
				wg.Go(func() {
					for i := 0; i < 10; i++ {
						if _, err := stop(t, c, id1); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			if len(conns) > maxConns {
				t.Errorf("%d connections for %d calls at once, want at most %d", len(conns), 2*maxConns, maxConns)
			}
			if most > maxConns {
				t.Errorf("%d calls in flight, want at most %d", most, maxConns)
			}
		})
	}
}

func TestWithBaseURL_KeepsAnEscapedPrefix(t *testing.T) {
	c, err := New(WithToken(testToken), WithBaseURL("https://proxy.example/a%2Fb/"))
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != "https://proxy.example/a%2Fb" {
		t.Errorf("BaseURL() = %q", c.BaseURL())
	}
}

// TestClient_StopMessage_StillScheduled: a stop answered 011 is retried
// within the retry budget, settles when a retry takes, and otherwise ends
// as a *StatusError saying the stop did not take.
func TestClient_StopMessage_StillScheduled(t *testing.T) {
	for _, tc := range []struct {
		name      string
		scheduled int // answers of 011 before 006
		attempts  int
		settled   bool
	}{
		{"takes on the second try", 1, 2, true},
		{"takes on the last try", 3, 4, true},
		{"never takes", 100, 4, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				n := calls
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				if n <= tc.scheduled {
					io.WriteString(w, jsonData("011", "Message scheduled for later delivery", id1))
					return
				}
				io.WriteString(w, jsonData("006", "User cancelled message delivery", id1))
			}))
			defer srv.Close()
			c := newTestClient(t, srv)
			p := RetryPolicy{MaxRetries: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
			var res *Result
			attempts, err := p.Do(context.Background(), func(ctx context.Context) error {
				var err error
				res, err = stop(t, c, id1)
				return err
			})
			if attempts != tc.attempts {
				t.Errorf("%d attempts, want %d", attempts, tc.attempts)
			}
			if tc.settled {
				if err != nil || res.Outcome != outcome.Cancelled {
					t.Fatalf("got %+v, %v; want cancelled", res, err)
				}
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || !se.Scheduled() || !strings.HasPrefix(err.Error(), "still scheduled (status 011): the stop did not take") {
				t.Fatalf("got %+v, %v; want a *StatusError for 011", res, err)
			}
		})
	}
}
