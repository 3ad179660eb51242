package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/recallhq/recall/manifest"
)

// validateOutput is 'recall validate -json': the document of
// 'terraform validate -json' (its views/validate.go), field for field.
type validateOutput struct {
	FormatVersion string           `json:"format_version"`
	Valid         bool             `json:"valid"`
	ErrorCount    int              `json:"error_count"`
	WarningCount  int              `json:"warning_count"`
	Diagnostics   []jsonDiagnostic `json:"diagnostics"`
}

// jsonDiagnostic is Terraform's JSON diagnostic (views/json/diagnostic.go)
// without the snippet.
type jsonDiagnostic struct {
	// Severity is "error" or "warning".
	Severity string `json:"severity"`
	// Summary is the problem in one line.
	Summary string `json:"summary"`
	// Detail says more, or is "".
	Detail string `json:"detail"`
	// Range is where in which file; nil when the problem has no place.
	Range *jsonRange `json:"range,omitempty"`
}

// jsonRange is the part of a file a diagnostic is about: Start inclusive,
// End exclusive, as Terraform's.
type jsonRange struct {
	Filename string  `json:"filename"`
	Start    jsonPos `json:"start"`
	End      jsonPos `json:"end"`
}

// jsonPos is a position in a file.
type jsonPos struct {
	// Line is 1-based.
	Line int `json:"line"`
	// Column is 1-based, in characters.
	Column int `json:"column"`
	// Byte is the 0-based offset in the file; left out when the file
	// could not be read again.
	Byte *int `json:"byte,omitempty"`
}

// writeValidateJSON writes validate -json's document for the outcome of
// loading the manifest (err nil: valid), and returns the command's
// error: exit 1 without a message when invalid, since stdout says it all.
func writeValidateJSON(w io.Writer, err error) error {
	out := validateOutput{FormatVersion: "1.0", Valid: err == nil, Diagnostics: []jsonDiagnostic{}}
	var ve *manifest.ValidationError
	switch {
	case err == nil:
	case errors.As(err, &ve) && len(ve.Diagnostics) > 0:
		out.Diagnostics = manifestDiagnostics(ve.Diagnostics)
		if ve.Truncated {
			out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{
				Severity: "warning",
				Summary:  fmt.Sprintf("too many errors; only the first %d are shown", manifest.MaxErrors),
				Detail:   "fix these and run 'recall validate' again to see the rest",
			})
		}
	default:
		summary, detail := describe(err)
		out.Diagnostics = []jsonDiagnostic{{Severity: "error", Summary: summary, Detail: detail}}
	}
	for _, d := range out.Diagnostics {
		if d.Severity == "error" {
			out.ErrorCount++
		} else {
			out.WarningCount++
		}
	}
	b, merr := json.MarshalIndent(out, "", "  ")
	if merr != nil {
		return merr
	}
	if _, werr := fmt.Fprintf(w, "%s\n", b); werr != nil {
		return werr
	}
	if !out.Valid {
		return &exitError{code: 1}
	}
	return nil
}

// manifestDiagnostics turns the manifest's diagnostics into JSON ones, each
// with its range. A diagnostic without a column (a line of an ids file)
// covers its whole line.
func manifestDiagnostics(ds []manifest.Diagnostic) []jsonDiagnostic {
	// The lines each file's diagnostics are on, to read each file once.
	want := make(map[string]map[int]*lineInfo)
	for _, d := range ds {
		if want[d.Pos.File] == nil {
			want[d.Pos.File] = make(map[int]*lineInfo)
		}
		want[d.Pos.File][d.Pos.Line] = nil
	}
	for file, lines := range want {
		readLines(file, lines)
	}
	out := make([]jsonDiagnostic, 0, len(ds))
	for _, d := range ds {
		line := max(d.Pos.Line, 1)
		r := &jsonRange{Filename: d.Pos.File}
		r.Start = jsonPos{Line: line, Column: max(d.Pos.Col, 1)}
		r.End = jsonPos{Line: line, Column: r.Start.Column + 1}
		if li := want[d.Pos.File][d.Pos.Line]; li != nil {
			start, width := li.at(r.Start.Column)
			end := start + width
			if d.Pos.Col == 0 && len(li.text) > 0 {
				end = li.offset + len(li.text)
				r.End.Column = 1 + utf8.RuneCount(li.text)
			}
			r.Start.Byte, r.End.Byte = &start, &end
		}
		out = append(out, jsonDiagnostic{Severity: "error", Summary: d.Message, Detail: "", Range: r})
	}
	return out
}

// lineInfo is one line of a file: where it starts, and its first bytes.
type lineInfo struct {
	offset int
	text   []byte // without the line ending, at most maxLineText bytes
}

// maxLineText is how much of a line readLines keeps: enough for any
// column a manifest diagnostic names, bounded for garbage ids files.
const maxLineText = 64 << 10

// at returns the byte offset of the 1-based character column col of the
// line, and the width in bytes of the character there (1 past its end).
func (li *lineInfo) at(col int) (offset, width int) {
	i := 0
	for c := 1; c < col && i < len(li.text); c++ {
		_, size := utf8.DecodeRune(li.text[i:])
		i += size
	}
	width = 1
	if i < len(li.text) {
		_, width = utf8.DecodeRune(li.text[i:])
	}
	return li.offset + i, width
}

// readLines fills lines (line number -> nil) with those lines of file,
// reading no further than the last of them. A file that cannot be read
// leaves them nil: the ranges then have no byte offsets.
func readLines(file string, lines map[int]*lineInfo) {
	f, err := os.Open(file)
	if err != nil {
		return
	}
	defer f.Close()
	last := 0
	for n := range lines {
		last = max(last, n)
	}
	br := bufio.NewReaderSize(f, 32<<10)
	offset := 0
	for n := 1; n <= last; n++ {
		li := &lineInfo{offset: offset}
		for {
			b, err := br.ReadSlice('\n')
			offset += len(b)
			if _, ok := lines[n]; ok && len(li.text) < maxLineText {
				li.text = append(li.text, b[:min(len(b), maxLineText-len(li.text))]...)
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			if _, ok := lines[n]; ok {
				li.text = trimEOL(li.text)
				lines[n] = li
			}
			if err != nil {
				return
			}
			break
		}
	}
}

// trimEOL removes a line ending (\n or \r\n).
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
