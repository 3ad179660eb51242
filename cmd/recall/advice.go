package main

import (
	"errors"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/reconcile"
)

// advice says what a user can do about err, naming the environment
// variables and flags that fix it; "" when there is nothing to add. It is
// the one place where the CLI advises on the client's errors: they carry
// fields (clickatell.TransportError), and their messages state facts only.
func advice(err error) string {
	var te *clickatell.TransportError
	if err == nil || !errors.As(err, &te) {
		return ""
	}
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
