// Package stall puts a real toxiproxy (github.com/Shopify/toxiproxy/v2,
// run in the test process) between a test and a TCP server, so that the
// connection can be made to stop answering mid-run as a firewall dropping
// packets or a hung pooler does: toxiproxy's timeout toxic accepts and
// discards everything, in both directions, without closing anything.
package stall

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"

	toxiproxy "github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
)

// Proxy is a running proxy.
type Proxy struct {
	p *toxiproxy.Proxy
	// Addr is where it listens (127.0.0.1:port).
	Addr string
}

// Start proxies a free loopback port to upstream (host:port) until the
// test ends.
func Start(t testing.TB, upstream string) *Proxy {
	t.Helper()
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	p := toxiproxy.NewProxy(srv, "stall", "127.0.0.1:0", upstream)
	if err := p.Start(); err != nil {
		t.Fatalf("starting toxiproxy: %v", err)
	}
	t.Cleanup(p.Stop)
	return &Proxy{p: p, Addr: p.Listen}
}

// Stall makes every connection, open and new, stop answering: data in
// either direction is dropped and nothing is closed.
func (p *Proxy) Stall(t testing.TB) {
	t.Helper()
	for _, dir := range []string{"downstream", "upstream"} {
		js := fmt.Sprintf(`{"name":"stall_%s","type":"timeout","stream":%q,"attributes":{"timeout":0}}`, dir, dir)
		if _, err := p.p.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
			t.Fatalf("adding the timeout toxic: %v", err)
		}
	}
}

// Resume removes the stall; connections that were stalled stay useless
// (their data was dropped), new ones work.
func (p *Proxy) Resume(t testing.TB) {
	t.Helper()
	for _, dir := range []string{"downstream", "upstream"} {
		if err := p.p.Toxics.RemoveToxic(context.Background(), "stall_"+dir); err != nil {
			t.Fatalf("removing the timeout toxic: %v", err)
		}
	}
}

// Through returns loc, a postgres:// URL, with its host and port replaced
// by the proxy's.
func (p *Proxy) Through(t testing.TB, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.Addr
	return u.String()
}

// Upstream returns the host:port of a postgres:// URL.
func Upstream(t testing.TB, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	return net.JoinHostPort(host, port)
}
