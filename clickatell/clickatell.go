package clickatell

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/outcome"
)

// DefaultBaseURL is the API's address.
const DefaultBaseURL = "https://api.clickatell.com"

// MaxBodySize is the most of an answer's body the client reads. The API's
// answers are a few hundred bytes; anything longer is not one of them.
const MaxBodySize = 64 << 10

// Result is a settled answer about one message.
type Result struct {
	// ID is the apiMessageId asked about.
	ID string
	// Outcome classifies the answer.
	Outcome outcome.Outcome
	// Status is Clickatell's messageStatus ("006"); empty when the answer
	// was an error (a 404).
	Status string
	// Description is Clickatell's description of Status or of the error.
	Description string
	// Code is Clickatell's error code when the answer was an error that
	// settles the message ("161" with a 404); empty otherwise.
	Code string
	// HTTPStatus is the answer's HTTP status code.
	HTTPStatus int
}

// Format is the representation asked of the API. Answers are parsed in
// either format, whatever was asked.
type Format uint8

const (
	// JSON asks for application/json (the default).
	JSON Format = iota
	// XML asks for application/xml.
	XML
)

func (f Format) String() string {
	switch f {
	case JSON:
		return "json"
	case XML:
		return "xml"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// Option configures a Client.
type Option func(*Client) error

// Client talks to the API. It is safe for concurrent use.
//
// Its token is kept out of every string the package makes: errors,
// String, GoString and fmt verbs show "[REDACTED]" or nothing.
type Client struct {
	baseURL    string // no trailing slash
	msgURL     string // baseURL + "/rest/message/"
	token      string
	httpClient *http.Client
	userAgent  string
	format     Format
	timeout    time.Duration
	maxConns   int
	now        func() time.Time // reads Retry-After dates; tests replace it
	// watch is set when the transport is the package's own, whose
	// connections say whether the other end closed them.
	watch bool

	// Header values, built once and shared read-only by every request.
	hAuth, hAccept, hUA []string
}

// Header values that never change.
var hVersion = []string{"1"}

// New returns a Client; options are validated, and WithToken is required.
func New(opts ...Option) (*Client, error) {
	c := &Client{
		baseURL:   DefaultBaseURL,
		userAgent: "recall/" + version.Version,
		now:       time.Now,
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.token == "" {
		return nil, errors.New("clickatell: no API token: pass WithToken")
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{Transport: newTransport(c.maxConns, strings.HasPrefix(c.baseURL, "http://"))}
		c.watch = true
	} else {
		// A copy, so that the caller's client is left as it was, that
		// never follows redirects: Go would turn a redirected DELETE
		// into a GET (whose answer would read as a settled status) and
		// could carry the token to another host.
		hc := *c.httpClient
		c.httpClient = &hc
	}
	c.httpClient.CheckRedirect = noRedirects
	c.msgURL = c.baseURL + "/rest/message/"
	c.hAuth = []string{"Bearer " + c.token}
	c.hUA = []string{c.userAgent}
	if c.format == XML {
		c.hAccept = []string{"application/xml"}
	} else {
		c.hAccept = []string{"application/json"}
	}
	return c, nil
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// WithBaseURL sets the API's address (default DefaultBaseURL), e.g.
// "https://api.clickatell.com" or a simulator's "http://127.0.0.1:8080".
// Plain http:// is refused unless the host is loopback (127.0.0.0/8, ::1,
// localhost, *.localhost, in any case, with or without a final dot), since
// the token would cross the network in clear text. Such a host is never
// reached through a proxy (see NewTransport), and the default transport
// connects to it only at a loopback address, whatever its name resolves
// to.
// A path is kept as a prefix ("https://proxy.example/clickatell").
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := parseBaseURL(raw)
		if err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

func parseBaseURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	const like = "give one like https://api.clickatell.com"
	if s == "" {
		return "", &BaseURLError{Problem: like}
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the input, which is the caller's own text.
		return "", &BaseURLError{URL: truncate(s, 80), Problem: "is not a URL: " + like}
	}
	bad := func(problem string) (string, error) {
		return "", &BaseURLError{URL: truncate(u.Redacted(), 80), Problem: problem}
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("is refused: scheme must be https (or http for a loopback simulator), like https://api.clickatell.com")
	case u.Host == "" || u.Hostname() == "":
		return bad("has no host: " + like)
	case u.User != nil:
		return "", &BaseURLError{URL: truncate(u.Redacted(), 80), Problem: "must not hold a user name or password", UserInfo: true}
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return bad("must not have a query or fragment")
	case u.Opaque != "":
		return bad("is not a URL: " + like)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return bad(fmt.Sprintf("is refused: port %q is not a number from 1 to 65535", p))
		}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		return "", &BaseURLError{URL: truncate(u.Redacted(), 80), PlainHTTP: true,
			Problem: "the token would cross the network unencrypted; use https://, or http:// only to a loopback host (127.0.0.1, ::1, localhost)"}
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = strings.TrimRight(u.RawPath, "/")
	return strings.TrimRight(u.String(), "/"), nil
}

// isLoopback reports whether host is localhost or a loopback address.
// Names other than "localhost" are not resolved: what a name resolves to
// can change between the check and the call.
func isLoopback(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// WithToken sets the API token (required). It must be non-empty and hold
// no whitespace or control characters; the error never repeats it.
func WithToken(token string) Option {
	return func(c *Client) error {
		if token == "" || len(token) > MaxTokenLength {
			return &TokenError{Length: len(token)}
		}
		if i := strings.IndexFunc(token, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
			b := token[i]
			return &TokenError{Length: len(token), At: i + 1, Whitespace: b == ' ' || b == '\t' || b == '\n' || b == '\r'}
		}
		c.token = token
		return nil
	}
}

// WithHTTPClient sets the HTTP client (default: one with NewTransport).
// The client is copied, and the copy never follows redirects.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("clickatell: WithHTTPClient: nil *http.Client")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header (default "recall/" + version).
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(ua) == "" {
			return errors.New("clickatell: empty User-Agent")
		}
		if strings.ContainsFunc(ua, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return fmt.Errorf("clickatell: User-Agent %q holds a control character", truncate(ua, 80))
		}
		c.userAgent = ua
		return nil
	}
}

// WithFormat sets the representation asked for (default JSON). Answers in
// the other format are understood all the same.
func WithFormat(f Format) Option {
	return func(c *Client) error {
		if f != JSON && f != XML {
			return fmt.Errorf("clickatell: unknown format %v: use JSON or XML", f)
		}
		c.format = f
		return nil
	}
}

// WithTimeout bounds each request, from sending it to reading the whole
// answer (0, the default: no bound beyond the caller's context). A request
// that runs out of time fails with a *TransportError that Classify retries.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d < 0 {
			return fmt.Errorf("clickatell: negative timeout %v", d)
		}
		c.timeout = d
		return nil
	}
}

// WithMaxConns sizes the default transport's connection pool for n calls
// in flight at once (default DefaultMaxConns). It has no effect with
// WithHTTPClient, whose transport is the caller's.
func WithMaxConns(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return fmt.Errorf("clickatell: negative connection count %d", n)
		}
		c.maxConns = n
		return nil
	}
}

// BaseURL returns the API address the client calls.
func (c *Client) BaseURL() string { return c.baseURL }

// String describes the client without its token.
func (c *Client) String() string {
	if c == nil {
		return "clickatell.Client(nil)"
	}
	return fmt.Sprintf("clickatell.Client{%s, %s, token [REDACTED]}", c.baseURL, c.format)
}

// GoString is String: %#v must not print the token either.
func (c *Client) GoString() string { return c.String() }

// Format makes every fmt verb, on a Client or a pointer to one, print
// String, so that the token cannot leak through %v or %+v.
func (c Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// StopMessage sends DELETE /rest/message/{id}: it asks Clickatell to stop a
// scheduled message. A settled answer (cancelled, too late, not found, not
// delivered) is a Result; anything else is an error for Classify:
// *APIError, *DecodeError, *StatusError (011: the stop did not take, which
// Classify retries; or a status not in Clickatell's table),
// *TransportError, or the context's error when ctx ended.
func (c *Client) StopMessage(ctx context.Context, id string) (*Result, error) {
	return c.do(ctx, http.MethodDelete, id)
}

// validID accepts what could be an apiMessageId and is safe in a path:
// letters, digits, '-' and '_', at most 128 of them.
func validID(id string) error {
	if id == "" {
		return errors.New("clickatell: empty message ID")
	}
	if len(id) > 128 {
		return fmt.Errorf("clickatell: message ID %q is %d characters long; an apiMessageId is 32", truncate(safeText(id), 32), len(id))
	}
	for i := 0; i < len(id); i++ {
		b := id[i]
		if !('0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '-' || b == '_') {
			return fmt.Errorf("clickatell: message ID %q holds %q: an apiMessageId is 32 hexadecimal characters", truncate(safeText(id), 40), rune(b))
		}
	}
	return nil
}

var bufPool = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 1024)) }}

func (c *Client) do(ctx context.Context, method, id string) (*Result, error) {
	if err := validID(id); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s message %s: %w", method, id, err)
	}
	reqCtx := ctx
	if c.timeout > 0 {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var watch *connWatch
	traceCtx := reqCtx
	if c.watch {
		watch = new(connWatch)
		traceCtx = withConnWatch(reqCtx, watch)
	}
	req, err := http.NewRequestWithContext(traceCtx, method, c.msgURL+id, nil)
	if err != nil {
		return nil, c.redactErr(fmt.Errorf("%s message %s: %w", method, id, err))
	}
	req.Header = http.Header{
		"X-Version":     hVersion,
		"Authorization": c.hAuth,
		"Accept":        c.hAccept,
		"User-Agent":    c.hUA,
	}
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return nil, c.transportErr(ctx, reqCtx, watch, method, id, err)
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 2*MaxBodySize {
			bufPool.Put(buf)
		}
	}()
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxBodySize+1))
	resp.Body.Close()
	if err != nil && n <= MaxBodySize {
		return nil, c.transportErr(ctx, reqCtx, watch, method, id, err)
	}
	res, err := c.decode(resp.StatusCode, resp.Header, buf.Bytes(), id)
	if se, ok := err.(*StatusError); ok {
		se.Method = method
	}
	return res, err
}

// transportErr builds the error for a call that got no complete answer;
// watch, if not nil, knows the call's connection.
func (c *Client) transportErr(ctx, reqCtx context.Context, watch *connWatch, method, id string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		// The caller's context ended: its error, not the transport's.
		return fmt.Errorf("%s message %s: %w", method, id, ctxErr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// Its URL is ours; the cause is what matters.
		err = ue.Err
	}
	te := &TransportError{Method: method, ID: id, Err: err}
	if reqCtx.Err() != nil {
		te.Timeout, te.After = true, c.timeout
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		te.Timeout = true
	}
	te.Cert, te.Issuer, te.NotAfter = certProblem(err, c.now())
	var (
		pe *ProxyError
		oe *net.OpError
	)
	te.Proxy = errors.As(err, &pe) || errors.As(err, &oe) && oe.Op == "proxyconnect"
	te.Closed = !te.Timeout && te.Cert == 0 && !te.Proxy && watch != nil && watch.peerClosed()
	return c.redactErr(te)
}

// redactErr makes sure err's message does not hold the token. The token is
// only ever sent in a header, so this is a guard, not an expected case.
func (c *Client) redactErr(err error) error {
	if err == nil || c.token == "" || !strings.Contains(err.Error(), c.token) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), c.token, redacted), err: err}
}

const redacted = "[REDACTED]"

// redactedError is err with the token cut from its message. Unwrap keeps
// errors.Is and errors.As working (timeouts, resets); the wrapped error's
// own message is never used by this package.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
