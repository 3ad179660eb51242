package manifest

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/recallhq/recall/internal/editdist"
)

// diagnostics collects the problems of one load. Each file keeps at most
// MaxErrors+1 of them (so a garbage ids file cannot exhaust memory); they
// are sorted and cut to MaxErrors at the end.
type diagnostics struct {
	list      []rankedDiag
	ranks     map[string]int // file -> order in which it was first seen
	perFile   map[int]int
	truncated bool
}

type rankedDiag struct {
	rank int
	Diagnostic
}

func (d *diagnostics) rank(file string) int {
	if d.ranks == nil {
		d.ranks = make(map[string]int)
		d.perFile = make(map[int]int)
	}
	r, ok := d.ranks[file]
	if !ok {
		r = len(d.ranks)
		d.ranks[file] = r
	}
	return r
}

func (d *diagnostics) add(p Pos, msg string) {
	r := d.rank(p.File)
	d.perFile[r]++
	d.list = append(d.list, rankedDiag{r, Diagnostic{Pos: p, Message: msg}})
}

// full reports whether file has as many diagnostics as can be shown.
func (d *diagnostics) full(file string) bool {
	return d.perFile[d.rank(file)] > MaxErrors
}

func (d *diagnostics) err() error {
	if len(d.list) == 0 {
		return nil
	}
	slices.SortStableFunc(d.list, func(a, b rankedDiag) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	e := &ValidationError{Truncated: d.truncated}
	for _, rd := range d.list {
		if len(e.Diagnostics) == MaxErrors {
			e.Truncated = true
			break
		}
		e.Diagnostics = append(e.Diagnostics, rd.Diagnostic)
	}
	return e
}

// errorf records a diagnostic at p, unless p's file has all it can show.
func (l *loader) errorf(p Pos, format string, args ...any) {
	if l.diags.full(p.File) {
		l.diags.truncated = true // and spare formatting what nobody sees
		return
	}
	l.diags.add(p, fmt.Sprintf(format, args...))
}

// maxEcho is how many characters of a bad value a message quotes.
const maxEcho = 40

// quote quotes s for a message, safely (binary garbage is escaped) and
// shortened to its first maxEcho characters.
func quote(s string) string {
	i, n := 0, 0
	for i < len(s) && n < maxEcho {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	if i < len(s) {
		return strconv.Quote(s[:i]) + "..."
	}
	return strconv.Quote(s)
}

// idProblem says why s, an entry of an ids list or a line of an ids file
// (unit), is not a message ID.
func idProblem(s, unit string) string {
	if n := utf8.RuneCountInString(s); n != 32 {
		if t := strings.ReplaceAll(s, "-", ""); len(t) == 32 && isHex(t) {
			return "this looks like a UUID; a Clickatell message ID is 32 hexadecimal characters without dashes"
		}
		if strings.ContainsAny(s, " \t,;") {
			return "want one message ID (32 hexadecimal characters) per " + unit
		}
		return fmt.Sprintf("want 32 hexadecimal characters, got %d", n)
	}
	for i, r := range []rune(s) {
		if r > 0x7f || !isHex(string(r)) {
			return fmt.Sprintf("%s at position %d is not a hexadecimal digit", strconv.QuoteRune(r), i+1)
		}
	}
	return "not a message ID"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// suggest returns the candidate closest to got, if it is close enough to
// be what the user meant.
func suggest(got string, candidates []string) string {
	norm := func(s string) string {
		return strings.NewReplacer("_", "", "-", "", " ", "").Replace(strings.ToLower(s))
	}
	best, bestDist := "", 3
	for _, c := range candidates {
		if norm(c) == norm(got) {
			return c
		}
		// Long keys are no one's typo, and would cost time.
		if len(got) > 64 {
			continue
		}
		if d := editdist.Distance(strings.ToLower(got), c); d < bestDist && d < len(c) {
			best, bestDist = c, d
		}
	}
	return best
}

// ValidGroupName reports whether s is a group name a manifest accepts:
// [a-z0-9][a-z0-9._-]{0,63}. Saved plans are checked with it too.
func ValidGroupName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// slug turns an invalid group name into a valid one to suggest, or "".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		case r == '.' || r == '_' || r == '-':
			if b.Len() > 0 && !dash {
				b.WriteRune(r)
			}
		default:
			dash = true
		}
		if b.Len() >= 64 {
			break
		}
	}
	out := strings.TrimRight(b.String(), "._-")
	if len(out) > 64 {
		out = strings.TrimRight(out[:64], "._-")
	}
	if !ValidGroupName(out) || out == s {
		return ""
	}
	return out
}
