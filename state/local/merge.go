package local

import (
	"bufio"
	"errors"
	"io"
	"os"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state"
)

// identity tells whether the file at a path is still the one this Backend
// last read or wrote: the same file (os.SameFile), size and modification
// time.
type identity struct {
	fi os.FileInfo
}

func (a identity) equal(b identity) bool {
	return a.fi != nil && b.fi != nil && os.SameFile(a.fi, b.fi) &&
		a.fi.Size() == b.fi.Size() && a.fi.ModTime().Equal(b.fi.ModTime())
}

func identityOf(fi os.FileInfo) (identity, bool) {
	return identity{fi}, fi != nil
}

// errNoMerge means the old file is not what the merge expected: the
// commit encodes the whole state instead.
var errNoMerge = errors.New("old state file does not match; encoding the whole state")

// merge writes the state to w by copying the old file's message lines
// and replacing those of the touched IDs (in order) with their records in
// st (or dropping them when st no longer has them). A million-message
// checkpoint then costs one sequential read and write, where encoding
// every record would cost a million map lookups.
//
// old must be the canonical file that holds st as it was before the
// changes; merge returns errNoMerge if it finds otherwise.
func merge(w io.Writer, old io.Reader, st *state.State, touched []msgid.ID) error {
	br := bufio.NewReaderSize(old, 256<<10)
	bw := bufio.NewWriterSize(w, 1<<20)
	buf := appendHeader(make([]byte, 0, 4096), st)

	// Skip the old header.
	empty := false
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return errNoMerge
		}
		if s := string(line); s == "  \"messages\": {\n" {
			break
		} else if s == "  \"messages\": {}\n" {
			empty = true
			break
		}
	}

	n := 0 // messages written
	sep := func() {
		if n == 0 {
			buf = append(buf, '\n')
		} else {
			buf = append(buf, ",\n"...)
		}
		n++
	}
	t := 0 // next touched ID
	emitTouched := func(id msgid.ID) {
		if r, ok := st.Lookup(id); ok {
			sep()
			buf = appendRecord(buf, id, &r)
		}
	}
	var prev msgid.ID
	first := true
	for !empty {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return errNoMerge
		}
		if string(line) == "  }\n" {
			break
		}
		if len(line) < minLineLen {
			return errNoMerge
		}
		id, ok := parseLowerHex(line[len(linePrefix) : len(linePrefix)+msgid.Len])
		if !ok || (!first && msgid.Compare(prev, id) >= 0) {
			return errNoMerge
		}
		prev, first = id, false
		for t < len(touched) && msgid.Compare(touched[t], id) < 0 {
			emitTouched(touched[t])
			t++
		}
		if t < len(touched) && touched[t] == id {
			emitTouched(id)
			t++
		} else {
			body := line[:len(line)-1]
			if body[len(body)-1] == ',' {
				body = body[:len(body)-1]
			}
			sep()
			buf = append(buf, body...)
		}
		if len(buf) > 3072 {
			if _, err := bw.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	for ; t < len(touched); t++ {
		emitTouched(touched[t])
	}
	if n != st.Len() {
		return errNoMerge
	}
	if n == 0 {
		buf = append(buf, "}\n}\n"...)
	} else {
		buf = append(buf, "\n  }\n}\n"...)
	}
	if _, err := bw.Write(buf); err != nil {
		return err
	}
	return bw.Flush()
}
