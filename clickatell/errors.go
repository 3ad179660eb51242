package clickatell

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/recallhq/recall/internal/enum"
)

// Disposition tells a caller what to do after an error.
type Disposition uint8

const (
	// Retry: a transient failure (429, 5xx, timeout, dropped connection).
	Retry Disposition = iota + 1
	// GiveUp: this message cannot be settled in this run (other 4xx,
	// malformed answer); try it again next run.
	GiveUp
	// Stop: the whole run must stop (401, 402; errors 001, 007, 165, 166,
	// 167, 301): every further call would get the same answer.
	Stop
)

var dispositionNames = [...]string{Retry: "retry", GiveUp: "give_up", Stop: "stop"}

func (d Disposition) String() string { return enum.Name(dispositionNames[:], d, "Disposition") }

// APIError is an error answer from the API: an error body, or an HTTP
// status that settles nothing (429, 5xx, 401, other 4xx, 3xx).
type APIError struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// Code is Clickatell's error code ("001"), if the body had one.
	Code string
	// Description is Clickatell's description, if any.
	Description string
	// RetryAfter is the Retry-After header's delay; 0 if absent.
	RetryAfter time.Duration
	// Err, when the body was not an API answer (an HTML page from a proxy,
	// garbage, too long), is the *DecodeError saying so.
	Err error
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("HTTP ")
	writeStatus(&b, e.HTTPStatus)
	if e.Code != "" {
		b.WriteString(", error ")
		b.WriteString(e.Code)
	}
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	var de *DecodeError
	if e.Err != nil && errors.As(e.Err, &de) {
		b.WriteString(": ")
		b.WriteString(de.detail())
	}
	if e.HTTPStatus == http.StatusNotFound && e.Disposition() == GiveUp && (de == nil || !de.HTML) {
		// An HTML page says who answered itself.
		b.WriteString("; not Clickatell's answer about the message (no error 161, 103 or 104), so nothing is recorded: a proxy or a wrong endpoint may have answered")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (Retry-After %v)", e.RetryAfter)
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.Err }

// Disposition tells what to do after this answer; Classify uses it.
func (e *APIError) Disposition() Disposition {
	switch {
	case e.HTTPStatus == http.StatusUnauthorized, e.HTTPStatus == http.StatusPaymentRequired:
		return Stop
	case stopCodes(e.Code):
		return Stop
	case e.Code == "901":
		return Retry
	case e.HTTPStatus == http.StatusTooManyRequests, e.HTTPStatus == http.StatusRequestTimeout:
		return Retry
	case e.HTTPStatus >= 500 && e.HTTPStatus != http.StatusNotImplemented && e.HTTPStatus != http.StatusHTTPVersionNotSupported:
		return Retry
	}
	return GiveUp
}

// stopCodes are the error codes that no retry and no other message can
// get past: the account or the request's headers are refused.
//
//	001 Authentication failed          007 IP lockdown violation
//	165 Invalid or no version header   166 Invalid accept header
//	167 Invalid or no content type     301 No credit left
func stopCodes(code string) bool {
	switch code {
	case "001", "007", "165", "166", "167", "301":
		return true
	}
	return false
}

// unknownMessageCodes are the error codes that say the message does not
// exist: 103 and 104 (unknown API / client message ID, older lists) and
// 161 (resource does not exist).
func unknownMessageCode(code string) bool {
	switch code {
	case "103", "104", "161":
		return true
	}
	return false
}

func writeStatus(b *strings.Builder, status int) {
	fmt.Fprintf(b, "%d", status)
	if t := http.StatusText(status); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
}

// DecodeError is an answer whose body is not one the API gives: malformed
// or truncated JSON or XML, an HTML page from a proxy, an empty body where
// one was due, or a body over MaxBodySize. Its excerpt is short and safe to
// print: control characters replaced, the token cut out.
type DecodeError struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// ContentType is the answer's Content-Type header.
	ContentType string
	// Reason says what is wrong, e.g. "unexpected end of JSON input".
	Reason string
	// Excerpt is the start of the body (or an HTML page's title), at most
	// 80 characters, safe to print.
	Excerpt string
	// HTML is set when the body was an HTML page.
	HTML bool
	// Err is the parser's error, if any.
	Err error
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	if e.HTML {
		// detail says "got an HTML page, not an API answer" itself.
		b.WriteString("HTTP ")
		writeStatus(&b, e.HTTPStatus)
		b.WriteString(": ")
	} else {
		b.WriteString("not an API answer (HTTP ")
		writeStatus(&b, e.HTTPStatus)
		b.WriteString("): ")
	}
	b.WriteString(e.detail())
	return b.String()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// detail is the message without the HTTP status.
func (e *DecodeError) detail() string {
	var b strings.Builder
	if e.HTML {
		b.WriteString("got an HTML page, not an API answer")
		if e.Excerpt != "" {
			fmt.Fprintf(&b, " (title %q)", e.Excerpt)
		}
		b.WriteString("; a proxy, a load balancer or a wrong endpoint answered instead of Clickatell's API")
		return b.String()
	}
	b.WriteString(e.Reason)
	if e.ContentType != "" {
		fmt.Fprintf(&b, " (Content-Type %q)", truncate(safeText(e.ContentType), 60))
	}
	if e.Excerpt != "" {
		fmt.Fprintf(&b, "; the body starts %q", e.Excerpt)
	}
	return b.String()
}

// StatusScheduled is messageStatus 011, "Message scheduled for later
// delivery".
const StatusScheduled = "011"

// StatusError is a 2xx answer whose messageStatus settles nothing: 011
// (StatusScheduled: after a stop, the stop did not take) or a status that
// is not in Clickatell's table, which is never guessed at.
type StatusError struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// Status is the messageStatus, zero-padded ("011", "015").
	Status string
	// Description is Clickatell's description of Status, if any.
	Description string
	// Method is the call's HTTP method: DELETE (StopMessage) or GET
	// (MessageStatus).
	Method string
}

func (e *StatusError) Error() string {
	msg := "unknown message status " + e.Status + ": not one of Clickatell's documented statuses, so nothing is recorded"
	switch {
	case e.Scheduled() && e.Method == http.MethodGet:
		msg = "still scheduled (status 011)"
	case e.Scheduled():
		msg = "still scheduled (status 011): the stop did not take"
	}
	if e.Description != "" {
		msg += fmt.Sprintf(" (Clickatell says %q)", e.Description)
	}
	return msg
}

// Scheduled reports whether the message is still scheduled (status 011).
func (e *StatusError) Scheduled() bool { return e.Status == StatusScheduled }

// Disposition is Retry for 011 after a stop, which may take on a second
// try, and GiveUp otherwise: a status read (GET) or a status nobody knows
// would only be repeated.
func (e *StatusError) Disposition() Disposition {
	if e.Scheduled() && e.Method != http.MethodGet {
		return Retry
	}
	return GiveUp
}

// TransportError is a call that got no complete answer: the connection
// could not be made, was cut, or the request's timeout passed.
//
// Its fields say what is known about the failure, for a caller to branch
// on and to advise about; its message states them without advice.
type TransportError struct {
	// Method and ID say which call failed.
	Method, ID string
	// Timeout is set when the call ran out of time.
	Timeout bool
	// After is the client's per-request timeout that passed (0: the
	// network's own timeout).
	After time.Duration
	// Closed is set when the other end closed or reset the connection
	// before the whole answer arrived, even where Go reports what it had
	// read so far as malformed ("malformed MIME header"): a cut
	// connection, not a server's bad answer. Such an error is
	// io.ErrUnexpectedEOF for errors.Is.
	Closed bool
	// Proxy is set when the failure was the proxy's (from HTTPS_PROXY,
	// HTTP_PROXY): it refused the tunnel (a *ProxyError in Err) or could
	// not be reached.
	Proxy bool
	// Cert says what was wrong with the server's TLS certificate, if that
	// is why the call failed.
	Cert CertProblem
	// Issuer is the distinguished name of the issuer of the certificate
	// that failed verification ("CN=Example CA,O=Example"), when Cert is
	// set.
	Issuer string
	// NotAfter is when that certificate expired, when Cert is
	// CertExpired.
	NotAfter time.Time
	// Err is the cause.
	Err error
}

// CertProblem is why a server's TLS certificate was refused.
type CertProblem uint8

const (
	// CertUntrusted: signed by an authority this machine does not trust
	// (a private or corporate CA, a self-signed certificate).
	CertUntrusted CertProblem = iota + 1
	// CertExpired: its validity ended (NotAfter).
	CertExpired
	// CertNotYetValid: its validity has not begun, or the clock is wrong.
	CertNotYetValid
	// CertHostname: issued for another name than the endpoint's host.
	CertHostname
	// CertInvalid: refused for another reason.
	CertInvalid
)

func (p CertProblem) String() string {
	switch p {
	case 0:
		return "none"
	case CertUntrusted:
		return "untrusted"
	case CertExpired:
		return "expired"
	case CertNotYetValid:
		return "not_yet_valid"
	case CertHostname:
		return "hostname"
	case CertInvalid:
		return "invalid"
	}
	return fmt.Sprintf("CertProblem(%d)", uint8(p))
}

func (e *TransportError) Error() string {
	return e.Method + " message " + e.ID + ": " + e.Reason()
}

// Reason is the message without the method and the message ID: the same
// for every call that failed the same way.
func (e *TransportError) Reason() string {
	switch {
	case e.Timeout && e.After > 0:
		return fmt.Sprintf("no answer within %v", e.After)
	case e.Cert == CertExpired && !e.NotAfter.IsZero():
		msg := "the server's TLS certificate expired at " + e.NotAfter.UTC().Format(time.RFC3339)
		if e.Issuer != "" {
			msg += fmt.Sprintf(" (issuer %q)", e.Issuer)
		}
		return msg
	case e.Cert != 0 && e.Issuer != "":
		return fmt.Sprintf("%v (issuer %q)", e.Err, e.Issuer)
	case e.Closed || errors.Is(e.Err, io.ErrUnexpectedEOF) || errors.Is(e.Err, io.EOF):
		return fmt.Sprintf("connection closed before the whole answer arrived: %v", e.Err)
	}
	return e.Err.Error()
}

func (e *TransportError) Unwrap() error { return e.Err }

// Is makes a connection cut short (Closed) io.ErrUnexpectedEOF, whatever
// Go made of the bytes that did arrive.
func (e *TransportError) Is(target error) bool {
	return e.Closed && target == io.ErrUnexpectedEOF
}

// Disposition tells what to do after this failure: Retry, except for
// failures that a retry cannot mend (an untrusted TLS certificate, a
// server that does not speak TLS, a request Go refuses to send, a proxy
// that forbids the tunnel).
func (e *TransportError) Disposition() Disposition {
	if e.Timeout {
		return Retry
	}
	if permanentTransport(e.Err) {
		return GiveUp
	}
	return Retry
}

// ProxyError is a proxy's refusal to open a tunnel (CONNECT) to an
// https:// endpoint: its answer to CONNECT was not 200.
type ProxyError struct {
	// Proxy is the proxy's URL, without its password.
	Proxy string
	// Target is the host:port the tunnel was asked for.
	Target string
	// HTTPStatus is the proxy's answer.
	HTTPStatus int
}

func (e *ProxyError) Error() string {
	var b strings.Builder
	b.WriteString("the proxy")
	if e.Proxy != "" {
		b.WriteString(" ")
		b.WriteString(e.Proxy)
	}
	fmt.Fprintf(&b, " refused to open a tunnel (CONNECT) to %s: HTTP ", e.Target)
	writeStatus(&b, e.HTTPStatus)
	return b.String()
}

// NotLoopbackError is a plain http:// base URL's host, accepted as
// loopback by its name ("sim.localhost"), that resolved to an address that
// is not: the token would cross the network in clear text, so no
// connection is made.
type NotLoopbackError struct {
	// Addr is the address the host resolved to.
	Addr string
}

func (e *NotLoopbackError) Error() string {
	return "refusing to connect to " + e.Addr + ": plain http:// is allowed only to loopback, and the endpoint's host resolved to an address that is not"
}

// certProblem reads what a TLS verification error says about the
// certificate.
func certProblem(err error, now time.Time) (p CertProblem, issuer string, notAfter time.Time) {
	var (
		unknownAuth x509.UnknownAuthorityError
		hostname    x509.HostnameError
		invalid     x509.CertificateInvalidError
	)
	var cert *x509.Certificate
	switch {
	case errors.As(err, &unknownAuth):
		p, cert = CertUntrusted, unknownAuth.Cert
	case errors.As(err, &invalid):
		p, cert = CertInvalid, invalid.Cert
		if invalid.Reason == x509.Expired && cert != nil {
			p = CertNotYetValid
			if now.After(cert.NotAfter) {
				p, notAfter = CertExpired, cert.NotAfter
			}
		}
	case errors.As(err, &hostname):
		p, cert = CertHostname, hostname.Certificate
	default:
		var verification *tls.CertificateVerificationError
		if !errors.As(err, &verification) {
			return 0, "", time.Time{}
		}
		p = CertInvalid
		if len(verification.UnverifiedCertificates) > 0 {
			cert = verification.UnverifiedCertificates[0]
		}
	}
	if cert != nil {
		issuer = truncate(safeText(cert.Issuer.String()), 200)
	}
	return p, issuer, notAfter
}

func permanentTransport(err error) bool {
	var (
		unknownAuth  x509.UnknownAuthorityError
		hostname     x509.HostnameError
		invalid      x509.CertificateInvalidError
		verification *tls.CertificateVerificationError
		record       tls.RecordHeaderError
		proxy        *ProxyError
		notLoopback  *NotLoopbackError
	)
	switch {
	case errors.As(err, &unknownAuth), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verification), errors.As(err, &record):
		return true
	case errors.As(err, &notLoopback):
		return true
	case errors.As(err, &proxy):
		// A proxy's policy (403) or its demand for credentials (407)
		// holds for every call; its 5xx may pass.
		return proxy.HTTPStatus < 500
	}
	msg := err.Error()
	return strings.Contains(msg, "server gave HTTP response to HTTPS client") ||
		strings.Contains(msg, "unsupported protocol scheme") ||
		strings.Contains(msg, "invalid header field")
}

// Classify tells what to do after err from a Client call (or any error
// wrapping one). A nil error has no disposition (0).
//
//   - Stop: HTTP 401 or 402, or error 001, 007, 165, 166, 167 or 301 at any
//     HTTP status.
//   - Retry: HTTP 429, 408, 5xx (but 501, 505), error 901, status 011
//     (*StatusError: the stop did not take), timeouts
//     (context.DeadlineExceeded included), dropped or refused connections,
//     io.ErrUnexpectedEOF, and non-answers (HTML, garbage) from 5xx proxies.
//   - GiveUp: everything else, among them other 4xx (a 404 that is not
//     Clickatell's error about the message included), malformed 2xx
//     answers, a status not in Clickatell's table (*StatusError), untrusted TLS certificates, context.Canceled (the caller
//     gave up) and errors this package does not know.
func Classify(err error) Disposition {
	if err == nil {
		return 0
	}
	if errors.Is(err, context.Canceled) {
		return GiveUp
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Disposition()
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Disposition()
	}
	var de *DecodeError
	if errors.As(err, &de) {
		return (&APIError{HTTPStatus: de.HTTPStatus}).Disposition()
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Disposition()
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE):
		return Retry
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return Retry
	}
	return GiveUp
}

// TokenError is a token WithToken refuses. It never holds the token, only
// where it goes wrong, so that it is safe to print.
type TokenError struct {
	// Length is the token's length in bytes (0: empty).
	Length int
	// At is the 1-based position of the first byte that may not be in a
	// token (whitespace or a control character); 0 when the token is
	// refused for its length.
	At int
	// Whitespace is set when the byte at At is a space, tab or line end
	// (a trailing newline from a file is the common case).
	Whitespace bool
}

// MaxTokenLength is the longest token WithToken accepts.
const MaxTokenLength = 4096

// Reason says what is wrong with the token, without the package's prefix.
func (e *TokenError) Reason() string {
	switch {
	case e.Length == 0:
		return "empty API token"
	case e.At > 0:
		what := "a control character"
		if e.Whitespace {
			what = "whitespace"
		}
		return fmt.Sprintf("API token holds %s at byte %d of %d", what, e.At, e.Length)
	}
	return fmt.Sprintf("API token is %d bytes long, more than %d", e.Length, MaxTokenLength)
}

func (e *TokenError) Error() string { return "clickatell: " + e.Reason() }

// BaseURLError is a base URL WithBaseURL refuses.
type BaseURLError struct {
	// URL is the URL as given, with any password redacted and cut to 80
	// characters; "" when it was empty.
	URL string
	// Problem says what is wrong with it, following the URL: "has no
	// host: give one like https://api.clickatell.com".
	Problem string
	// UserInfo is set when the URL holds a user name or password (where a
	// token does not belong).
	UserInfo bool
	// PlainHTTP is set when an http:// URL was refused because its host
	// is not loopback.
	PlainHTTP bool
}

// Reason says what is wrong with the URL, without the package's prefix.
func (e *BaseURLError) Reason() string {
	switch {
	case e.URL == "":
		return "empty API base URL: " + e.Problem
	case e.PlainHTTP:
		return fmt.Sprintf("refusing plain http:// API base URL %q: %s", e.URL, e.Problem)
	}
	return fmt.Sprintf("API base URL %q %s", e.URL, e.Problem)
}

func (e *BaseURLError) Error() string { return "clickatell: " + e.Reason() }
