package clickatell

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/outcome"
)

// FuzzDecode feeds the answer decoder arbitrary statuses, content types
// and bodies: it must never panic, must give exactly one of a Result and
// an error, and what it gives must agree with the documented table.
func FuzzDecode(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", jsonData("006", "User cancelled message delivery", id1)},
		{200, "application/xml", xmlData("006", "User cancelled message delivery", id1)},
		{200, "application/json", jsonData("001", "Message unknown", id1)},
		{200, "application/xml", xmlData("004", "Received by recipient", id1)},
		{200, "application/json", `{"data":{"messageStatus":6}}`},
		{202, "application/json", jsonData("011", "Scheduled", id1)},
		{404, "application/json", jsonErr("161", "Resource does not exist")},
		{404, "application/xml", xmlErr("103", "Unknown API message ID")},
		{404, "", ""},
		{400, "application/json", jsonErr("104", "Unknown client message ID")},
		{400, "application/xml", xmlErr("165", "Invalid or no version header")},
		{401, "application/json", jsonErr("001", "Authentication failed")},
		{402, "application/json", jsonErr("301", "No credit left")},
		{429, "application/json", jsonErr("429", "Too many requests")},
		{503, "application/xml", xmlErr("901", "Internal error, please retry")},
		{502, "text/html", "<html><head><title>502 Bad Gateway</title></head></html>"},
		{200, "application/json", `{"data":{"messageStatus":"006","descrip`},
		{200, "text/plain", "Bearer " + testToken},
		{301, "", ""},
		{200, "application/json", `{"error":{"code":7}}`},
		{200, "", "\ufeff  <response><data><messageStatus> 6 </messageStatus></data></response>"},
		{200, "application/json", jsonData("010", "Message expired", id1)},
		{200, "application/json", jsonData("015", "Something new", id1)},
		{200, "application/json", `{"data":{"messageStatus":"006","charge":0.8,"apiId":"x","to":"27999"}}`},
		{404, "application/json", `{"error":{"code":"404"}}`},
		{404, "application/json", `{"error":{"code":161,"description":"Resource does not exist"}}`},
		{404, "application/json", `{"error":{"description":"Invalid or missing parameter: apiMessageId"}}`},
		{404, "application/json", jsonData("001", "Message unknown", id1)},
		{404, "text/plain", "404 page not found\n"},
		{401, "", ""},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		if status < 100 || status > 999 {
			status = 100 + (status%900+900)%900
		}
		res, err := interpret(status, ct, "https://x.example/"+testToken, 2*time.Second, body, id1, testToken)
		res2, err2 := interpret(status, ct, "https://x.example/"+testToken, 2*time.Second, body, id1, testToken)
		if fmt.Sprint(res, err) != fmt.Sprint(res2, err2) {
			t.Fatalf("not deterministic: %v %v / %v %v", res, err, res2, err2)
		}
		if (res == nil) == (err == nil) {
			t.Fatalf("got result %+v and error %v", res, err)
		}
		for _, s := range []string{fmt.Sprintf("%+v", res), fmt.Sprint(err)} {
			if strings.Contains(s, testToken) {
				t.Fatalf("token leaked: %s", s)
			}
			if strings.ContainsAny(s, "\x00\x1b\r\n") {
				t.Fatalf("control characters: %q", s)
			}
		}
		ok2xx := status >= 200 && status < 300
		if res != nil {
			if res.ID != id1 || res.HTTPStatus != status {
				t.Fatalf("result %+v for status %d", res, status)
			}
			switch res.Outcome {
			case outcome.Cancelled:
				if !ok2xx || res.Status != "006" {
					t.Fatalf("cancelled from %d %+v", status, res)
				}
			case outcome.TooLate:
				if !ok2xx || !strings.Contains(" 002 003 004 008 ", " "+res.Status+" ") {
					t.Fatalf("too late from %d %+v", status, res)
				}
			case outcome.NotDelivered:
				if !ok2xx || !strings.Contains(" 005 007 009 010 012 013 014 ", " "+res.Status+" ") {
					t.Fatalf("not delivered from %d %+v", status, res)
				}
			case outcome.NotFound:
				// Only status 001 or Clickatell's own "unknown message"
				// error settles as not found; a bare 404 never does.
				if !(ok2xx && res.Status == "001") && !unknownMessageCode(res.Code) {
					t.Fatalf("not found from %d %+v", status, res)
				}
			default:
				t.Fatalf("outcome %v", res.Outcome)
			}
			return
		}
		d := Classify(err)
		switch {
		case d != Retry && d != GiveUp && d != Stop:
			t.Fatalf("Classify(%v) = %v", err, d)
		case (status == 401 || status == 402) && d != Stop:
			t.Fatalf("%d classified %v: %v", status, d, err)
		case ok2xx && d == Retry && !strings.Contains(err.Error(), "error 901") && !strings.Contains(err.Error(), "status 011"):
			t.Fatalf("a 2xx answer retried: %v", err)
		case (status == 429 || status >= 500 && status != 501 && status != 505) && d == GiveUp:
			t.Fatalf("%d given up: %v", status, err)
		}
	})
}
