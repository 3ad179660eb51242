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

func (d Disposition) String() string {
	switch d {
	case Retry:
		return "retry"
	case GiveUp:
		return "give_up"
	case Stop:
		return "stop"
	}
	return fmt.Sprintf("Disposition(%d)", uint8(d))
}

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
	var b strings.Builder
	switch {
	case e.Scheduled() && e.Method == http.MethodGet:
		b.WriteString("still scheduled (status 011)")
	case e.Scheduled():
		b.WriteString("still scheduled (status 011): the stop did not take")
	default:
		b.WriteString("unknown message status ")
		b.WriteString(e.Status)
		b.WriteString(": not one of Clickatell's documented statuses, so nothing is recorded")
	}
	if e.Description != "" {
		fmt.Fprintf(&b, " (Clickatell says %q)", e.Description)
	}
	return b.String()
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
type TransportError struct {
	// Method and ID say which call failed.
	Method, ID string
	// Timeout is set when the call ran out of time.
	Timeout bool
	// After is the client's per-request timeout that passed (0: the
	// network's own timeout).
	After time.Duration
	// Err is the cause.
	Err error
}

func (e *TransportError) Error() string {
	if e.Timeout && e.After > 0 {
		return fmt.Sprintf("%s message %s: no answer within %v", e.Method, e.ID, e.After)
	}
	if errors.Is(e.Err, io.ErrUnexpectedEOF) || errors.Is(e.Err, io.EOF) {
		return fmt.Sprintf("%s message %s: connection closed before the whole answer arrived: %v", e.Method, e.ID, e.Err)
	}
	return fmt.Sprintf("%s message %s: %v", e.Method, e.ID, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// Disposition tells what to do after this failure: Retry, except for
// failures that a retry cannot mend (an untrusted TLS certificate, a
// server that does not speak TLS, a request Go refuses to send).
func (e *TransportError) Disposition() Disposition {
	if e.Timeout {
		return Retry
	}
	if permanentTransport(e.Err) {
		return GiveUp
	}
	return Retry
}

func permanentTransport(err error) bool {
	var (
		unknownAuth  x509.UnknownAuthorityError
		hostname     x509.HostnameError
		invalid      x509.CertificateInvalidError
		verification *tls.CertificateVerificationError
		record       tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknownAuth), errors.As(err, &hostname), errors.As(err, &invalid),
		errors.As(err, &verification), errors.As(err, &record):
		return true
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
