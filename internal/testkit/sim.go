package testkit

import (
	"net"
	"net/http/httptest"
	"testing"

	"github.com/recallhq/recall/simulator"
)

// Sim serves a simulator for cfg on loopback until the test ends.
func Sim(t testing.TB, cfg simulator.Config) (*simulator.Simulator, *httptest.Server) {
	t.Helper()
	sim, err := simulator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// ServeConns listens on a loopback port until the test ends and hands
// every connection to handle, in a goroutine of its own, closing the
// connection when handle returns. It returns the address ("127.0.0.1:port").
func ServeConns(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				handle(conn)
			}()
		}
	}()
	return ln.Addr().String()
}
