package clickatell

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/outcome"
)

// forwardProxy is a minimal HTTP forward proxy that records what reaches
// it: plain requests (absolute URIs) are forwarded, CONNECT opens a
// tunnel, or is refused with refuseConnect's status when that is set.
type forwardProxy struct {
	*httptest.Server
	refuseConnect int

	mu       sync.Mutex
	requests []string // "METHOD target"
	auth     []string // Authorization headers seen, on any request
}

func startProxy(t *testing.T, refuseConnect int) *forwardProxy {
	t.Helper()
	p := &forwardProxy{refuseConnect: refuseConnect}
	direct := &http.Transport{} // no Proxy: never through itself
	t.Cleanup(direct.CloseIdleConnections)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		target := r.URL.String()
		if r.Method == http.MethodConnect {
			target = r.Host
		}
		p.requests = append(p.requests, r.Method+" "+target)
		if a := r.Header.Get("Authorization"); a != "" {
			p.auth = append(p.auth, a)
		}
		p.mu.Unlock()
		if r.Method == http.MethodConnect {
			if p.refuseConnect != 0 {
				http.Error(w, "tunnel refused by policy", p.refuseConnect)
				return
			}
			up, err := dialMapped(r.Host)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			conn, buf, err := http.NewResponseController(w).Hijack()
			if err != nil {
				up.Close()
				return
			}
			buf.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
			buf.Flush()
			go func() { io.Copy(up, buf); up.Close() }()
			io.Copy(conn, up)
			conn.Close()
			return
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := direct.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *forwardProxy) seen() (requests, auth []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...), append([]string(nil), p.auth...)
}

// cancelling answers every call with status 006.
var cancelling = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, jsonData("006", "User cancelled message delivery", ""))
})

// setProxyEnv points every proxy variable at proxy. The client's default
// transport reads them when it is made (not once per process, as
// http.ProxyFromEnvironment does), so each test's client sees its own.
func setProxyEnv(t *testing.T, proxy string) {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"} {
		t.Setenv(k, proxy)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	t.Setenv("REQUEST_METHOD", "")
}

// TestTransport_LoopbackNeverProxied: with HTTP_PROXY and HTTPS_PROXY
// set, a plain http:// endpoint on any spelling of a loopback host is
// called directly: the bearer token never reaches the proxy. Go's own
// rules would send "LOCALHOST", "localhost." and "*.localhost" through it.
func TestTransport_LoopbackNeverProxied(t *testing.T) {
	api := httptest.NewServer(cancelling)
	defer api.Close()
	_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	proxy := startProxy(t, 0)
	setProxyEnv(t, proxy.URL)

	for _, host := range []string{"localhost", "LOCALHOST", "localhost.", "sim.localhost", "Sim.LocalHost.", "127.0.0.1"} {
		t.Run(host, func(t *testing.T) {
			c, err := New(WithBaseURL("http://"+net.JoinHostPort(host, port)), WithToken(testToken))
			if err != nil {
				t.Fatal(err)
			}
			res, err := c.StopMessage(context.Background(), id1)
			noToken(t, res, err)
			var dnsErr *net.DNSError
			switch {
			case err == nil:
				if res.Outcome != outcome.Cancelled {
					t.Errorf("got %+v", res)
				}
			case errors.As(err, &dnsErr) || errors.As(err, new(*NotLoopbackError)):
				// The name does not resolve to loopback here (Go's resolver
				// does not map *.localhost itself): it was dialled
				// directly, not handed to the proxy.
				t.Logf("direct call failed as it should, not via the proxy: %v", err)
			default:
				t.Errorf("StopMessage: %v", err)
			}
			if reqs, auth := proxy.seen(); len(reqs) != 0 || len(auth) != 0 {
				t.Fatalf("the proxy saw %q with Authorization %q", reqs, auth)
			}
		})
	}
}

// TestTransport_HTTPSGoesThroughTheProxyTunnel: an https:// endpoint
// goes through HTTPS_PROXY as a CONNECT tunnel; the proxy sees the
// CONNECT and nothing of the request inside it, token included.
func TestTransport_HTTPSGoesThroughTheProxyTunnel(t *testing.T) {
	api := httptest.NewTLSServer(cancelling)
	defer api.Close()
	proxy := startProxy(t, 0)
	setProxyEnv(t, proxy.URL)

	// A non-loopback name, so that the proxy is used; the tunnel goes to
	// the test server, whose certificate is trusted for it.
	_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	c := tunnelClient(t, api, "api.example.test:"+port)
	res, err := c.StopMessage(context.Background(), id1)
	noToken(t, res, err)
	if err != nil || res.Outcome != outcome.Cancelled {
		t.Fatalf("got %+v, %v", res, err)
	}
	reqs, auth := proxy.seen()
	if len(reqs) != 1 || reqs[0] != "CONNECT api.example.test:"+port || len(auth) != 0 {
		t.Fatalf("the proxy saw %q with Authorization %q; want one CONNECT and no token", reqs, auth)
	}
}

// tunnelClient is a client of the TLS test server api under the name
// hostport, through the environment's proxy: the default transport, with
// the server's certificate trusted and the proxy's tunnel target (an
// unresolvable name) mapped to the server by the proxy's dial.
func tunnelClient(t *testing.T, api *httptest.Server, hostport string, opts ...Option) *Client {
	t.Helper()
	tr := NewTransport(4)
	tr.TLSClientConfig.RootCAs = x509.NewCertPool()
	tr.TLSClientConfig.RootCAs.AddCert(api.Certificate())
	tr.TLSClientConfig.ServerName = "example.com" // in httptest's certificate
	t.Cleanup(tr.CloseIdleConnections)
	mapHost(t, hostport, api.Listener.Addr().String())
	all := append([]Option{WithBaseURL("https://" + hostport), WithToken(testToken), WithHTTPClient(&http.Client{Transport: tr})}, opts...)
	c, err := New(all...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	hostMapMu sync.Mutex
	hostMap   = map[string]string{}
)

// mapHost makes the test proxy's dial of from go to to.
func mapHost(t *testing.T, from, to string) {
	hostMapMu.Lock()
	hostMap[from] = to
	hostMapMu.Unlock()
	t.Cleanup(func() {
		hostMapMu.Lock()
		delete(hostMap, from)
		hostMapMu.Unlock()
	})
}

// dialMapped dials addr, or where mapHost sends it.
func dialMapped(addr string) (net.Conn, error) {
	hostMapMu.Lock()
	if to, ok := hostMap[addr]; ok {
		addr = to
	}
	hostMapMu.Unlock()
	return net.Dial("tcp", addr)
}

var discardLog = log.New(io.Discard, "", 0)

// TestTransport_ProxyRefusesConnect: a proxy answering 403 to CONNECT
// fails the call with an error that says the proxy refused the tunnel,
// naming the proxy and the status, and marks it as the proxy's
// (TransportError.Proxy) for the CLI's advice; it is not retried.
func TestTransport_ProxyRefusesConnect(t *testing.T) {
	api := httptest.NewTLSServer(cancelling)
	defer api.Close()
	proxy := startProxy(t, http.StatusForbidden)
	u, _ := url.Parse(proxy.URL)
	u.User = url.UserPassword("proxyuser", "proxypass")
	setProxyEnv(t, u.String())

	_, port, _ := net.SplitHostPort(api.Listener.Addr().String())
	c := tunnelClient(t, api, "api.example.test:"+port)
	res, err := c.StopMessage(context.Background(), id1)
	noToken(t, res, err)
	var te *TransportError
	var pe *ProxyError
	if !errors.As(err, &te) || !errors.As(err, &pe) {
		t.Fatalf("got %+v, %v; want a *TransportError with a *ProxyError", res, err)
	}
	if !te.Proxy || pe.HTTPStatus != 403 || pe.Target != "api.example.test:"+port {
		t.Errorf("TransportError %+v, ProxyError %+v", te, pe)
	}
	want := "the proxy http://proxyuser:xxxxx@" + u.Host + " refused to open a tunnel (CONNECT) to api.example.test:" + port + ": HTTP 403 Forbidden"
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "proxypass") {
		t.Errorf("error %q\nwant it to hold %q", err, want)
	}
	if Classify(err) != GiveUp {
		t.Errorf("Classify = %v, want give_up", Classify(err))
	}
}

// TestTransport_CertificateErrors: an untrusted certificate names its
// issuer; an expired one says when it expired. Both are typed
// (TransportError.Cert, Issuer, NotAfter) and not retried.
func TestTransport_CertificateErrors(t *testing.T) {
	ca := testkit.NewCA(t, "Test CA")
	t.Run("untrusted", func(t *testing.T) {
		srv := tlsServer(t, ca, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
		c, err := New(WithBaseURL(srv.URL), WithToken(testToken))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.StopMessage(context.Background(), id1)
		noToken(t, err)
		var te *TransportError
		if !errors.As(err, &te) || te.Cert != CertUntrusted || te.Issuer != "CN=Test CA" {
			t.Fatalf("got %#v", err)
		}
		if want := `x509: certificate signed by unknown authority (issuer "CN=Test CA")`; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
		if Classify(err) != GiveUp {
			t.Errorf("Classify = %v", Classify(err))
		}
	})
	t.Run("expired", func(t *testing.T) {
		notAfter := time.Date(2020, 3, 1, 12, 0, 0, 0, time.UTC)
		srv := tlsServer(t, ca, notAfter.Add(-48*time.Hour), notAfter)
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		tr := NewTransport(1)
		tr.TLSClientConfig.RootCAs = pool
		c, err := New(WithBaseURL(srv.URL), WithToken(testToken), WithHTTPClient(&http.Client{Transport: tr}))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.StopMessage(context.Background(), id1)
		noToken(t, err)
		var te *TransportError
		if !errors.As(err, &te) || te.Cert != CertExpired || !te.NotAfter.Equal(notAfter) {
			t.Fatalf("got %#v", err)
		}
		if want := `the server's TLS certificate expired at 2020-03-01T12:00:00Z (issuer "CN=Test CA")`; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	})
}

// tlsServer is an API test server whose certificate, for 127.0.0.1, is
// signed by ca and valid from notBefore to notAfter.
func tlsServer(t *testing.T, ca *testkit.CA, notBefore, notAfter time.Time) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(cancelling)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.ServerCert(t, notBefore, notAfter)}}
	srv.Config.ErrorLog = discardLog
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestTransport_CutInsideHeaders: a connection closed in the middle of
// the answer's headers reads as a cut connection (and is retried), not as
// a malformed answer, which is what Go reports for the bytes it got.
func TestTransport_CutInsideHeaders(t *testing.T) {
	for _, head := range []string{"HTTP/1.1 200 OK\r\nContent-", "HTTP/1.1 2", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"} {
		t.Run(strings.TrimSpace(head), func(t *testing.T) {
			addr := testkit.ServeConns(t, func(conn net.Conn) {
				// Read the request, write part of an answer, close.
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
					io.WriteString(conn, head)
				}
			})
			c, err := New(WithBaseURL("http://"+addr), WithToken(testToken))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.StopMessage(context.Background(), id1)
			noToken(t, err)
			var te *TransportError
			if !errors.As(err, &te) || !te.Closed || !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("got %#v; want a TransportError, Closed", err)
			}
			if !strings.Contains(err.Error(), "connection closed before the whole answer arrived") {
				t.Errorf("error %q", err)
			}
			if Classify(err) != Retry {
				t.Errorf("Classify = %v, want retry", Classify(err))
			}
		})
	}
}

// TestRequireLoopback: a plain http:// client connects only to loopback
// addresses, whatever its host name resolved to.
func TestRequireLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:80": true, "[::1]:80": true, "127.1.2.3:8080": true, "10.0.0.1:80": false, "[2001:db8::1]:80": false, "93.184.216.34:80": false} {
		err := requireLoopback("tcp", addr, nil)
		var nl *NotLoopbackError
		if (err == nil) != ok || !ok && !errors.As(err, &nl) {
			t.Errorf("requireLoopback(%s) = %v", addr, err)
		}
	}
}
