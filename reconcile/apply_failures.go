package reconcile

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/msgid"
)

// maxExamples is how many example IDs a failure group keeps.
const maxExamples = 3

// addFailure files the failure of id under its cause and returns the cause.
func (r *run) addFailure(id msgid.ID, err error) string {
	cause, status, code := causeOf(err, id.String())
	g, ok := r.groups[cause]
	if !ok {
		g = &FailureGroup{Cause: cause, HTTPStatus: status, Code: code, Examples: []string{}, Err: err}
		r.groups[cause] = g
		r.groupSeq = append(r.groupSeq, cause)
	}
	g.Count++
	if len(g.Examples) < maxExamples {
		g.Examples = append(g.Examples, id.String())
	}
	return cause
}

// Error says the group's cause: a FailureGroup is an error, so that a
// run's failures can be one *multierror.Error of its groups.
func (g *FailureGroup) Error() string { return g.Cause }

// Unwrap returns the group's first error, for errors.As.
func (g *FailureGroup) Unwrap() error { return g.Err }

// failureGroups returns the failure groups, largest first, then in the
// order their causes were first seen.
func (r *run) failureGroups() []FailureGroup {
	out := make([]FailureGroup, 0, len(r.groupSeq))
	for _, c := range r.groupSeq {
		out = append(out, *r.groups[c])
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// causeOf names the kind of a failure, the same for every message that
// failed the same way: the API's answer (HTTP status and Clickatell code),
// or what happened to the connection.
func causeOf(err error, id string) (cause string, status int, code string) {
	var (
		ae *clickatell.APIError
		de *clickatell.DecodeError
		te *clickatell.TransportError
		se *clickatell.StatusError
	)
	if errors.As(err, &se) {
		// Its own cause, whatever the description: 011 and each unknown
		// status group apart.
		if se.Scheduled() {
			return "still scheduled (status 011): the stop did not take", se.HTTPStatus, ""
		}
		return "unknown message status " + se.Status + " (not in Clickatell's table, not recorded)", se.HTTPStatus, ""
	}
	if errors.As(err, &ae) {
		cause = "HTTP " + itoa(ae.HTTPStatus)
		if ae.Code != "" {
			cause += ", error " + ae.Code
		}
		switch {
		case ae.Description != "":
			cause += " (" + ae.Description + ")"
		case errors.As(ae.Err, &de) && de.HTML:
			cause += " (an HTML page, not an API answer" + htmlQuote(de, id) + ")"
		case errors.As(ae.Err, &de):
			cause += " (not an API answer: " + de.Reason + ")"
		case ae.HTTPStatus == http.StatusTooManyRequests:
			cause += " (throttled)"
		case http.StatusText(ae.HTTPStatus) != "":
			cause += " (" + strings.ToLower(http.StatusText(ae.HTTPStatus)) + ")"
		}
		if ae.HTTPStatus == http.StatusNotFound && ae.Disposition() == clickatell.GiveUp && !errors.As(ae.Err, &de) {
			cause += ": not Clickatell's answer about the message"
		}
		return cause, ae.HTTPStatus, ae.Code
	}
	if errors.As(err, &de) && de.HTML {
		return "HTTP " + itoa(de.HTTPStatus) + " (an HTML page, not an API answer" + htmlQuote(de, id) + ")", de.HTTPStatus, ""
	}
	if errors.As(err, &de) {
		return "malformed answer (HTTP " + itoa(de.HTTPStatus) + "): " + de.Reason, de.HTTPStatus, ""
	}
	var ne net.Error
	switch {
	case errors.As(err, &te) && te.Timeout && te.After > 0:
		return "timeout (no answer within " + te.After.String() + ")", 0, ""
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() || te != nil && te.Timeout:
		return "timeout (no answer in time)", 0, ""
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		return "connection dropped before an answer", 0, ""
	case errors.Is(err, syscall.ECONNREFUSED) && te != nil && te.Proxy:
		return "connection to the proxy refused", 0, ""
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused", 0, ""
	}
	// Anything else is named by its text, with what differs from message
	// to message (the ID, the URL holding it) taken out.
	var ue *url.Error
	switch {
	case te != nil:
		return strings.ReplaceAll(te.Reason(), id, "{id}"), 0, ""
	case errors.As(err, &ue):
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), id, "{id}"), 0, ""
}

// htmlQuote is a little of an HTML page (its title or first text, short
// and safe to print, from DecodeError), to tell whose page it was.
func htmlQuote(de *clickatell.DecodeError, id string) string {
	if de.Excerpt == "" {
		return ""
	}
	return ": " + strconv.Quote(strings.ReplaceAll(de.Excerpt, id, "{id}"))
}

func itoa(n int) string { return strconv.Itoa(n) }
