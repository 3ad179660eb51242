//go:build !linux

package pg

import (
	"net"
	"time"
)

// setUserTimeout does nothing where TCP_USER_TIMEOUT is not available:
// keepalive and the per-operation deadlines still apply.
func setUserTimeout(*net.Dialer, time.Duration) {}
