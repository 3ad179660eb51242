package manifest

import (
	"time"

	"github.com/recallhq/recall/msgid"
)

// MaxErrors is how many diagnostics one run reports before giving up.
const MaxErrors = 50

// Manifest is the validated union of one or more manifest files.
type Manifest struct {
	// Files are the manifest files read, in the order they were read.
	Files []string
	// Groups are the cancel groups, in file order then document order.
	Groups []*Group
	// Digest identifies the manifest's content: "sha256:" and the hex
	// SHA-256 of a canonical form holding, for each group in order, its
	// name, reason, scheduled_at (RFC 3339, UTC) and IDs (16 bytes each,
	// in order). It ignores formatting, comments, key order, the case of
	// IDs, file names and whether an ID came from ids or ids_from; it
	// changes when anything a plan shows changes, including the order of
	// groups and IDs. Saved plans record it.
	Digest string
}

// Group is one entry of the cancel list.
type Group struct {
	// Name is unique across all files.
	Name string
	// Reason is free text shown in plans and kept in state; may be empty.
	Reason string
	// ScheduledAt is when the messages are due to go out; zero if unset.
	ScheduledAt time.Time
	// IDs are the group's message IDs, from ids then ids_from, in order.
	IDs []msgid.ID
	// Pos is where the group starts (its "- name:" item).
	Pos Pos
}

// Pos is a position in a manifest or ids file. Line and Col are 1-based;
// Col is 0 for positions in ids files, which are line-oriented.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats p as path:line:col (or path:line when Col is 0).
func (p Pos) String() string {
	if p.Col == 0 {
		return p.File + ":" + itoa(p.Line)
	}
	return p.File + ":" + itoa(p.Line) + ":" + itoa(p.Col)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	neg := i < 0
	if neg {
		i = -i
	}
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

// Diagnostic is one error found in a manifest.
type Diagnostic struct {
	Pos     Pos
	Message string
}

// Error formats d as path:line:col: message (path:line: message in ids
// files).
func (d Diagnostic) Error() string { return d.Pos.String() + ": " + d.Message }

// ValidationError holds every diagnostic of a run (at most MaxErrors; Truncated
// says more were found).
type ValidationError struct {
	Diagnostics []Diagnostic
	Truncated   bool
}

// Error lists the diagnostics, one a line, in file order.
func (e *ValidationError) Error() string {
	s := ""
	for i, d := range e.Diagnostics {
		if i > 0 {
			s += "\n"
		}
		s += d.Error()
	}
	if e.Truncated {
		s += "\n(too many errors; only the first " + itoa(MaxErrors) + " are shown)"
	}
	return s
}

// NumIDs returns the number of IDs in all groups.
func (m *Manifest) NumIDs() int {
	n := 0
	for _, g := range m.Groups {
		n += len(g.IDs)
	}
	return n
}
