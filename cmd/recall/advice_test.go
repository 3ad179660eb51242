package main

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/pg"
)

// TestAdvice: the one place the CLI says what to do about an error, with
// the variables and flags that fix it; errors it knows nothing about get
// no advice.
func TestAdvice(t *testing.T) {
	html404 := &clickatell.APIError{HTTPStatus: 404, Err: &clickatell.DecodeError{HTTPStatus: 404, HTML: true}}
	tests := []struct {
		name string
		err  error
		want string // a part of the advice; "" for none
	}{
		{"nil", nil, ""},
		{"plain", errors.New("disk full"), ""},
		{"unknown IDs", &reconcile.UnknownIDsError{Answers: 25, Remaining: 200}, "run apply again with -allow-unknown-ids"},
		{"unknown IDs, the token", fmt.Errorf("apply: %w", &reconcile.UnknownIDsError{Answers: 25}), "CLICKATELL_TOKEN is another account's token"},
		{"all unknown, recorded", &reconcile.UnknownIDsWarning{Recorded: 3}, "then run 'recall state rm -outcome not_found' to forget them"},
		{"drift: still scheduled", &reconcile.DriftGroup{Recorded: "cancelled", Reported: "scheduled"}, "run 'recall state rm' on them, then 'recall apply'"},
		{"drift: unknown", &reconcile.DriftGroup{Recorded: "cancelled", Reported: "not_found"}, "check that CLICKATELL_TOKEN is the token of the account that sent them"},
		{"drift: cancelled, now delivered", &reconcile.DriftGroup{Recorded: "cancelled", Reported: "too_late"}, "check them in Clickatell's portal"},
		{"revoked token", &reconcile.FatalError{Err: &clickatell.APIError{HTTPStatus: 401, Code: "001"}}, "Check that CLICKATELL_TOKEN holds a valid, unrevoked API token"},
		{"IP lockdown", &reconcile.FatalError{Err: &clickatell.APIError{HTTPStatus: 401, Code: "007"}}, "IP lockdown refused this machine's address"},
		{"no credit", &reconcile.FatalError{Err: &clickatell.APIError{HTTPStatus: 402}}, "no credit left"},
		{"headers", &reconcile.FatalError{Err: &clickatell.APIError{HTTPStatus: 400, Code: "165"}}, "a proxy may be rewriting them"},
		{"fatal, other", &reconcile.FatalError{Err: errors.New("x")}, ""},
		{"empty token", &envError{Var: "CLICKATELL_TOKEN", Err: &clickatell.TokenError{}}, "Set CLICKATELL_TOKEN to the token from Clickatell's portal."},
		{"newline in token", &clickatell.TokenError{Length: 9, At: 9, Whitespace: true}, "Remove it from CLICKATELL_TOKEN (a trailing newline"},
		{"long token", &clickatell.TokenError{Length: 5000}, "Is CLICKATELL_TOKEN the token itself?"},
		{"password in URL", &clickatell.BaseURLError{URL: "https://u:xxxxx@h", UserInfo: true}, "The token goes in CLICKATELL_TOKEN"},
		{"plain http", &clickatell.BaseURLError{URL: "http://h", PlainHTTP: true}, ""},
		{"proxy", &clickatell.TransportError{Proxy: true}, "HTTPS_PROXY"},
		{"private CA", &clickatell.TransportError{Cert: clickatell.CertUntrusted}, "SSL_CERT_FILE"},
		{"expired cert", &clickatell.TransportError{Cert: clickatell.CertExpired}, "renewed by whoever runs it (check CLICKATELL_ENDPOINT)"},
		{"clock", &clickatell.TransportError{Cert: clickatell.CertNotYetValid}, "check this machine's clock"},
		{"hostname", &clickatell.TransportError{Cert: clickatell.CertHostname}, "check the host in CLICKATELL_ENDPOINT"},
		{"timeout", &clickatell.TransportError{Timeout: true}, ""},
		{"404 page", html404, "the endpoint's path is wrong: check CLICKATELL_ENDPOINT"},
		{"404 not the API's", &clickatell.APIError{HTTPStatus: 404, Description: "Message unknown"}, "check CLICKATELL_ENDPOINT"},
		{"400", &clickatell.APIError{HTTPStatus: 400, Code: "101"}, ""},
		{"gave up", &reconcile.GaveUpError{Failed: 25, Err: errors.New("connection refused")}, "Check CLICKATELL_ENDPOINT, the network and Clickatell's status, then run apply again."},
		{"gave up on a proxy", &reconcile.GaveUpError{Failed: 25, Err: &clickatell.TransportError{Proxy: true}}, "then run apply again.\n\nThe proxy is the one HTTPS_PROXY"},
		{"no state directory", fmt.Errorf("x: %w", &local.MissingDirError{Path: "d/s.json", Dir: "d"}), "Create the directory, or fix the state's path (-state, or RECALL_STATE)."},
		{"failure group", &reconcile.FailureGroup{Cause: "HTTP 404", Err: html404}, "check CLICKATELL_ENDPOINT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := advice(tt.err)
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("advice(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if strings.Contains(got, "Error: ") {
				t.Errorf("advice %q reads as another error", got)
			}
		})
	}
}

// TestAdvice_EnginesErrorsNameNoSetting: the engine's and the client's
// texts state facts; the variables and flags are the CLI's to name.
func TestAdvice_EnginesErrorsNameNoSetting(t *testing.T) {
	for _, err := range []error{
		&reconcile.UnknownIDsError{Answers: 25, Remaining: 3},
		&reconcile.FatalError{Err: &clickatell.APIError{HTTPStatus: 401, Code: "001", Description: "Authentication failed"}, Remaining: 3},
		&reconcile.GaveUpError{Failed: 25, Cause: "connection refused", Remaining: 3},
		&clickatell.TokenError{Length: 9, At: 9, Whitespace: true},
		&clickatell.BaseURLError{URL: "https://u:xxxxx@h", Problem: "must not hold a user name or password", UserInfo: true},
		&pg.TimeoutError{Location: "postgres://h/db", Op: "read", Addr: "h:5432", After: 30 * time.Second},
		&pg.TimeoutError{Location: "postgres://h/db", Addr: "h:5432", After: time.Second, LockID: "x"},
		&reconcile.StaleError{Reason: "state serial changed from 1 to 2"},
	} {
		if msg := err.Error(); strings.Contains(msg, "CLICKATELL_") || strings.Contains(msg, "RECALL_") || strings.Contains(msg, "-allow-unknown-ids") || strings.Contains(msg, "recall plan") {
			t.Errorf("%T says %q", err, msg)
		}
	}
	if a := advice(fmt.Errorf("commit: %w", &pg.TimeoutError{After: time.Second})); !strings.Contains(a, envStateTimeout) {
		t.Errorf("advice on a PostgreSQL timeout = %q, want it to name %s", a, envStateTimeout)
	}
	if a := advice(&reconcile.StaleError{Reason: "r"}); !strings.Contains(a, "'recall plan' again") {
		t.Errorf("advice on a stale plan = %q, want it to say run 'recall plan' again", a)
	}
}

// TestEnvError: the variable, then the client's reason without its
// package prefix, read from fields.
func TestEnvError(t *testing.T) {
	_, err := clickatell.New(clickatell.WithToken("sim token"))
	if got, want := (&envError{Var: "CLICKATELL_TOKEN", Err: err}).Error(), "CLICKATELL_TOKEN: API token holds whitespace at byte 4 of 9"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	_, err = clickatell.New(clickatell.WithToken("t"), clickatell.WithBaseURL("http://api.example.com"))
	if got, want := (&envError{Var: "CLICKATELL_ENDPOINT", Err: err}).Error(), `CLICKATELL_ENDPOINT: refusing plain http:// API base URL "http://api.example.com": the token would cross`; !strings.HasPrefix(got, want) {
		t.Errorf("got %q, want it to start %q", got, want)
	}
}

// TestDescribe: a diagnostic's summary and detail, as printError and the
// JSON view show them.
func TestDescribe(t *testing.T) {
	tests := []struct {
		err             error
		summary, detail string
	}{
		{errors.New("boom"), "boom", ""},
		{&diagnostic{Summary: "locked", Detail: "Wait for it."}, "locked", "Wait for it."},
		{&reconcile.GaveUpError{Failed: 25, Cause: "c", Remaining: 1}, (&reconcile.GaveUpError{Failed: 25, Cause: "c", Remaining: 1}).Error(), "Check CLICKATELL_ENDPOINT, the network and Clickatell's status, then run apply again."},
		{&diagnostic{Summary: "s", Detail: "d", Err: &clickatell.TransportError{Proxy: true}}, "s", "d\n\nThe proxy is the one HTTPS_PROXY"},
		// Wrapped by a plain error, the diagnostic's text is all summary.
		{fmt.Errorf("ctx: %w", &diagnostic{Summary: "s", Detail: "d"}), "ctx: s\n\nd", ""},
	}
	for _, tt := range tests {
		summary, detail := describe(tt.err)
		if summary != tt.summary || !strings.HasPrefix(detail, tt.detail) || tt.detail == "" && detail != "" {
			t.Errorf("describe(%v) = %q, %q; want %q, %q", tt.err, summary, detail, tt.summary, tt.detail)
		}
	}
}

// TestFailureFormat: a run's failures print grouped by cause, largest
// first, with counts and at most three example IDs, and at most ten
// causes; never one line per message.
func TestFailureFormat(t *testing.T) {
	const header = "%s failed and will be tried again by the next apply:"
	groups := []reconcile.FailureGroup{
		{Cause: "HTTP 503, error 901 (Internal error)", Count: 1300, Examples: []string{"a1", "a2", "a3"}},
		{Cause: "timeout (no answer within 5s)", Count: 2, Examples: []string{"b1", "b2"}},
	}
	want := "1,302 messages failed and will be tried again by the next apply:\n" +
		"  HTTP 503, error 901 (Internal error): 1,300 messages (e.g. a1, a2, a3)\n" +
		"  timeout (no answer within 5s): 2 messages (e.g. b1, b2)\n"
	me := failuresError(header, groups)
	if got := me.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	var fg *reconcile.FailureGroup
	if !errors.As(me, &fg) || fg.Count != 1300 {
		t.Errorf("errors.As finds %+v, want the largest group", fg)
	}
	if failuresError(header, nil) != nil {
		t.Error("no failures, yet an error")
	}

	// More than ten causes: the rest summed up in one line.
	groups = nil
	for i := range 12 {
		groups = append(groups, reconcile.FailureGroup{Cause: fmt.Sprintf("cause %d", i), Count: 12 - i, Examples: []string{fmt.Sprint("id", i)}})
	}
	got := failuresError(header, groups).Error()
	if lines := strings.Count(got, "\n"); lines != 12 || !strings.HasSuffix(got, "  ... and 3 messages in 2 more causes\n") || !strings.HasPrefix(got, "78 messages failed") {
		t.Errorf("%d lines:\n%s", lines, got)
	}

	// The per-message errors (ApplyResult.Errors) group the same way.
	id := func(i int) msgid.ID {
		v, err := msgid.Parse(fmt.Sprintf("%032x", i))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	var errs *multierror.Error
	for i := range 5 {
		cause := "HTTP 429 (throttled)"
		if i == 2 {
			cause = "connection refused"
		}
		errs = multierror.Append(errs, &reconcile.MessageError{ID: id(i), Group: "g", Attempts: 1, Cause: cause, Err: errors.New(cause)})
	}
	errs.ErrorFormat = func(es []error) string { return failureFormat(header, es) }
	want = "5 messages failed and will be tried again by the next apply:\n" +
		"  HTTP 429 (throttled): 4 messages (e.g. " + id(0).String() + ", " + id(1).String() + ", " + id(3).String() + ")\n" +
		"  connection refused: 1 message (e.g. " + id(2).String() + ")\n"
	if got := errs.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestDiagnosticLine: an engine warning on one line, its advice after its
// detail.
func TestDiagnosticLine(t *testing.T) {
	d := &reconcile.DiagnosticEvent{Severity: reconcile.SeverityWarning, Summary: "Every answer was unknown", Detail: "the token may be another account's",
		Err: &reconcile.UnknownIDsWarning{Recorded: 3}}
	want := "Warning: Every answer was unknown: the token may be another account's. If so, check CLICKATELL_TOKEN and the manifest, then run 'recall state rm -outcome not_found' to forget them so that the next apply tries them again."
	if got := diagnosticLine(d); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got, want := diagnosticLine(&reconcile.DiagnosticEvent{Severity: reconcile.SeverityError, Summary: "s"}), "Error: s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
