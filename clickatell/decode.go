package clickatell

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recallhq/recall/outcome"
)

// answer is what a body said, in either format.
type answer struct {
	hasData     bool
	status      string // messageStatus
	description string
	messageID   string // apiMessageId

	hasError bool
	code     string
	errDesc  string
}

// decode turns an HTTP answer into a Result or an error; see the package
// documentation for the table it implements.
func (c *Client) decode(status int, h http.Header, body []byte, id string) (*Result, error) {
	var ra time.Duration
	if v := h["Retry-After"]; len(v) > 0 {
		ra = parseRetryAfter(v[0], c.now())
	}
	var ct string
	if v := h["Content-Type"]; len(v) > 0 {
		ct = v[0]
	}
	var loc string
	if status >= 300 && status < 400 {
		loc = h.Get("Location")
	}
	return interpret(status, ct, loc, ra, body, id, c.token)
}

// interpret is decode without the client: status, headers and body in,
// Result or error out. The fuzz test drives it directly.
func interpret(status int, contentType, location string, ra time.Duration, body []byte, id, token string) (*Result, error) {
	a, derr := parseBody(status, contentType, body, token)
	if derr != nil {
		if status >= 200 && status < 300 {
			return nil, derr
		}
		// A non-answer with an error status: the status decides (a 502
		// page from a proxy is retried), and the body never settles a
		// message, not even with a 404: that page may come from a proxy
		// or a wrong endpoint, not from Clickatell.
		return nil, &APIError{HTTPStatus: status, RetryAfter: ra, Err: derr}
	}

	if a.hasError {
		ae := &APIError{HTTPStatus: status, Code: a.code, Description: a.errDesc, RetryAfter: ra}
		if d := ae.Disposition(); d == Stop || d == Retry {
			return nil, ae
		}
		if a.hasData {
			// Data beside the error (a status, say 011, beside 161) is
			// two answers in one: neither says reliably what happened.
			return nil, &DecodeError{HTTPStatus: status, ContentType: contentType,
				Reason: "the answer holds both data and an error", Excerpt: excerpt(body, token)}
		}
		// Only Clickatell's own "unknown message" error settles: a 404
		// with another code, or none ({"error":{"code":"404"}} from a
		// gateway), says nothing about the message.
		if unknownMessageCode(a.code) && (settlingStatus(status) || status >= 400 && status < 500) {
			return &Result{ID: id, Outcome: outcome.NotFound, Code: a.code, Description: a.errDesc, HTTPStatus: status}, nil
		}
		return nil, ae
	}

	if a.hasData {
		if settlingStatus(status) {
			return dataResult(status, contentType, a, id)
		}
		if status >= 200 && status < 300 {
			return nil, &DecodeError{HTTPStatus: status, ContentType: contentType,
				Reason: "a success status Clickatell does not answer with (only 200, 202 and 207 settle a message)"}
		}
		// A status in an error answer (a 404 with data included) is not
		// one Clickatell gives: it settles nothing.
		return nil, &APIError{HTTPStatus: status, Description: a.description, RetryAfter: ra}
	}

	// No body at all: a 404 without Clickatell's error may be any
	// gateway's, so it settles nothing either.
	switch {
	case status >= 200 && status < 300:
		return nil, &DecodeError{HTTPStatus: status, ContentType: contentType, Reason: "empty answer where a message status was due"}
	case status >= 300 && status < 400:
		desc := "unexpected redirect, not followed: check the API base URL"
		if location != "" {
			desc = fmt.Sprintf("unexpected redirect to %q, not followed: check the API base URL", truncate(redact(safeText(location), token), 120))
		}
		return nil, &APIError{HTTPStatus: status, Description: desc}
	}
	return nil, &APIError{HTTPStatus: status, RetryAfter: ra}
}

// settlingStatus reports whether an answer with this HTTP status can settle
// a message: the success statuses Clickatell documents (200, 202, 207).
// Another 2xx is not its answer (203: a transforming proxy's copy; 206:
// part of a body; 204, 205: no body).
func settlingStatus(status int) bool {
	return status == http.StatusOK || status == http.StatusAccepted || status == http.StatusMultiStatus
}

// dataResult settles a 2xx answer with a data body.
func dataResult(status int, contentType string, a answer, id string) (*Result, error) {
	st, ok := normalizeStatus(a.status)
	if !ok {
		reason := "no messageStatus in the answer's data"
		if a.status != "" {
			reason = fmt.Sprintf("messageStatus %q is not a status code", truncate(a.status, 20))
		}
		return nil, &DecodeError{HTTPStatus: status, ContentType: contentType, Reason: reason}
	}
	if a.messageID != "" && !strings.EqualFold(a.messageID, id) {
		// A caching proxy, or an answer crossed with another: it says
		// nothing reliable about this message.
		return nil, &DecodeError{HTTPStatus: status, ContentType: contentType,
			Reason: fmt.Sprintf("the answer is about message %q, not %s", truncate(a.messageID, 40), id)}
	}
	o := statusOutcome(st)
	if o == 0 {
		// 011 (the stop did not take) or a status nobody told us about:
		// never guessed, never settled.
		return nil, &StatusError{HTTPStatus: status, Status: st, Description: a.description}
	}
	return &Result{ID: id, Outcome: o, Status: st, Description: a.description, HTTPStatus: status}, nil
}

// statusOutcome maps a messageStatus to the outcome it settles, by the
// table in the package documentation; 0 for 011 (still scheduled) and for
// statuses not in Clickatell's table.
func statusOutcome(st string) outcome.Outcome {
	switch st {
	case "006":
		return outcome.Cancelled
	case "002", "003", "004", "008":
		return outcome.TooLate
	case "005", "007", "009", "010", "012", "013", "014":
		return outcome.NotDelivered
	case "001":
		return outcome.NotFound
	}
	return 0
}

// normalizeStatus accepts one to three digits and zero-pads them ("6" and
// 6 are "006").
func normalizeStatus(s string) (string, bool) {
	if len(s) > 3 || !allDigits(s) {
		return "", false
	}
	return padCode(s), true
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}

// padCode zero-pads a code of digits to three ("6" is "006").
func padCode(s string) string {
	if len(s) < 3 {
		return strings.Repeat("0", 3-len(s)) + s
	}
	return s
}

// normalizeCode tidies an error code: trimmed, digits zero-padded to three.
func normalizeCode(s string) string {
	s = strings.TrimSpace(s)
	if len(s) == 0 || len(s) > 16 {
		return truncate(s, 16)
	}
	if !allDigits(s) {
		return safeText(s)
	}
	return padCode(s)
}

// parseBody reads a body in whichever format it is in. It sniffs the first
// byte rather than trusting Content-Type, which proxies and gateways get
// wrong; Content-Type only helps to recognise an HTML page.
func parseBody(status int, contentType string, body []byte, token string) (answer, *DecodeError) {
	var a answer
	if len(body) > MaxBodySize {
		return a, &DecodeError{HTTPStatus: status, ContentType: contentType,
			Reason: fmt.Sprintf("answer longer than %d KiB", MaxBodySize>>10), Excerpt: excerpt(body, token)}
	}
	b := bytes.TrimPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("\xef\xbb\xbf"))
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return a, nil
	}
	if looksHTML(contentType, b) {
		return a, &DecodeError{HTTPStatus: status, ContentType: contentType, HTML: true, Excerpt: htmlTitle(b, token)}
	}
	var err error
	var format string
	switch b[0] {
	case '{':
		format = "JSON"
		err = parseJSON(b, &a)
	case '<':
		format = "XML"
		err = parseXML(b, &a)
	default:
		return a, &DecodeError{HTTPStatus: status, ContentType: contentType,
			Reason: "the body is neither JSON nor XML", Excerpt: excerpt(body, token)}
	}
	if err != nil {
		return a, &DecodeError{HTTPStatus: status, ContentType: contentType,
			Reason: "malformed " + format + ": " + truncate(redact(safeText(err.Error()), token), 120), Excerpt: excerpt(body, token), Err: err}
	}
	if !a.hasData && !a.hasError {
		return a, &DecodeError{HTTPStatus: status, ContentType: contentType,
			Reason: format + " answer with neither data nor error", Excerpt: excerpt(body, token)}
	}
	a.status = strings.TrimSpace(a.status)
	a.description = cleanText(a.description, token)
	a.messageID = truncate(safeText(strings.TrimSpace(a.messageID)), 64)
	a.code = redact(normalizeCode(a.code), token)
	a.errDesc = cleanText(a.errDesc, token)
	if a.hasError && a.code == "" && a.errDesc == "" {
		return a, &DecodeError{HTTPStatus: status, ContentType: contentType,
			Reason: format + " error answer with neither code nor description", Excerpt: excerpt(body, token)}
	}
	return a, nil
}

// cleanText makes an API description fit for a terminal and a state file.
func cleanText(s, token string) string {
	return truncate(redact(safeText(s), token), 200)
}

// jsonCode is a code given as a string ("006") or, leniently, a number (6).
type jsonCode string

func (c *jsonCode) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = jsonCode(s)
	case string(b) == "null":
	default:
		n, err := strconv.ParseUint(string(b), 10, 32)
		if err != nil {
			return fmt.Errorf("code %s is neither a string nor a whole number", truncate(string(b), 20))
		}
		*c = jsonCode(strconv.FormatUint(n, 10))
	}
	return nil
}

type jsonAnswer struct {
	Data *struct {
		MessageStatus jsonCode `json:"messageStatus"`
		Description   string   `json:"description"`
		APIMessageID  string   `json:"apiMessageId"`
	} `json:"data"`
	Error *struct {
		Code        jsonCode `json:"code"`
		Description string   `json:"description"`
	} `json:"error"`
}

func parseJSON(b []byte, a *answer) error {
	var j jsonAnswer
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if name := duplicateMember(b); name != "" {
		// encoding/json keeps the last of two values: an answer saying
		// 011 and then 006 would read as cancelled.
		return fmt.Errorf("member %q given twice", name)
	}
	if j.Data != nil {
		a.hasData = true
		a.status, a.description, a.messageID = string(j.Data.MessageStatus), j.Data.Description, j.Data.APIMessageID
	}
	if j.Error != nil {
		a.hasError = true
		a.code, a.errDesc = string(j.Error.Code), j.Error.Description
	}
	return nil
}

// xmlAnswer takes every element recall reads as a list, so that one given
// twice is found rather than the last one taken (encoding/xml would keep
// the last of two <messageStatus> elements, or merge two <data>).
type xmlAnswer struct {
	Data []struct {
		MessageStatus []string `xml:"messageStatus"`
		Description   []string `xml:"description"`
		APIMessageID  []string `xml:"apiMessageId"`
	} `xml:"data"`
	Error []struct {
		Code        []string `xml:"code"`
		Description []string `xml:"description"`
	} `xml:"error"`
}

// one returns the only element of list, or an error naming the element
// given twice.
func one(list []string, name string) (string, error) {
	switch len(list) {
	case 0:
		return "", nil
	case 1:
		return list[0], nil
	}
	return "", fmt.Errorf("element <%s> given twice", name)
}

func parseXML(b []byte, a *answer) error {
	var x xmlAnswer
	if err := xml.Unmarshal(b, &x); err != nil {
		return err
	}
	if len(x.Data) > 1 {
		return errors.New("element <data> given twice")
	}
	if len(x.Error) > 1 {
		return errors.New("element <error> given twice")
	}
	// take sets dst to the only element of list, until an error.
	var err error
	take := func(dst *string, list []string, name string) {
		if err == nil {
			*dst, err = one(list, name)
		}
	}
	if len(x.Data) == 1 {
		d := x.Data[0]
		a.hasData = true
		take(&a.status, d.MessageStatus, "messageStatus")
		take(&a.description, d.Description, "description")
		take(&a.messageID, d.APIMessageID, "apiMessageId")
	}
	if len(x.Error) == 1 {
		e := x.Error[0]
		a.hasError = true
		take(&a.code, e.Code, "code")
		take(&a.errDesc, e.Description, "description")
	}
	return err
}

// Members of the answer's objects that recall reads, by the names
// encoding/json matches to jsonAnswer's fields.
var (
	answerMembers = []string{"data", "error"}
	dataMembers   = []string{"messageStatus", "description", "apiMessageId"}
	errorMembers  = []string{"code", "description"}
)

// duplicateMember returns the name of a member that recall reads and that
// the JSON document b (already decoded without error) gives twice in one
// object, comparing names as encoding/json matches them to fields (without
// regard to case, bytes.EqualFold); "" when there is none.
func duplicateMember(b []byte) string {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return ""
	}
	return duplicateIn(dec, answerMembers, true)
}

// duplicateIn reads the members of an object whose '{' dec has read, up to
// its '}', and returns the first of names given twice; in the answer's top
// object (top), the objects of "data" and "error" are searched in turn.
func duplicateIn(dec *json.Decoder, names []string, top bool) string {
	seen := make([]bool, len(names))
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := t.(string)
		i := -1
		for j, n := range names {
			if strings.EqualFold(key, n) {
				i = j
				break
			}
		}
		if i >= 0 {
			if seen[i] {
				return names[i]
			}
			seen[i] = true
		}
		var inner []string
		if top && i >= 0 {
			inner = dataMembers
			if names[i] == "error" {
				inner = errorMembers
			}
		}
		if inner == nil {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return ""
			}
			continue
		}
		t, err = dec.Token()
		if err != nil {
			return ""
		}
		if t == json.Delim('{') {
			if name := duplicateIn(dec, inner, false); name != "" {
				return name
			}
			if _, err := dec.Token(); err != nil { // '}'
				return ""
			}
		} else if _, ok := t.(json.Delim); ok {
			return "" // an array: json.Unmarshal refused it already
		}
	}
	return ""
}

// looksHTML reports whether a body is an HTML page rather than an answer.
func looksHTML(contentType string, b []byte) bool {
	if b[0] != '<' {
		return false
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
		return true
	}
	head := b[:min(len(b), 512)]
	for _, p := range []string{"<!doctype html", "<html", "<head", "<body", "<title", "<h1", "<center"} {
		if len(head) >= len(p) && strings.EqualFold(string(head[:len(p)]), p) {
			return true
		}
	}
	return bytes.Contains(bytes.ToLower(head), []byte("<html"))
}

// htmlTitle returns an HTML page's title, or failing that its first
// text, or failing that its start.
func htmlTitle(b []byte, token string) string {
	lower := bytes.ToLower(b[:min(len(b), 4096)])
	if i := bytes.Index(lower, []byte("<title")); i >= 0 {
		if j := bytes.IndexByte(lower[i:], '>'); j >= 0 {
			start := i + j + 1
			if k := bytes.Index(lower[start:], []byte("</title")); k >= 0 {
				t := html.UnescapeString(string(b[start : start+k]))
				if t = truncate(redact(safeText(t), token), 80); t != "" {
					return t
				}
			}
		}
	}
	if t := htmlText(b[:min(len(b), 4096)]); t != "" {
		return truncate(redact(safeText(html.UnescapeString(t)), token), 80)
	}
	return excerpt(b, token)
}

// htmlText returns the start of the text of an HTML page: what is between
// its tags, without scripts, styles and comments, at most a few hundred
// bytes.
func htmlText(b []byte) string {
	var out []byte
	for len(b) > 0 && len(out) < 320 {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			out = append(append(out, b...), ' ')
			break
		}
		out = append(append(out, b[:i]...), ' ')
		b = b[i:]
		skipTo := ">"
		lower := bytes.ToLower(b[:min(len(b), 8)])
		switch {
		case bytes.HasPrefix(lower, []byte("<!--")):
			skipTo = "-->"
		case bytes.HasPrefix(lower, []byte("<script")):
			skipTo = "</script>"
		case bytes.HasPrefix(lower, []byte("<style")):
			skipTo = "</style>"
		}
		j := bytes.Index(bytes.ToLower(b), []byte(skipTo))
		if j < 0 {
			break
		}
		b = b[j+len(skipTo):]
	}
	return strings.TrimSpace(string(out))
}

// excerpt is the start of a body, safe to print: the token cut out first
// (so that no cut can leave part of it), then control characters
// replaced, whitespace collapsed, and at most 80 characters kept.
func excerpt(b []byte, token string) string {
	s := string(b[:min(len(b), 4096)])
	return truncate(redact(safeText(s), token), 80)
}

// redact cuts the token, and anything that follows "Bearer ", out of s.
func redact(s, token string) string {
	if token != "" {
		s = strings.ReplaceAll(s, token, redacted)
	}
	for i := 0; i < len(s); {
		j := indexFold(s[i:], "bearer ")
		if j < 0 {
			break
		}
		start := i + j + len("bearer ")
		end := start
		for end < len(s) && s[end] != ' ' && s[end] != '"' && s[end] != '<' && s[end] != ',' {
			end++
		}
		if end > start && s[start:end] != redacted {
			s = s[:start] + redacted + s[end:]
			end = start + len(redacted)
		}
		i = end
	}
	return s
}

func indexFold(s, sub string) int {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return i
		}
	}
	return -1
}

// safeText replaces control characters and invalid UTF-8, and collapses
// runs of whitespace, so that outside text cannot upset a terminal or a
// one-line-per-message file.
func safeText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' || c >= 0x7f || (c == ' ' && (i == 0 || i == len(s)-1 || s[i+1] == ' ')) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			r = '?'
		case unicode.IsSpace(r):
			space = true
			continue
		case !unicode.IsPrint(r):
			r = '?'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// truncate cuts s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n-1 {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// maxRetryAfter bounds a parsed Retry-After; RetryPolicy caps it further.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delta-seconds, or an HTTP
// date relative to now. Anything else, or a time already past, is 0.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if v[0] >= '0' && v[0] <= '9' {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil && !(f > 0 && math.IsInf(f, 1)) || f < 0 || math.IsNaN(f) {
			return 0
		}
		if f >= maxRetryAfter.Seconds() {
			return maxRetryAfter
		}
		return time.Duration(f * float64(time.Second))
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now)
	switch {
	case d <= 0:
		return 0
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}
