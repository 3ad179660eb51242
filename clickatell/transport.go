package clickatell

import (
	"crypto/tls"
	"net"
	"net/http"
	"time"
)

// DefaultMaxConns is the connection pool's size when WithMaxConns is not
// given: enough for 64 calls in flight.
const DefaultMaxConns = 64

// NewTransport returns an HTTP transport tuned for many concurrent
// keep-alive calls to one host: up to maxConns connections to it (0:
// DefaultMaxConns), all of them kept idle between calls rather than closed
// and re-dialled, HTTP/2 when the server offers it, TLS 1.2 or later, and
// bounded dial and handshake times. Proxies come from the environment
// (HTTPS_PROXY, NO_PROXY), as with http.DefaultTransport.
//
// MaxConnsPerHost is maxConns, so that a run never opens more connections
// than it has calls in flight: a caller with more workers than maxConns
// has them queue for a connection inside the transport.
func NewTransport(maxConns int) *http.Transport {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            dialer.DialContext,
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
