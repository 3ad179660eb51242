package pg

import (
	"encoding/binary"
	"io"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state"
)

// copyMessages is the statement copyReader feeds.
const copyMessages = `COPY {messages} (workspace, id, outcome, status, description, grp, at, exact) FROM STDIN (FORMAT binary)`

// copyReader streams messages in PostgreSQL's binary COPY format
// (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4),
// for the columns workspace, id, outcome, status, description, grp, at,
// exact. Encoding rows straight into bytes keeps a million-message push
// free of per-row allocations.
type copyReader struct {
	b   *Backend
	n   int                                   // rows
	row func(i int) (msgid.ID, *state.Record) // the i-th row
	i   int                                   // next row
	buf []byte                                // encoded, not yet read
	end bool                                  // trailer written
}

var copyHeader = []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")

func (r *copyReader) Read(p []byte) (int, error) {
	if r.i == 0 && r.buf == nil {
		r.buf = append(make([]byte, 0, 64<<10), copyHeader...)
	}
	for len(r.buf) < len(p) && !r.end {
		if r.i == r.n {
			r.buf = binary.BigEndian.AppendUint16(r.buf, 0xffff) // trailer: -1
			r.end = true
			break
		}
		r.buf = r.appendRow(r.buf, r.i)
		r.i++
	}
	if len(r.buf) == 0 && r.end {
		return 0, io.EOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	return n, nil
}

func (r *copyReader) appendRow(b []byte, i int) []byte {
	id, rec := r.row(i)
	status, desc, grp, exact := r.b.texts(rec)
	b = binary.BigEndian.AppendUint16(b, 8)
	b = appendField(b, r.b.workspace)
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	b = append(b, id[:]...)
	b = appendField(b, rec.Outcome.String())
	b = appendField(b, status)
	b = appendField(b, desc)
	b = appendField(b, grp)
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint64(b, uint64(pgMicros(rec.At)))
	if exact == nil {
		b = binary.BigEndian.AppendUint32(b, 0xffffffff) // NULL
	} else {
		b = binary.BigEndian.AppendUint32(b, uint32(len(exact)))
		b = append(b, exact...)
	}
	return b
}

func appendField(b []byte, v string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
	return append(b, v...)
}

// pgEpochUnix is PostgreSQL's timestamp zero, 2000-01-01T00:00:00Z, in Unix
// seconds.
const pgEpochUnix = 946684800

// pgMicros is t as a binary PostgreSQL timestamp: microseconds since
// 2000-01-01 UTC. Computed from Unix seconds so that any year a Go time
// holds (time.Time{} included) works, where a Duration would overflow.
func pgMicros(t time.Time) int64 {
	return (t.Unix()-pgEpochUnix)*1_000_000 + int64(t.Nanosecond()/1000)
}

// fromPGMicros is the inverse of pgMicros, in UTC.
func fromPGMicros(us int64) time.Time {
	sec, frac := us/1_000_000, us%1_000_000
	if frac < 0 {
		sec, frac = sec-1, frac+1_000_000
	}
	return time.Unix(sec+pgEpochUnix, frac*1000).UTC()
}
