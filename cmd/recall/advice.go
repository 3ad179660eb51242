package main

import (
	"errors"
	"net/http"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/pg"
)

// advice says what a user can do about err, naming the environment
// variables and flags that fix it; "" when there is nothing to add. It is
// the one place where the CLI advises on other packages' errors: they
// carry fields (clickatell.TransportError, reconcile.FatalError, ...) and
// their messages state facts only. The error is the diagnostic's summary,
// the advice its detail (printError, applyView.jsonError).
func advice(err error) string {
	var (
		unknown *reconcile.UnknownIDsError
		warning *reconcile.UnknownIDsWarning
		drift   *reconcile.DriftGroup
		fatal   *reconcile.FatalError
		gaveUp  *reconcile.GaveUpError
		token   *clickatell.TokenError
		baseURL *clickatell.BaseURLError
		te      *clickatell.TransportError
		ae      *clickatell.APIError
		noDir   *local.MissingDirError
		pgSlow  *pg.TimeoutError
		stale   *reconcile.StaleError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &unknown):
		return "The IDs are unknown to the Clickatell account whose token is in use. Either CLICKATELL_TOKEN is another account's token, " +
			"or the IDs come from another system, or the messages are older than Clickatell keeps (about six days after submission). " +
			"Check the token and the manifest's IDs, then run apply again. If you know the messages are gone and want them recorded as not found, " +
			"run apply again with -allow-unknown-ids."
	case errors.As(err, &warning):
		return "If so, check CLICKATELL_TOKEN and the manifest, then run 'recall state rm -outcome not_found' to forget them so that the next apply tries them again."
	case errors.As(err, &drift):
		return driftAdvice(*drift)
	case errors.As(err, &fatal):
		return refusalAdvice(fatal.Err)
	case errors.As(err, &token):
		switch {
		case token.Length == 0:
			return "Set CLICKATELL_TOKEN to the token from Clickatell's portal."
		case token.At > 0:
			return "Remove it from CLICKATELL_TOKEN (a trailing newline from a file is a common cause)."
		}
		return "Is CLICKATELL_TOKEN the token itself?"
	case errors.As(err, &baseURL) && baseURL.UserInfo:
		return "The token goes in CLICKATELL_TOKEN, not in the URL."
	case errors.As(err, &gaveUp):
		a := "Check CLICKATELL_ENDPOINT, the network and Clickatell's status, then run apply again."
		if more := advice(gaveUp.Err); more != "" {
			a += "\n\n" + more
		}
		return a
	case errors.As(err, &te):
		return transportAdvice(te)
	case errors.As(err, &stale):
		return "Run 'recall plan' again and review the new plan."
	case errors.As(err, &pgSlow):
		return "Check the network and the PostgreSQL server; " + envStateTimeout + " sets how long recall waits for each state operation (a duration such as 2m; 0: no deadline)."
	case errors.As(err, &noDir):
		return "Create the directory, or fix the state's path (-state, or RECALL_STATE)."
	case errors.As(err, &ae) && notTheAPIs404(ae):
		return "A 404 that is not Clickatell's answer about the message usually means the endpoint's path is wrong: check CLICKATELL_ENDPOINT."
	}
	return ""
}

// driftAdvice says what a refresh's drift may mean and what to do.
func driftAdvice(d reconcile.DriftGroup) string {
	switch {
	case d.Reported == "scheduled":
		return "Clickatell says these messages are still scheduled, so they may still go out. If that is so, run 'recall state rm' on them, then 'recall apply' to cancel them."
	case d.Reported == outcome.NotFound.String():
		return "Clickatell keeps messages for about six days; an older message is reported unknown. Otherwise check that CLICKATELL_TOKEN is the token of the account that sent them."
	case d.Recorded == outcome.Cancelled.String():
		return "recall recorded these messages as cancelled, but Clickatell reports them otherwise: check them in Clickatell's portal. 'recall state rm' forgets a record, so that the next apply or refresh records it again."
	}
	return ""
}

// refusalAdvice is what to do about an answer that stopped the run.
func refusalAdvice(err error) string {
	var ae *clickatell.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	switch {
	case ae.Code == "007":
		return "The account's IP lockdown refused this machine's address: allow it in the Clickatell portal."
	case ae.Code == "301" || ae.HTTPStatus == http.StatusPaymentRequired:
		return "The account has no credit left: top it up in the Clickatell portal."
	case ae.Code == "165" || ae.Code == "166" || ae.Code == "167":
		return "Clickatell did not accept recall's request headers; a proxy may be rewriting them (please report this if not)."
	case ae.HTTPStatus == http.StatusUnauthorized || ae.Code == "001":
		return "Check that CLICKATELL_TOKEN holds a valid, unrevoked API token for this account."
	}
	return ""
}

// transportAdvice is what to do about a call that got no answer.
func transportAdvice(te *clickatell.TransportError) string {
	switch {
	case te.Proxy:
		return "The proxy is the one HTTPS_PROXY (or https_proxy; HTTP_PROXY for an http:// endpoint) names: " +
			"have it allow the endpoint's host, fix or unset the variable, or list the host in NO_PROXY to bypass it."
	case te.Cert == clickatell.CertUntrusted:
		return "If the endpoint uses a private CA, put its certificate in the file SSL_CERT_FILE names " +
			"(e.g. SSL_CERT_FILE=/etc/ssl/certs/corporate-ca.pem), or in a directory SSL_CERT_DIR lists; " +
			"otherwise check CLICKATELL_ENDPOINT: something else may be answering on that address."
	case te.Cert == clickatell.CertExpired:
		return "The endpoint's certificate must be renewed by whoever runs it (check CLICKATELL_ENDPOINT); " +
			"if this machine's clock is wrong, correct it."
	case te.Cert == clickatell.CertNotYetValid:
		return "The certificate is not valid yet: check this machine's clock."
	case te.Cert == clickatell.CertHostname:
		return "The certificate was issued for another name: check the host in CLICKATELL_ENDPOINT."
	}
	return ""
}

// notTheAPIs404 reports whether ae is a 404 that is not Clickatell's
// answer about a message (a page, a gateway's error, a code Clickatell
// does not use for it): the likeliest cause is a base URL with a wrong
// path.
func notTheAPIs404(ae *clickatell.APIError) bool {
	var de *clickatell.DecodeError
	return ae.HTTPStatus == http.StatusNotFound && (errors.As(ae.Err, &de) || ae.Disposition() == clickatell.GiveUp)
}

// failureAdvice is the advice for a run's failure groups, each piece once,
// in the order of the groups.
func failureAdvice(groups []reconcile.FailureGroup) []string {
	var out []string
	seen := map[string]bool{}
	for _, g := range groups {
		if a := advice(g.Err); a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// envError is a setting from the environment that a package refused: the
// variable's name, then what is wrong with its value (the refusing
// package's reason, without its prefix; advice adds what to do).
type envError struct {
	// Var is the environment variable, e.g. CLICKATELL_TOKEN.
	Var string
	// Err is the refusal.
	Err error
}

func (e *envError) Error() string {
	var (
		token   *clickatell.TokenError
		baseURL *clickatell.BaseURLError
	)
	switch {
	case errors.As(e.Err, &token):
		return e.Var + ": " + token.Reason()
	case errors.As(e.Err, &baseURL):
		return e.Var + ": " + baseURL.Reason()
	}
	return e.Var + ": " + e.Err.Error()
}

func (e *envError) Unwrap() error { return e.Err }

// diagnostic is an error the CLI words in two parts, as Terraform's
// diagnostics do: Summary says what happened, Detail what to do. Printed,
// they are two paragraphs; in JSON, a diagnostic event's two fields.
type diagnostic struct {
	// Summary says what happened.
	Summary string
	// Detail says what to do about it.
	Detail string
	// Err is the error summarised, for errors.As; nil if none.
	Err error
}

func (d *diagnostic) Error() string {
	if d.Detail == "" {
		return d.Summary
	}
	return d.Summary + "\n\n" + d.Detail
}

func (d *diagnostic) Unwrap() error { return d.Err }

// describe splits err into a diagnostic's summary and detail: the error's
// own text, then any detail the CLI gave it and the advice on what it
// wraps.
func describe(err error) (summary, detail string) {
	summary = err.Error()
	var d *diagnostic
	if errors.As(err, &d) && d.Detail != "" && summary == d.Error() {
		summary, detail = d.Summary, d.Detail
	}
	if a := advice(err); a != "" {
		if detail != "" {
			detail += "\n\n"
		}
		detail += a
	}
	return summary, detail
}

// diagnosticDetail is an engine diagnostic's detail with the CLI's advice
// on what it is about (DiagnosticEvent.Err) after it.
func diagnosticDetail(d *reconcile.DiagnosticEvent) string {
	a := advice(d.Err)
	switch {
	case a == "":
		return d.Detail
	case d.Detail == "":
		return a
	}
	return d.Detail + ". " + a
}

// diagnosticLine is an engine diagnostic as one line of stderr: "Warning:"
// or "Error:", the summary, then the detail and advice.
func diagnosticLine(d *reconcile.DiagnosticEvent) string {
	msg := "Warning: " + d.Summary
	if d.Severity == reconcile.SeverityError {
		msg = "Error: " + d.Summary
	}
	if detail := diagnosticDetail(d); detail != "" {
		msg += ": " + detail
	}
	return msg
}

// adviseWarnings adds to p's warnings what to do about them, naming
// recall's flags (the engine's warnings state facts only).
func adviseWarnings(p *reconcile.Plan) {
	for i := range p.Warnings {
		w := &p.Warnings[i]
		if w.Kind == reconcile.WarningLate {
			w.Detail = lateAdvice(w.Group)
		}
	}
}

// lateAdvice says how to get a group cancelled before its deadline.
func lateAdvice(group string) string {
	return "To cancel it sooner, raise -rate (Clickatell allows about 100 a second, more if agreed with them) and -parallelism, " +
		"or cancel this group first: recall apply -target " + shellQuote(group) + "."
}

// warningText is a plan warning as the views print it: the fact, then
// what to do.
func warningText(w reconcile.Warning) string {
	if w.Detail == "" {
		return w.Message
	}
	return w.Message + " " + w.Detail
}
