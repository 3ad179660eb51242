package clickatell

import "time"

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
