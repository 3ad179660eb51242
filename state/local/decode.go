package local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recallhq/recall/internal/intern"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// Decode reads a state in the file format from r; name (a path, or
// "stdin") is used in error messages. Errors are as for Backend.Read. A
// file is read in place; anything else that cannot seek (a pipe) is read
// into memory first.
func Decode(r io.Reader, name string) (*state.State, error) {
	if ra, ok := r.(interface {
		io.ReaderAt
		io.Seeker
	}); ok {
		if start, err := ra.Seek(0, io.SeekCurrent); err == nil {
			if end, err := ra.Seek(0, io.SeekEnd); err == nil {
				res, err := decode(io.NewSectionReader(ra, start, end-start), end-start, name)
				return res.st, err
			}
		}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading state %s: %w", name, err)
	}
	res, err := decode(bytes.NewReader(data), int64(len(data)), name)
	return res.st, err
}

// corruptError is a state that cannot be parsed. It wraps state.ErrCorrupt.
type corruptError struct {
	path string
	line int // 0 if unknown
	msg  string
	// backup is the backup's path, when one exists, for the advice.
	backup string
}

func (e *corruptError) Error() string {
	where := e.path
	if e.line > 0 {
		where = fmt.Sprintf("%s:%d", e.path, e.line)
	}
	advice := "fix the file"
	if e.backup != "" {
		advice = fmt.Sprintf("fix the file, or restore the previous version from %s", e.backup)
	}
	return fmt.Sprintf("%s: %s: %v (recall will not overwrite it; %s)", where, e.msg, state.ErrCorrupt, advice)
}

func (e *corruptError) Unwrap() error { return state.ErrCorrupt }

// decoded is what decode found.
type decoded struct {
	st *state.State
	// ids are st's message IDs in order.
	ids []msgid.ID
	// canonical is set when the file is byte for byte what Encode writes
	// for st, so that a commit may copy its unchanged lines.
	canonical bool
}

// decode reads a state from r (of size bytes, -1 if unknown). It tries the
// fast line-oriented reader for the canonical layout first, and reads the
// file again with a strict encoding/json decoder when the layout is
// anything else; that decoder also produces every error.
func decode(r io.ReadSeeker, size int64, name string) (decoded, error) {
	d := &fast{br: bufio.NewReaderSize(r, 256<<10), intern: interner{}, canonical: true}
	st, ids, err := d.decode(size)
	if err == nil {
		return decoded{st: st, ids: ids, canonical: d.canonical}, nil
	}
	if !errors.Is(err, errLayout) {
		return decoded{}, fmt.Errorf("reading state %s: %w", name, err)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return decoded{}, fmt.Errorf("reading state %s: %w", name, err)
	}
	var data []byte
	if size >= 0 {
		data = make([]byte, size) // no growing copies of a large file
		_, err = io.ReadFull(r, data)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return decoded{}, fmt.Errorf("reading state %s: %w", name, err)
	}
	st, err = decodeStrict(data, name)
	if err != nil {
		return decoded{}, err
	}
	return decoded{st: st, ids: st.IDs()}, nil
}

// interner shares the records' repeated strings.
type interner = intern.Table

// fast reads the canonical layout (as Encode writes it) line by line.
type fast struct {
	br     *bufio.Reader
	intern interner
	// day caches the last date seen and its midnight in Unix seconds.
	day     [10]byte
	dayUnix int64
	// canonical is cleared by a string Encode would write otherwise
	// (escapes it would not use, a raw U+2028).
	canonical bool
}

// errLayout means "not the canonical layout": read the file strictly.
var errLayout = errors.New("not the canonical layout")

// line returns the next line without its newline. The slice is valid
// until the next call. At the end of input it returns io.EOF; a last line
// without a newline is returned as a line.
func (d *fast) line() ([]byte, error) {
	b, err := d.br.ReadSlice('\n')
	switch {
	case err == nil:
		return b[:len(b)-1], nil
	case err == io.EOF && len(b) > 0:
		return b, nil
	case err == bufio.ErrBufferFull:
		return nil, errLayout
	}
	return nil, err
}

// expect reads a line that must be exactly want.
func (d *fast) expect(want string) error {
	b, err := d.line()
	if err != nil {
		return layoutOr(err)
	}
	if string(b) != want {
		return errLayout
	}
	return nil
}

// layoutOr turns an early end of input into errLayout.
func layoutOr(err error) error {
	if err == io.EOF {
		return errLayout
	}
	return err
}

// field reads a header line `  "name": <value>,` and returns value.
func (d *fast) field(name string) ([]byte, error) {
	b, err := d.line()
	if err != nil {
		return nil, layoutOr(err)
	}
	prefix := len(name) + 6 // `  "` name `": `
	if len(b) < prefix+1 || string(b[:3]) != `  "` || string(b[3:3+len(name)]) != name || string(b[3+len(name):prefix]) != `": ` || b[len(b)-1] != ',' {
		return nil, errLayout
	}
	return b[prefix : len(b)-1], nil
}

func (d *fast) decode(size int64) (*state.State, []msgid.ID, error) {
	if err := d.expect("{"); err != nil {
		return nil, nil, err
	}
	if err := d.expect(`  "format_version": 1,`); err != nil {
		return nil, nil, err
	}
	st := &state.State{}
	v, err := d.field("lineage")
	if err != nil {
		return nil, nil, err
	}
	if st.Lineage, err = d.wholeString(v); err != nil || st.Lineage == "" {
		return nil, nil, errLayout
	}
	if v, err = d.field("serial"); err != nil {
		return nil, nil, err
	}
	if len(v) == 0 || (v[0] == '0' && len(v) > 1) {
		return nil, nil, errLayout
	}
	if st.Serial, err = strconv.ParseUint(string(v), 10, 64); err != nil {
		return nil, nil, errLayout
	}
	if v, err = d.field("recall_version"); err != nil {
		return nil, nil, err
	}
	if st.RecallVersion, err = d.wholeString(v); err != nil {
		return nil, nil, errLayout
	}
	b, err := d.line()
	if err != nil {
		return nil, nil, layoutOr(err)
	}
	switch string(b) {
	case `  "messages": {}`:
		if err := d.expect("}"); err != nil {
			return nil, nil, err
		}
		return st, nil, d.end()
	case `  "messages": {`:
	default:
		return nil, nil, errLayout
	}

	ids, err := d.messages(st, d.estimate(size))
	if err != nil {
		return nil, nil, err
	}
	return st, ids, nil
}

// batch is a run of parsed messages on its way to the state.
type batch struct {
	ids  []msgid.ID
	recs []state.Record
}

const (
	batchSize = 4096
	batches   = 4
)

// messages reads the message lines and the end of the file into st, and
// returns their IDs in order. Parsing runs in a goroutine of its own and
// hands batches to this one, which fills the state: on a million messages
// the two take about as long as each other, and the map's inserts are
// mostly waiting on memory.
func (d *fast) messages(st *state.State, hint int) ([]msgid.ID, error) {
	st.Reserve(hint)
	full := make(chan *batch, batches)
	free := make(chan *batch, batches)
	for i := 0; i < batches; i++ {
		free <- &batch{ids: make([]msgid.ID, 0, batchSize), recs: make([]state.Record, 0, batchSize)}
	}
	var ids []msgid.ID
	var err error
	go func() {
		defer close(full)
		ids, err = d.parseMessages(hint, full, free)
	}()
	for b := range full {
		for i, id := range b.ids {
			st.Set(id, b.recs[i])
		}
		b.ids, b.recs = b.ids[:0], b.recs[:0]
		free <- b
	}
	// The parser is done: close(full) orders its results before this.
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// parseMessages parses message lines into batches sent on full, taking
// empty ones from free, and returns the IDs in order.
func (d *fast) parseMessages(hint int, full, free chan *batch) ([]msgid.ID, error) {
	ids := make([]msgid.ID, 0, hint)
	cur := <-free
	comma := true // the previous message line ended with a comma
	for {
		b, err := d.line()
		if err != nil {
			return nil, layoutOr(err)
		}
		if string(b) == "  }" {
			if len(ids) == 0 || comma {
				return nil, errLayout
			}
			break
		}
		if !comma {
			return nil, errLayout
		}
		id, r, c, err := d.record(b)
		if err != nil {
			return nil, err
		}
		// IDs must be in strictly increasing order: this also rules out
		// duplicates, which the strict decoder reports.
		if len(ids) > 0 && msgid.Compare(ids[len(ids)-1], id) >= 0 {
			return nil, errLayout
		}
		ids = append(ids, id)
		cur.ids = append(cur.ids, id)
		cur.recs = append(cur.recs, r)
		if len(cur.ids) == batchSize {
			full <- cur
			cur = <-free
		}
		comma = c
	}
	if len(cur.ids) > 0 {
		full <- cur
	}
	if err := d.expect("}"); err != nil {
		return nil, err
	}
	return ids, d.end()
}

// estimate guesses the number of messages from the file's size and the
// length of the lines in the first buffer-full, so that the map is sized
// once: a million-message map grown step by step costs time, and one sized
// for the shortest possible lines wastes memory.
func (d *fast) estimate(size int64) int {
	if size <= 0 {
		return 0
	}
	peek, _ := d.br.Peek(d.br.Size())
	lines := bytes.Count(peek, []byte{'\n'})
	if lines < 16 || len(peek) < d.br.Size() {
		return lines
	}
	avg := float64(len(peek)) / float64(lines)
	return int(float64(size)/avg*1.02) + 16
}

// end checks that nothing follows the closing brace.
func (d *fast) end() error {
	if _, err := d.br.ReadByte(); err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	return errLayout
}

// wholeString parses v, which must be exactly one JSON string.
func (d *fast) wholeString(v []byte) (string, error) {
	if len(v) < 2 || v[0] != '"' {
		return "", errLayout
	}
	s, n, err := d.str(v[1:])
	if err != nil || n != len(v)-1 {
		return "", errLayout
	}
	return s, nil
}

// str parses a JSON string whose opening quote has been consumed and
// returns it with the number of bytes used, closing quote included.
// Strings without escapes (the usual case) are sliced and interned;
// others are handed to encoding/json.
func (d *fast) str(b []byte) (string, int, error) {
	high := byte(0)
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			if high >= utf8.RuneSelf {
				if !utf8.Valid(b[:i]) {
					d.canonical = false
					return slowString(b, i)
				}
				if bytes.Contains(b[:i], []byte("\u2028")) || bytes.Contains(b[:i], []byte("\u2029")) {
					d.canonical = false
				}
			}
			return d.intern.Bytes(b[:i]), i + 1, nil
		case c == '\\':
			return d.escaped(b, i)
		case c < 0x20:
			return "", 0, errLayout
		}
		high |= c
	}
	return "", 0, errLayout
}

// escaped finds the end of a string containing escapes, from i on.
func (d *fast) escaped(b []byte, i int) (string, int, error) {
	for i < len(b) {
		switch b[i] {
		case '\\':
			i += 2
			continue
		case '"':
			s, n, err := slowString(b, i)
			if err != nil {
				return "", 0, err
			}
			if string(appendString(nil, s)) != "\""+string(b[:n]) {
				d.canonical = false
			}
			return d.intern.String(s), n, nil
		}
		i++
	}
	return "", 0, errLayout
}

// slowString decodes the string b[:end] (closing quote at end) with
// encoding/json, which handles escapes and invalid UTF-8 as every JSON
// reader of the file does.
func slowString(b []byte, end int) (string, int, error) {
	q := make([]byte, 0, end+2)
	q = append(q, '"')
	q = append(q, b[:end]...)
	q = append(q, '"')
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return "", 0, errLayout
	}
	return s, end + 1, nil
}

// Canonical message line pieces.
const (
	linePrefix   = `    "`
	afterID      = `": {"outcome": "`
	keyStatus    = `, "status": "`
	keyDesc      = `, "description": "`
	keyGroup     = `, "group": "`
	keyAt        = `, "at": "`
	timeLen      = len("2006-01-02T15:04:05Z")
	minLineLen   = len(linePrefix) + msgid.Len + len(afterID) + len(`cancelled"`) + len(keyAt) + timeLen + len(`"}`)
	outcomeCanc  = `cancelled"`
	outcomeLate  = `too_late"`
	outcomeNotFd = `not_found"`
	outcomeNotDl = `not_delivered"`
)

// member reads the optional member key (e.g. keyStatus) and its string
// value, which may not be empty, at the start of b into *field, and
// returns how many bytes it read: none when b does not start with key.
func (d *fast) member(b []byte, key string, field *string) (int, error) {
	if !bytes.HasPrefix(b, []byte(key)) {
		return 0, nil
	}
	s, n, err := d.str(b[len(key):])
	if err != nil || s == "" {
		return 0, errLayout
	}
	*field = s
	return len(key) + n, nil
}

// record parses one canonical message line; comma reports a trailing comma.
func (d *fast) record(b []byte) (id msgid.ID, r state.Record, comma bool, err error) {
	if len(b) < minLineLen || string(b[:len(linePrefix)]) != linePrefix {
		return id, r, false, errLayout
	}
	p := len(linePrefix)
	var ok bool
	if id, ok = parseLowerHex(b[p : p+msgid.Len]); !ok {
		// Upper case parses too, but is not canonical, and two spellings
		// of one ID would be a duplicate the strict decoder must report.
		return id, r, false, errLayout
	}
	p += msgid.Len
	if string(b[p:p+len(afterID)]) != afterID {
		return id, r, false, errLayout
	}
	p += len(afterID)
	rest := b[p:]
	switch {
	case bytes.HasPrefix(rest, []byte(outcomeCanc)):
		r.Outcome, p = outcome.Cancelled, p+len(outcomeCanc)
	case bytes.HasPrefix(rest, []byte(outcomeLate)):
		r.Outcome, p = outcome.TooLate, p+len(outcomeLate)
	case bytes.HasPrefix(rest, []byte(outcomeNotFd)):
		r.Outcome, p = outcome.NotFound, p+len(outcomeNotFd)
	case bytes.HasPrefix(rest, []byte(outcomeNotDl)):
		r.Outcome, p = outcome.NotDelivered, p+len(outcomeNotDl)
	default:
		return id, r, false, errLayout
	}
	for _, m := range [...]struct {
		key   string
		field *string
	}{{keyStatus, &r.Status}, {keyDesc, &r.Description}, {keyGroup, &r.Group}} {
		n, err := d.member(b[p:], m.key, m.field)
		if err != nil {
			return id, r, false, err
		}
		p += n
	}
	if !bytes.HasPrefix(b[p:], []byte(keyAt)) {
		return id, r, false, errLayout
	}
	p += len(keyAt)
	tail := b[p:]
	switch {
	case len(tail) == timeLen+2 && string(tail[timeLen:]) == `"}`:
	case len(tail) == timeLen+3 && string(tail[timeLen:]) == `"},`:
		comma = true
	default:
		return id, r, false, errLayout
	}
	if r.At, ok = d.time(tail[:timeLen]); !ok {
		return id, r, false, errLayout
	}
	return id, r, comma, nil
}

// unhex maps lower-case hexadecimal digits to their value, others to 0xff.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range hexDigits {
		t[c] = byte(i)
	}
	return t
}()

// parseLowerHex parses the canonical (lower-case) text form of an ID.
func parseLowerHex(b []byte) (msgid.ID, bool) {
	var id msgid.ID
	_ = b[31]
	bad := byte(0)
	for i := range id {
		hi, lo := unhex[b[2*i]], unhex[b[2*i+1]]
		bad |= hi | lo
		id[i] = hi<<4 | lo
	}
	return id, bad&0xf0 == 0
}

// time parses 2006-01-02T15:04:05Z. Dates repeat from line to line, so
// the last one's midnight is cached.
func (d *fast) time(b []byte) (time.Time, bool) {
	if b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != 'Z' {
		return time.Time{}, false
	}
	if string(b[:10]) != string(d.day[:]) {
		y, ok1 := digits(b[0:4])
		mo, ok2 := digits(b[5:7])
		dd, ok3 := digits(b[8:10])
		if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || dd < 1 {
			return time.Time{}, false
		}
		t := time.Date(y, time.Month(mo), dd, 0, 0, 0, 0, time.UTC)
		if t.Day() != dd { // 31 November and the like
			return time.Time{}, false
		}
		copy(d.day[:], b[:10])
		d.dayUnix = t.Unix()
	}
	h, ok1 := digits(b[11:13])
	mi, ok2 := digits(b[14:16])
	s, ok3 := digits(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	return time.Unix(d.dayUnix+int64(h*3600+mi*60+s), 0).UTC(), true
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// jsonRecord is a message as the strict decoder reads it.
type jsonRecord struct {
	Outcome     *string `json:"outcome"`
	Status      string  `json:"status"`
	Description string  `json:"description"`
	Group       string  `json:"group"`
	At          *string `json:"at"`
}

// strict reads any valid JSON layout of the format with encoding/json and
// reports what is wrong with a file, with its line.
type strict struct {
	data   []byte
	name   string
	dec    *json.Decoder
	base   int64 // where in data dec started
	intern interner
}

// off is the decoder's offset in data.
func (s *strict) off() int64 { return s.base + s.dec.InputOffset() }

// next returns the offset of the first token at or after off, skipping
// whitespace and separators: the decoder's InputOffset is the end of the
// previous token, but errors are about the next one.
func (s *strict) next(off int64) int64 {
	for off < int64(len(s.data)) {
		switch s.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

// key reads the next key of the object in what ("state", "messages"),
// with the offset where it starts, for errors about it.
func (s *strict) key(what string) (string, int64, error) {
	off := s.off()
	tok, err := s.dec.Token()
	if err != nil {
		return "", 0, s.jsonErr(err, what)
	}
	return tok.(string), s.next(off), nil
}

func (s *strict) errAt(off int64, format string, args ...any) error {
	if off < 0 {
		off = 0
	}
	if off > int64(len(s.data)) {
		off = int64(len(s.data))
	}
	line := bytes.Count(s.data[:off], []byte{'\n'}) + 1
	return &corruptError{path: s.name, line: line, msg: fmt.Sprintf(format, args...)}
}

// jsonErr turns a decoding error into a corruptError at its offset.
func (s *strict) jsonErr(err error, what string) error {
	off := s.off()
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = s.base + se.Offset
	case errors.As(err, &te):
		off = s.base + te.Offset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return s.errAt(int64(len(s.data)), "unexpected end of file in %s", what)
	}
	if what == "state" {
		// The whole file: the location says enough.
		return s.errAt(off, "%v", err)
	}
	return s.errAt(off, "%s: %v", what, err)
}

// decodeStrict reads data with encoding/json: any whitespace and key order,
// but no unknown or duplicate keys, no trailing data, every value checked.
func decodeStrict(data []byte, name string) (*state.State, error) {
	st, err := readStrict(data, name)
	if err == nil {
		return st, nil
	}
	// A newer format may be laid out in ways this reader calls corrupt:
	// then the version is what to report.
	var head struct {
		FormatVersion json.RawMessage `json:"format_version"`
	}
	if json.Unmarshal(data, &head) == nil && head.FormatVersion != nil {
		var v float64
		if json.Unmarshal(head.FormatVersion, &v) == nil && v > state.FormatVersion && v == math.Trunc(v) {
			fv := math.MaxInt32
			if v < math.MaxInt32 {
				fv = int(v)
			}
			return nil, &state.FormatError{Location: name, Version: fv}
		}
	}
	return nil, err
}

func readStrict(data []byte, name string) (*state.State, error) {
	s := &strict{data: data, name: name, dec: json.NewDecoder(bytes.NewReader(data)), intern: interner{}}
	s.dec.UseNumber()
	s.dec.DisallowUnknownFields() // for the messages, read in one call
	st := &state.State{}
	tok, err := s.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, s.errAt(0, "empty file")
		}
		return nil, s.jsonErr(err, "state")
	}
	if tok != json.Delim('{') {
		return nil, s.errAt(0, "the state must be a JSON object")
	}
	seen := map[string]bool{}
	for s.dec.More() {
		key, keyOff, err := s.key("state")
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, s.errAt(keyOff, "duplicate key %q", key)
		}
		seen[key] = true
		switch key {
		case "format_version":
			n, err := s.number(key)
			if err != nil {
				return nil, err
			}
			if v, err := n.Int64(); err != nil || v != state.FormatVersion {
				return nil, s.errAt(keyOff, "format_version is %s, want %d", n, state.FormatVersion)
			}
		case "lineage":
			if st.Lineage, err = s.string(key); err != nil {
				return nil, err
			}
			if st.Lineage == "" {
				return nil, s.errAt(keyOff, "empty lineage")
			}
		case "serial":
			n, err := s.number(key)
			if err != nil {
				return nil, err
			}
			if st.Serial, err = strconv.ParseUint(n.String(), 10, 64); err != nil {
				return nil, s.errAt(keyOff, "serial %s is not a whole number from 0 to %d", n, uint64(math.MaxUint64))
			}
		case "recall_version":
			if st.RecallVersion, err = s.string(key); err != nil {
				return nil, err
			}
		case "messages":
			if err := s.messages(st); err != nil {
				return nil, err
			}
		default:
			return nil, s.errAt(keyOff, "unknown key %q (want format_version, lineage, serial, recall_version, messages)", key)
		}
	}
	closing := s.next(s.off())
	if _, err := s.dec.Token(); err != nil { // the closing brace
		return nil, s.jsonErr(err, "state")
	}
	for _, k := range []string{"format_version", "lineage", "serial", "messages"} {
		if !seen[k] {
			return nil, s.errAt(closing, "missing %q", k)
		}
	}
	if _, err := s.dec.Token(); err != io.EOF {
		return nil, s.errAt(s.next(s.off()), "data after the end of the state object")
	}
	return st, nil
}

func (s *strict) number(key string) (json.Number, error) {
	off := s.next(s.off())
	tok, err := s.dec.Token()
	if err != nil {
		return "", s.jsonErr(err, key)
	}
	n, ok := tok.(json.Number)
	if !ok {
		return "", s.errAt(off, "%s must be a number", key)
	}
	return n, nil
}

func (s *strict) string(key string) (string, error) {
	off := s.next(s.off())
	tok, err := s.dec.Token()
	if err != nil {
		return "", s.jsonErr(err, key)
	}
	v, ok := tok.(string)
	if !ok {
		return "", s.errAt(off, "%s must be a string", key)
	}
	return v, nil
}

// messages reads the messages object into st with one encoding/json call,
// as fast as plain encoding/json into a map (encoding/json matches the
// members outcome, status, description, group and at to Record's fields;
// msgid.ID and outcome.Outcome parse themselves). Whatever it refuses, and
// a file where it cannot rule out a key given twice, is read again by
// explainMessages, which says what is wrong and on which line.
func (s *strict) messages(st *state.State) error {
	start := s.next(s.off())
	var m map[msgid.ID]state.Record
	if err := s.dec.Decode(&m); err != nil || !s.plain(start, m) {
		if m, err = s.explainMessages(start, err); err != nil {
			return err
		}
	}
	st.Reserve(len(m))
	for id, r := range m {
		st.Set(id, r) // which keeps one copy of each kind's strings
	}
	return nil
}

// plain reports whether m, which encoding/json read from data[start:] up to
// the decoder's offset, is the messages object as written: no ID given
// twice (each record is one flat object, so as many '{' as records plus
// the messages object rules that out; a '{' inside a string only sends
// the file to the careful reader), and every record with a settled
// outcome and a time.
func (s *strict) plain(start int64, m map[msgid.ID]state.Record) bool {
	if m == nil || bytes.Count(s.data[start:s.off()], []byte{'{'}) != len(m)+1 {
		return false
	}
	for _, r := range m {
		if !r.Outcome.Valid() || r.At.IsZero() {
			return false
		}
	}
	return true
}

// explainMessages reads the messages object starting at data[start] one
// member at a time, in file order, and returns the first thing wrong with
// it, at its line. It is slow and only runs when messages refused the
// file (err is what encoding/json said, if anything) or could not rule out
// a duplicate key; a file it finds nothing wrong with is returned read.
func (s *strict) explainMessages(start int64, err error) (map[msgid.ID]state.Record, error) {
	outer, base := s.dec, s.base
	s.dec, s.base = json.NewDecoder(bytes.NewReader(s.data[start:])), start
	s.dec.UseNumber()
	defer func() { s.dec, s.base = outer, base }()
	m, xerr := s.walkMessages()
	if xerr == nil && err != nil {
		s.dec, s.base = outer, base
		return nil, s.jsonErr(err, "messages")
	}
	return m, xerr
}

// walkMessages is explainMessages' reader.
func (s *strict) walkMessages() (map[msgid.ID]state.Record, error) {
	off := s.next(s.off())
	tok, err := s.dec.Token()
	if err != nil {
		return nil, s.jsonErr(err, "messages")
	}
	if tok != json.Delim('{') {
		return nil, s.errAt(off, "messages must be an object of message ID to record")
	}
	m := map[msgid.ID]state.Record{}
	where := map[msgid.ID]int64{}
	for s.dec.More() {
		key, keyOff, err := s.key("messages")
		if err != nil {
			return nil, err
		}
		id, err := msgid.Parse(key)
		if err != nil {
			return nil, s.errAt(keyOff, "message ID %q: %v", truncate(key, 40), err)
		}
		if prev, dup := where[id]; dup {
			return nil, s.errAt(keyOff, "message %s appears twice (also on line %d)", id, bytes.Count(s.data[:prev], []byte{'\n'})+1)
		}
		where[id] = keyOff
		var jr jsonRecord
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return nil, s.jsonErr(err, "message "+id.String())
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if len(raw) == 0 || raw[0] != '{' {
			return nil, s.errAt(keyOff, "message %s: want an object with outcome and at", id)
		}
		if err := dec.Decode(&jr); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return nil, s.errAt(keyOff, "message %s: %s must be a string, not a %s", id, te.Field, te.Value)
			}
			// What is left is an unknown member (DisallowUnknownFields),
			// for which encoding/json has no error type: its text, less
			// the package name, is all there is to say.
			return nil, s.errAt(keyOff, "message %s: %s", id, strings.TrimPrefix(err.Error(), "json: "))
		}
		r, err := s.record(jr)
		if err != nil {
			return nil, s.errAt(keyOff, "message %s: %v", id, err)
		}
		m[id] = r
	}
	if _, err := s.dec.Token(); err != nil {
		return nil, s.jsonErr(err, "messages")
	}
	return m, nil
}

func (s *strict) record(jr jsonRecord) (state.Record, error) {
	var r state.Record
	if jr.Outcome == nil {
		return r, errors.New("missing outcome")
	}
	o, err := outcome.Parse(*jr.Outcome)
	if err != nil {
		return r, fmt.Errorf("%w; if a newer recall wrote this state, upgrade recall", err)
	}
	if jr.At == nil {
		return r, errors.New("missing at (when the outcome was recorded)")
	}
	at, err := time.Parse(time.RFC3339, *jr.At)
	if err != nil {
		return r, fmt.Errorf("at %q is not an RFC 3339 time such as 2026-11-27T10:00:00Z", truncate(*jr.At, 40))
	}
	r.Outcome = o
	r.Status = s.intern.Bytes([]byte(jr.Status))
	r.Description = s.intern.Bytes([]byte(jr.Description))
	r.Group = s.intern.Bytes([]byte(jr.Group))
	r.At = at.UTC().Truncate(time.Second)
	return r, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
