package local

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// specExample is the state of SPEC's example.
func specExample() *state.State {
	return statetest.With(&state.State{
		Lineage:       "0b6d3a1e-4f7c-4d21-9a0e-6f1d2c3b4a59",
		Serial:        3,
		RecallVersion: "0.1.0",
	}, map[msgid.ID]state.Record{
		msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c"): {Outcome: outcome.NotFound, Group: "black-friday-wrong-price", At: t0.Add(time.Second)},
		msgid.MustParse("360586640fe9846954897dffe6c13dfc"): {Outcome: outcome.Cancelled, Status: "006", Description: "User cancelled message delivery", Group: "black-friday-wrong-price", At: t0},
	})
}

const specExampleText = `{
  "format_version": 1,
  "lineage": "0b6d3a1e-4f7c-4d21-9a0e-6f1d2c3b4a59",
  "serial": 3,
  "recall_version": "0.1.0",
  "messages": {
    "360586640fe9846954897dffe6c13dfc": {"outcome": "cancelled", "status": "006", "description": "User cancelled message delivery", "group": "black-friday-wrong-price", "at": "2026-11-27T10:00:00Z"},
    "b09e1b1bdb5a070c978f03b6836b955c": {"outcome": "not_found", "group": "black-friday-wrong-price", "at": "2026-11-27T10:00:01Z"}
  }
}
`

func encodeString(t testing.TB, s *state.State) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return buf.String()
}

func TestEncode_Layout(t *testing.T) {
	if got := encodeString(t, specExample()); got != specExampleText {
		t.Errorf("Encode:\n%s\nwant:\n%s", got, specExampleText)
	}
	empty := &state.State{Lineage: "l", Serial: 1, RecallVersion: "0.1.0"}
	want := "{\n  \"format_version\": 1,\n  \"lineage\": \"l\",\n  \"serial\": 1,\n  \"recall_version\": \"0.1.0\",\n  \"messages\": {}\n}\n"
	if got := encodeString(t, empty); got != want {
		t.Errorf("Encode of an empty state:\n%s\nwant:\n%s", got, want)
	}
	// Times are UTC to the second whatever their zone and fraction.
	s := specExample()
	zone := time.FixedZone("X", 5*3600+30*60)
	for id, r := range s.All() {
		r.At = r.At.In(zone).Add(999 * time.Millisecond)
		s.Set(id, r)
	}
	if got := encodeString(t, s); got != specExampleText {
		t.Errorf("Encode with zoned, fractional times:\n%s", got)
	}
}

func TestEncode_Deterministic(t *testing.T) {
	a := encodeString(t, statetest.LargeState(2000))
	for i := 0; i < 3; i++ {
		if b := encodeString(t, statetest.LargeState(2000)); a != b {
			t.Fatal("two encodings of the same state differ")
		}
	}
	lines := strings.Split(a, "\n")
	if len(lines) != 2000+9 { // 6 header lines, 2000 messages, "  }", "}", ""
		t.Errorf("%d lines, want one per message plus 9", len(lines))
	}
}

func TestAppendString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"plain", `"plain"`},
		{`q"b\s/`, `"q\"b\\s/"`},
		{"\n\r\t\b\f", `"\n\r\t\u0008\u000c"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"Zürich 東京 🚀", `"Zürich 東京 🚀"`},
		{"a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
		{"<&>", `"<&>"`},
	} {
		got := string(appendString(nil, tc.in))
		if got != tc.want {
			t.Errorf("appendString(%q) = %s, want %s", tc.in, got, tc.want)
		}
		// encoding/json reads back what was meant.
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("encoding/json cannot read %s: %v", got, err)
		} else if want := strings.ToValidUTF8(tc.in, "\ufffd"); back != want && !strings.Contains(tc.in, "\xc3") {
			t.Errorf("encoding/json reads %s as %q, want %q", got, back, want)
		}
	}
}

// tricky is a state whose strings exercise escaping and interning.
func tricky() *state.State {
	s := statetest.LargeState(300)
	s.Lineage = `lineage "quoted" \ ü`
	s.RecallVersion = "0.1.0-dev+\u2028"
	descs := []string{
		`quote " backslash \ slash /`, "tab\tnewline\ncr\r", "nul \x00 bell \x07 del \x7f",
		"Zürich, 東京, 🚀", "sep \u2028 \u2029", "bad \xff utf8", "", "<html>&amp;",
	}
	i := 0
	for _, id := range s.IDs() {
		r := s.Get(id)
		r.Description = descs[i%len(descs)]
		if i%7 == 0 {
			r.Status = ""
		}
		if i%11 == 0 {
			r.Group = ""
		}
		s.Set(id, r)
		i++
	}
	return s
}

// normalised is s as it reads back: invalid UTF-8 replaced.
func normalised(s *state.State) *state.State {
	c := &state.State{Lineage: strings.ToValidUTF8(s.Lineage, "\ufffd"), Serial: s.Serial, RecallVersion: s.RecallVersion}
	for id, r := range s.All() {
		r.Description = strings.ToValidUTF8(r.Description, "\ufffd")
		c.Set(id, r)
	}
	return c
}

func TestDecode_RoundTrip(t *testing.T) {
	for name, s := range map[string]*state.State{
		"spec":   specExample(),
		"tricky": tricky(),
		"large":  statetest.LargeState(5000),
		"empty":  {Lineage: "x", Serial: 0},
	} {
		t.Run(name, func(t *testing.T) {
			text := encodeString(t, s)
			want := normalised(s)

			res, err := decode(strings.NewReader(text), int64(len(text)), "s.json")
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d := statetest.Diff(want, res.st); d != "" {
				t.Errorf("decode (-want +got):\n%s", d)
			}
			if res.st.RecallVersion != s.RecallVersion {
				t.Errorf("recall_version = %q, want %q", res.st.RecallVersion, s.RecallVersion)
			}
			if d := fmt.Sprint(res.st.IDs()); d != fmt.Sprint(res.ids) {
				t.Error("decode returned IDs out of order")
			}
			// The fast path read it; the strict decoder agrees.
			d := &fast{br: newReader(text), intern: interner{}, canonical: true}
			if _, _, err := d.decode(int64(len(text))); err != nil {
				t.Errorf("the fast path refused Encode's output: %v", err)
			}
			strict, err := decodeStrict([]byte(text), "s.json")
			if err != nil {
				t.Fatalf("decodeStrict: %v", err)
			}
			if d := statetest.Diff(res.st, strict); d != "" {
				t.Errorf("fast and strict decoders disagree (-fast +strict):\n%s", d)
			}
			// Plain encoding/json reads the file too.
			var plain struct {
				Lineage  string
				Serial   uint64
				Messages map[string]struct{ Outcome, Description string }
			}
			if err := json.Unmarshal([]byte(text), &plain); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if plain.Lineage != want.Lineage || plain.Serial != want.Serial || len(plain.Messages) != want.Len() {
				t.Errorf("encoding/json reads lineage %q serial %d, %d messages", plain.Lineage, plain.Serial, len(plain.Messages))
			}
			for id, r := range want.All() {
				if p := plain.Messages[id.String()]; p.Description != r.Description || p.Outcome != r.Outcome.String() {
					t.Errorf("encoding/json reads %s as %+v, want %+v", id, p, r)
				}
			}
		})
	}
}

// TestDecode_OtherLayouts: any valid JSON of the format reads the same.
func TestDecode_OtherLayouts(t *testing.T) {
	s := tricky()
	text := encodeString(t, s)
	want := normalised(s)

	var generic map[string]any
	if err := json.Unmarshal([]byte(text), &generic); err != nil {
		t.Fatal(err)
	}
	sorted, _ := json.Marshal(generic) // keys in alphabetical order, one line
	var indented bytes.Buffer
	json.Indent(&indented, sorted, "", "\t")
	var compact bytes.Buffer
	json.Compact(&compact, []byte(text))
	crlf := strings.ReplaceAll(text, "\n", "\r\n")
	// Upper-case IDs and non-canonical escapes are fine too.
	upper := regexp.MustCompile(`"([0-9a-f]{32})"`).ReplaceAllStringFunc(text, strings.ToUpper)
	escaped := strings.Replace(text, `"006"`, `"\u0030\u00306"`, -1)
	zoned := strings.Replace(text, `T10:00:00Z"`, `T11:00:00.250+01:00"`, -1)

	for name, layout := range map[string]string{
		"sorted keys": string(sorted), "tab indented": indented.String(), "compact": compact.String(),
		"CRLF": crlf, "upper-case IDs": upper, "escapes": escaped, "zoned times": zoned,
		"no final newline": strings.TrimSuffix(text, "\n"), "trailing spaces": text + " \n\t\n",
	} {
		t.Run(name, func(t *testing.T) {
			res, err := decode(strings.NewReader(layout), int64(len(layout)), "s.json")
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d := statetest.Diff(want, res.st); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func newReader(s string) *bufio.Reader { return bufio.NewReader(strings.NewReader(s)) }

func TestDecode_Corrupt(t *testing.T) {
	good := encodeString(t, specExample())
	lines := strings.Split(good, "\n")
	edit := func(line int, from, to string) string {
		l := append([]string(nil), lines...)
		if !strings.Contains(l[line-1], from) {
			t.Fatalf("line %d has no %q", line, from)
		}
		l[line-1] = strings.Replace(l[line-1], from, to, 1)
		return strings.Join(l, "\n")
	}
	dup := strings.Replace(good, `  }`, "", 1)
	dup = strings.Replace(dup, "\"2026-11-27T10:00:01Z\"}\n", "\"2026-11-27T10:00:01Z\"},\n    \"360586640FE9846954897DFFE6C13DFC\": {\"outcome\": \"cancelled\", \"at\": \"2026-11-27T10:00:00Z\"}\n  }\n", 1)

	for _, tc := range []struct {
		name, text string
		line       int
		msg        string
	}{
		{"empty file", "", 1, "empty file"},
		{"only spaces", "  \n", 1, "empty file"},
		{"truncated", good[:len(good)/2], 7, "unexpected end of file"},
		{"not an object", "[1, 2]", 1, "must be a JSON object"},
		{"garbage", "{\n  \"format_version\": 1,\n  oops\n}", 3, "invalid character"},
		{"missing lineage", strings.Replace(good, "  \"lineage\": \"0b6d3a1e-4f7c-4d21-9a0e-6f1d2c3b4a59\",\n", "", 1), 9, `missing "lineage"`},
		{"empty lineage", edit(3, `"0b6d3a1e-4f7c-4d21-9a0e-6f1d2c3b4a59"`, `""`), 3, "empty lineage"},
		{"lineage not a string", edit(3, `"0b6d3a1e-4f7c-4d21-9a0e-6f1d2c3b4a59"`, `7`), 3, "lineage must be a string"},
		{"negative serial", edit(4, "3", "-3"), 4, "serial -3 is not a whole number"},
		{"fractional serial", edit(4, "3", "3.5"), 4, "serial 3.5"},
		{"old format", edit(2, "1", "0"), 2, "format_version is 0"},
		{"unknown key", edit(5, "recall_version", "recall_verison"), 5, `unknown key "recall_verison"`},
		{"duplicate key", edit(5, "recall_version", "serial"), 5, `duplicate key "serial"`},
		{"bad outcome", edit(7, `"cancelled"`, `"canceled"`), 7, `unknown outcome "canceled"`},
		{"outcome of a newer recall", edit(7, `"cancelled"`, `"withdrawn"`), 7, `unknown outcome "withdrawn" (want cancelled, too_late, not_found or not_delivered); if a newer recall wrote this state, upgrade recall`},
		{"missing outcome", edit(8, `"outcome": "not_found", `, ""), 8, "missing outcome"},
		{"missing at", edit(8, `, "at": "2026-11-27T10:00:01Z"`, ""), 8, "missing at"},
		{"bad at", edit(8, `2026-11-27T10:00:01Z`, `2026-11-31T10:00:01Z`), 8, `at "2026-11-31T10:00:01Z" is not an RFC 3339 time`},
		{"unknown field", edit(8, `"group"`, `"grupo"`), 8, `unknown field "grupo"`},
		{"record not an object", edit(8, `{"outcome": "not_found", "group": "black-friday-wrong-price", "at": "2026-11-27T10:00:01Z"}`, `"cancelled"`), 8, "want an object"},
		{"record null", edit(8, `{"outcome": "not_found", "group": "black-friday-wrong-price", "at": "2026-11-27T10:00:01Z"}`, `null`), 8, "want an object"},
		{"status not a string", edit(7, `"006"`, `6`), 7, "status must be a string, not a number"},
		{"short ID", edit(8, "b09e1b1bdb5a070c978f03b6836b955c", "b09e1b1bdb5a070c"), 8, `message ID "b09e1b1bdb5a070c"`},
		{"non-hex ID", edit(8, "b09e1b1bdb5a070c978f03b6836b955c", "x09e1b1bdb5a070c978f03b6836b955c"), 8, "not a hexadecimal digit"},
		{"duplicate ID", dup, 9, "appears twice (also on line 7)"},
		{"messages not an object", strings.Replace(good, good[strings.Index(good, `  "messages": {`):], "  \"messages\": []\n}\n", 1), 6, "messages must be an object"},
		{"missing messages", strings.Replace(good, good[strings.Index(good, `,
  "messages": {`):], "\n}\n", 1), 6, `missing "messages"`},
		{"trailing data", good + "{}\n", 11, "data after the end"},
		{"trailing comma", strings.Replace(good, "10:00:01Z\"}\n", "10:00:01Z\"},\n", 1), 9, "invalid character '}'"},
		{"control character", edit(7, "User cancelled", "User\x01cancelled"), 7, "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(strings.NewReader(tc.text), int64(len(tc.text)), "recall.state.json")
			if err == nil {
				t.Fatal("decode succeeded")
			}
			if !errors.Is(err, state.ErrCorrupt) {
				t.Fatalf("error %v does not wrap state.ErrCorrupt", err)
			}
			want := fmt.Sprintf("recall.state.json:%d: ", tc.line)
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error:\n  %v\nwant it to start with %q and contain %q", err, want, tc.msg)
			}
			if strings.HasPrefix(strings.TrimPrefix(err.Error(), want), "state:") {
				t.Errorf("error %q: the location is enough, no inner \"state:\"", err)
			}
		})
	}
}

func TestDecode_NewerFormat(t *testing.T) {
	good := encodeString(t, specExample())
	for name, text := range map[string]string{
		"canonical":    strings.Replace(good, `"format_version": 1`, `"format_version": 2`, 1),
		"new layout":   `{"format_version": 3, "messages": [1, 2], "novelty": true}`,
		"version last": `{"lineage": "x", "frobs": {}, "format_version": 2.0}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decode(strings.NewReader(text), int64(len(text)), "s.json")
			var fe *state.FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v, want a *state.FormatError", err)
			}
			if fe.Location != "s.json" || fe.Version < 2 {
				t.Errorf("FormatError %+v", fe)
			}
		})
	}
}

// FuzzDecode checks that no input panics, that what the fast path accepts
// the strict decoder reads the same, and that whatever decodes encodes to
// a file that decodes to the same state.
func FuzzDecode(f *testing.F) {
	f.Add(specExampleText)
	f.Add(encodeString(f, tricky()))
	f.Add(encodeString(f, &state.State{Lineage: "x"}))
	f.Add(`{"format_version":1,"lineage":"x","serial":1,"messages":{"360586640fe9846954897dffe6c13dfc":{"outcome":"too_late","at":"2026-11-27T10:00:00Z"}}}`)
	f.Fuzz(func(t *testing.T, text string) {
		res, err := decode(strings.NewReader(text), int64(len(text)), "s.json")
		if err != nil {
			var fe *state.FormatError
			if !errors.Is(err, state.ErrCorrupt) && !errors.As(err, &fe) {
				t.Fatalf("error neither corrupt nor format: %v", err)
			}
			return
		}
		d := &fast{br: newReader(text), intern: interner{}, canonical: true}
		if fastSt, _, ferr := d.decode(int64(len(text))); ferr == nil {
			strict, err := decodeStrict([]byte(text), "s.json")
			if err != nil {
				t.Fatalf("fast path accepted what the strict decoder refuses: %v", err)
			}
			if diff := statetest.Diff(strict, fastSt); diff != "" || strict.RecallVersion != fastSt.RecallVersion {
				t.Fatalf("fast and strict disagree (-strict +fast):\n%s", diff)
			}
			if d.canonical && encodeString(t, fastSt) != text && encodeString(t, fastSt) != text+"\n" {
				t.Fatalf("fast path called a non-canonical file canonical:\n%q\n%q", text, encodeString(t, fastSt))
			}
		}
		again := encodeString(t, res.st)
		res2, err := decode(strings.NewReader(again), int64(len(again)), "s.json")
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v\n%s", err, again)
		}
		if diff := statetest.Diff(res.st, res2.st); diff != "" {
			t.Fatalf("re-encoded state differs:\n%s", diff)
		}
	})
}

func TestEncode_ParallelMatchesSequential(t *testing.T) {
	for _, n := range []int{2*encodeChunk + 1, 3 * encodeChunk, 3*encodeChunk + 1, 5*encodeChunk - 1} {
		s := statetest.LargeState(n)
		ids := s.IDs()
		want := appendRecords(nil, s, ids, true)
		for _, workers := range []int{2, 3, 4} {
			var got bytes.Buffer
			if err := encodeParallel(&got, s, ids, workers); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("%d messages, %d workers: parallel encoding differs:\n%s", n, workers, lineDiff(string(want), got.String()))
			}
		}
	}
}

// failingWriter fails once more than limit bytes have been written.
type failingWriter struct{ n, limit int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n > w.limit {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestEncode_ParallelWriteError(t *testing.T) {
	s := statetest.LargeState(20 * encodeChunk)
	ids := s.IDs()
	for _, limit := range []int{0, 1 << 20, 5 << 20} {
		err := encodeParallel(&failingWriter{limit: limit}, s, ids, 3)
		if err == nil || err.Error() != "disk full" {
			t.Errorf("limit %d: %v, want the writer's error", limit, err)
		}
	}
}
