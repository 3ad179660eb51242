package local

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state"
)

// Encode writes s to w in the canonical file format: the same content
// always gives the same bytes. See the package documentation for the layout.
func Encode(w io.Writer, s *state.State) error {
	if err := check(s); err != nil {
		return err
	}
	return encode(w, s, s.IDs())
}

// encodeChunk is how many messages one goroutine encodes at a time.
const encodeChunk = 4096

// encode writes s, whose message IDs are ids in order. Large states are
// encoded in chunks by several goroutines and written in order: looking
// the records up in the map is most of the work, and it parallelises.
func encode(w io.Writer, s *state.State, ids []msgid.ID) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := appendHeader(make([]byte, 0, 4096), s)
	if len(ids) == 0 {
		buf = append(buf, "}\n}\n"...)
	} else {
		buf = append(buf, '\n')
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	if len(ids) > 0 {
		var err error
		if workers := min(runtime.GOMAXPROCS(0), 4); workers > 1 && len(ids) > 2*encodeChunk {
			err = encodeParallel(bw, s, ids, workers)
		} else {
			_, err = bw.Write(appendRecords(buf[:0], s, ids, true))
		}
		if err != nil {
			return err
		}
		if _, err := bw.WriteString("  }\n}\n"); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendRecords appends the message lines of ids, each but the very last
// of the file (last) followed by a comma.
func appendRecords(buf []byte, s *state.State, ids []msgid.ID, last bool) []byte {
	for i, id := range ids {
		r := s.Get(id)
		buf = appendRecord(buf, id, &r)
		if !last || i < len(ids)-1 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
	}
	return buf
}

// encodeParallel writes the message lines of ids to w, encoded in chunks
// by workers goroutines and written in order.
func encodeParallel(w io.Writer, s *state.State, ids []msgid.ID, workers int) error {
	type job struct {
		lo, hi int
		out    chan []byte
	}
	jobs := make(chan job)
	inOrder := make(chan job, 2*workers) // bounds the chunks in memory
	stop := make(chan struct{})
	free := make(chan []byte, 3*workers)
	go func() {
		defer close(inOrder)
		defer close(jobs)
		for lo := 0; lo < len(ids); lo += encodeChunk {
			j := job{lo: lo, hi: min(lo+encodeChunk, len(ids)), out: make(chan []byte, 1)}
			select {
			case inOrder <- j:
			case <-stop:
				return
			}
			jobs <- j
		}
	}()
	for i := 0; i < workers; i++ {
		go func() {
			for j := range jobs {
				var buf []byte
				select {
				case buf = <-free:
				default:
				}
				j.out <- appendRecords(buf[:0], s, ids[j.lo:j.hi], j.hi == len(ids))
			}
		}()
	}
	var err error
	for j := range inOrder {
		buf := <-j.out
		if err == nil {
			if _, err = w.Write(buf); err != nil {
				close(stop)
			}
		}
		select {
		case free <- buf:
		default:
		}
	}
	return err
}

// appendHeader appends the lines before the first message, up to and
// including the messages object's opening brace.
func appendHeader(buf []byte, s *state.State) []byte {
	buf = append(buf, "{\n  \"format_version\": "...)
	buf = strconv.AppendInt(buf, state.FormatVersion, 10)
	buf = append(buf, ",\n  \"lineage\": "...)
	buf = appendString(buf, s.Lineage)
	buf = append(buf, ",\n  \"serial\": "...)
	buf = strconv.AppendUint(buf, s.Serial, 10)
	buf = append(buf, ",\n  \"recall_version\": "...)
	buf = appendString(buf, s.RecallVersion)
	return append(buf, ",\n  \"messages\": {"...)
}

// check refuses a state that could not be read back.
func check(s *state.State) error {
	if s == nil {
		return errors.New("nil state")
	}
	if s.Lineage == "" {
		return errors.New("state has no lineage")
	}
	for id, r := range s.All() {
		if err := checkRecord(id, &r); err != nil {
			return err
		}
	}
	return nil
}

// checkRecord refuses a record the file format cannot hold.
func checkRecord(id msgid.ID, r *state.Record) error {
	if !r.Outcome.Valid() {
		return fmt.Errorf("message %s: invalid outcome %d", id, r.Outcome)
	}
	if y := r.At.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("message %s: time %v is outside the years 0 to 9999", id, r.At)
	}
	return nil
}

// appendRecord appends one message line, without the trailing comma and
// newline:
//
//	"<id>": {"outcome": "…", "status": "…", "description": "…", "group": "…", "at": "…"}
//
// with status, description and group left out when empty.
func appendRecord(buf []byte, id msgid.ID, r *state.Record) []byte {
	buf = append(buf, "    \""...)
	buf, _ = id.AppendText(buf)
	buf = append(buf, "\": {\"outcome\": \""...)
	buf = append(buf, r.Outcome.String()...)
	buf = append(buf, '"')
	if r.Status != "" {
		buf = append(buf, ", \"status\": "...)
		buf = appendString(buf, r.Status)
	}
	if r.Description != "" {
		buf = append(buf, ", \"description\": "...)
		buf = appendString(buf, r.Description)
	}
	if r.Group != "" {
		buf = append(buf, ", \"group\": "...)
		buf = appendString(buf, r.Group)
	}
	buf = append(buf, ", \"at\": \""...)
	buf = appendTime(buf, r.At)
	return append(buf, "\"}"...)
}

// appendTime appends t in UTC as RFC 3339 to the second:
// 2026-11-27T10:00:00Z. Fractions of a second are dropped.
func appendTime(buf []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	buf = append4(buf, y)
	buf = append(buf, '-')
	buf = append2(buf, int(mo))
	buf = append(buf, '-')
	buf = append2(buf, d)
	buf = append(buf, 'T')
	buf = append2(buf, h)
	buf = append(buf, ':')
	buf = append2(buf, mi)
	buf = append(buf, ':')
	buf = append2(buf, s)
	return append(buf, 'Z')
}

func append2(buf []byte, v int) []byte {
	return append(buf, byte('0'+v/10), byte('0'+v%10))
}

func append4(buf []byte, v int) []byte {
	return append(buf, byte('0'+v/1000), byte('0'+v/100%10), byte('0'+v/10%10), byte('0'+v%10))
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Quotes, backslashes and control
// characters are escaped (\n, \r, \t by name, others as \u00XX), as are
// U+2028 and U+2029 (which some JSON readers choke on); invalid UTF-8
// becomes U+FFFD, as encoding/json does. Everything else, including
// non-ASCII text, is written as is so that diffs stay readable.
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
