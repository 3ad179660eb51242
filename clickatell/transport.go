package clickatell

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// DefaultMaxConns is the connection pool's size when WithMaxConns is not
// given: enough for 64 calls in flight.
const DefaultMaxConns = 64

// NewTransport returns an HTTP transport tuned for many concurrent
// keep-alive calls to one host: up to maxConns connections to it (0:
// DefaultMaxConns), all of them kept idle between calls rather than closed
// and re-dialled, HTTP/2 when the server offers it, TLS 1.2 or later, and
// bounded dial and handshake times. Proxies come from the environment
// (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), read when the transport is made,
// as with http.DefaultTransport, except that a host this package treats as
// loopback (see WithBaseURL) is never proxied: plain http:// is allowed
// only to such hosts, and through a proxy the token would cross the
// network in clear text. Go's own rules bypass only "localhost" and
// loopback IPs, not "LOCALHOST", "localhost." or "sim.localhost".
//
// A proxy that refuses the tunnel to an https:// endpoint (its answer to
// CONNECT is not 200) fails the call with a *ProxyError.
//
// MaxConnsPerHost is maxConns, so that a run never opens more connections
// than it has calls in flight: a caller with more workers than maxConns
// has them queue for a connection inside the transport.
func NewTransport(maxConns int) *http.Transport {
	return newTransport(maxConns, false)
}

// newTransport is NewTransport; with loopbackOnly, for a plain http://
// base URL, it connects only to loopback addresses, whatever a name
// such as "sim.localhost" resolves to.
func newTransport(maxConns int, loopbackOnly bool) *http.Transport {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	if loopbackOnly {
		dialer.Control = requireLoopback
	}
	return &http.Transport{
		Proxy:                  proxyFunc(httpproxy.FromEnvironment()),
		OnProxyConnectResponse: checkProxyConnect,
		DialContext:            watchDial(dialer),
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           maxConns + 16,
		MaxIdleConnsPerHost:    maxConns,
		MaxConnsPerHost:        maxConns,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// proxyFunc returns cfg's proxy choice for a request, but never a proxy
// for a loopback host.
func proxyFunc(cfg *httpproxy.Config) func(*http.Request) (*url.URL, error) {
	f := cfg.ProxyFunc()
	return func(req *http.Request) (*url.URL, error) {
		if isLoopback(req.URL.Hostname()) {
			return nil, nil
		}
		return f(req.URL)
	}
}

// checkProxyConnect turns a proxy's refusal of CONNECT into a
// *ProxyError: Go's own error is the bare status text ("Forbidden"),
// which does not say that a proxy answered.
func checkProxyConnect(_ context.Context, proxyURL *url.URL, req *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	pe := &ProxyError{HTTPStatus: resp.StatusCode, Target: req.Host}
	if proxyURL != nil {
		pe.Proxy = proxyURL.Redacted()
	}
	return pe
}

// requireLoopback refuses a connection to an address that is not
// loopback: it is the dialer's Control for a plain http:// base URL, whose
// host was accepted as loopback by its name.
func requireLoopback(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		host = address
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return &NotLoopbackError{Addr: address}
}
