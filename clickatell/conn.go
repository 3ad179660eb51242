package clickatell

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http/httptrace"
	"sync/atomic"
	"syscall"
)

// watchedConn is a connection that remembers whether the other end closed
// or reset it. Go reports headers cut short by a closed connection as
// malformed ("malformed MIME header: missing colon"), which reads as a
// server's bug; with this, the client can tell a cut connection.
type watchedConn struct {
	net.Conn
	closed atomic.Bool
}

func (c *watchedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		c.closed.Store(true)
	}
	return n, err
}

// watchDial wraps d's connections in watchedConn.
func watchDial(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &watchedConn{Conn: c}, nil
	}
}

// connWatch records the connection a request went out on.
type connWatch struct{ conn net.Conn }

// withConnWatch returns ctx traced so that w learns the request's
// connection.
func withConnWatch(ctx context.Context, w *connWatch) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(info httptrace.GotConnInfo) { w.conn = info.Conn },
	})
}

// peerClosed reports whether the connection was closed or reset by the
// other end.
func (w *connWatch) peerClosed() bool {
	c := w.conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	wc, ok := c.(*watchedConn)
	return ok && wc.closed.Load()
}
