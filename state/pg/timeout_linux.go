package pg

import (
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// setUserTimeout makes the dialer set TCP_USER_TIMEOUT: data sent but not
// acknowledged for that long fails the connection, as an unanswered
// keepalive does.
func setUserTimeout(d *net.Dialer, timeout time.Duration) {
	if timeout <= 0 {
		return
	}
	ms := int(timeout.Milliseconds())
	d.Control = func(network, address string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			// Best effort (a Unix socket has no such option): keepalive
			// and the per-operation deadlines apply either way.
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, ms)
		})
	}
}
