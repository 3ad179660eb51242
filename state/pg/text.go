package pg

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// PostgreSQL text cannot hold a NUL byte, nor bytes that are not valid in
// the server's encoding, while a Go string (and so a Clickatell
// description) can. Such a record keeps a readable approximation in the
// text columns and its exact strings in the exact column.

// storable reports whether s can be stored exactly in a text column of a
// server whose encoding is UTF-8 (utf8) or something else (then only ASCII
// is safe: the server would convert, or refuse, anything else).
func storable(s string, utf8Server bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return false
		}
		if c >= utf8.RuneSelf {
			return utf8Server && utf8.ValidString(s)
		}
	}
	return true
}

// approx returns s with what a text column cannot hold replaced.
func approx(s string, utf8Server bool) string {
	if !utf8Server {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == 0 || c >= utf8.RuneSelf {
				b.WriteByte('?')
			} else {
				b.WriteByte(c)
			}
		}
		return b.String()
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// encodeExact packs the three strings, each preceded by its length.
func encodeExact(ss ...string) []byte {
	var out []byte
	for _, s := range ss {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return out
}

var errExact = errors.New("malformed exact column")

// decodeExact is the inverse of encodeExact for n strings.
func decodeExact(b []byte, n int) ([]string, error) {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return nil, errExact
		}
		out = append(out, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	if len(b) != 0 {
		return nil, errExact
	}
	return out, nil
}

// pgEpochUnix is PostgreSQL's timestamp zero, 2000-01-01T00:00:00Z, in Unix
// seconds.
const pgEpochUnix = 946684800

// fromPGMicros is a binary PostgreSQL timestamp (microseconds since
// 2000-01-01 UTC) as a time, in UTC.
func fromPGMicros(us int64) time.Time {
	sec, frac := us/1_000_000, us%1_000_000
	if frac < 0 {
		sec, frac = sec-1, frac+1_000_000
	}
	return time.Unix(sec+pgEpochUnix, frac*1000).UTC()
}
