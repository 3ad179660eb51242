package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/recallhq/recall/msgid"
	"gopkg.in/yaml.v3"
)

// idsFileBuffer is the read buffer for ids files, and the longest line
// read whole; longer lines are errors.
const idsFileBuffer = 64 << 10

// maxPresize caps how many IDs a file's size may make us allocate room for
// up front; beyond it, slices grow as usual.
const maxPresize = 16 << 20

func dirOf(path string) string { return filepath.Dir(path) }

// manifestDir names a manifest's directory in messages.
func manifestDir(dir string) string {
	if dir == "." {
		return "the manifest's directory"
	}
	return "the manifest's directory (" + dir + ")"
}

// idsPath is how diagnostics name an ids_from file: relative to where
// recall runs, like the manifest's own path.
func idsPath(manifest, rel string) string {
	return filepath.Join(filepath.Dir(manifest), rel)
}

// root returns the os.Root of dir: ids files are opened through it, so
// that neither ".." nor a symbolic link can lead out of dir.
func (l *loader) root(dir string) (*os.Root, error) {
	if r, ok := l.roots[dir]; ok {
		return r, nil
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	l.roots[dir] = r
	return r, nil
}

// readIDsFile reads the ids_from file that n names for group. It returns
// the number of entries read, and false if the file could not be read at
// all (which has been reported).
func (l *loader) readIDsFile(path string, n *yaml.Node, group string) (int, bool) {
	rel, p, dir := n.Value, pos(path, n), dirOf(path)
	display := idsPath(path, rel)
	switch {
	case filepath.IsAbs(rel):
		l.errorf(p, "ids_from must be a path relative to %s, got the absolute path %s", manifestDir(dir), quote(rel))
		return 0, false
	case !filepath.IsLocal(rel):
		l.errorf(p, "ids_from %s leads out of %s: ids files must be inside it", quote(rel), manifestDir(dir))
		return 0, false
	}
	root, err := l.root(dir)
	if err != nil {
		l.errorf(p, "cannot open the manifest's directory %s to read ids_from: %v", dir, unwrapPath(err))
		return 0, false
	}
	fi, err := root.Stat(rel)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			l.errorf(p, "ids_from file %s does not exist", display)
		case errors.Is(err, fs.ErrPermission):
			l.errorf(p, "cannot read ids_from file %s: permission denied", display)
		case strings.Contains(err.Error(), "escapes"):
			// IsLocal passed, so only a symbolic link can lead out. (os
			// does not export the error os.Root returns for it, "path
			// escapes from parent": its text is all there is to test.)
			l.errorf(p, "ids_from %s leads out of %s through a symbolic link: ids files must be inside it", quote(rel), manifestDir(dir))
		default:
			l.errorf(p, "cannot read ids_from file %s: %v", display, unwrapPath(err))
		}
		return 0, false
	}
	if fi.IsDir() {
		l.errorf(p, "ids_from %s is a directory: give a file with one message ID per line", display)
		return 0, false
	}
	if !fi.Mode().IsRegular() {
		l.errorf(p, "ids_from %s is not a regular file", display)
		return 0, false
	}
	for _, u := range l.ids {
		if os.SameFile(u.fi, fi) {
			l.errorf(p, "ids_from %s is already read by group %s at %s: an ID may be listed once, so an ids file can serve one group only", display, quoteGroup(u.group), u.pos)
			return 0, false
		}
	}
	l.ids = append(l.ids, idsFileUse{fi: fi, group: group, pos: p})
	// Without blocking, and checked again once open: a FIFO put in the
	// file's place since the Stat must not hang the command.
	f, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		l.errorf(p, "cannot read ids_from file %s: %v", display, unwrapPath(err))
		return 0, false
	}
	defer f.Close()
	if ofi, err := f.Stat(); err != nil || !ofi.Mode().IsRegular() || !os.SameFile(ofi, fi) {
		l.errorf(p, "ids_from file %s changed while it was being read", display)
		return 0, false
	}
	return l.scanIDs(f, display, fi.Size(), group), true
}

// scanIDs reads IDs, one a line, from r (the file display, of about size
// bytes) and returns the number of entries. Surrounding blanks, blank
// lines, "#" comments (from "#" to the end of the line) and CRLF line ends
// are ignored, and so is a UTF-8 byte order mark.
func (l *loader) scanIDs(r io.Reader, display string, size int64, group string) int {
	l.diags.rank(display)
	est := int(min(size/33+1, maxPresize))
	l.all = growIDs(l.all, est)
	l.set.reserve(len(l.all)+est, l.all)
	l.sources = append(l.sources, source{
		start: len(l.all),
		file:  display,
		group: group,
		lines: make([]uint32, 0, est),
	})
	src := &l.sources[len(l.sources)-1]
	br := bufio.NewReaderSize(r, idsFileBuffer)
	entries := 0
	line := uint32(0)
	// IDs are appended as read and checked for duplicates in batches:
	// l.all[unchecked:] are not checked yet.
	unchecked := len(l.all)
	defer func() { l.checkNew(src, unchecked) }()
	for {
		b, err := br.ReadSlice('\n')
		if len(b) == 0 && err != nil {
			if err != io.EOF {
				l.errorf(Pos{File: display, Line: int(line) + 1}, "cannot read: %v", err)
			}
			return entries
		}
		line++
		if err == bufio.ErrBufferFull {
			entries++
			l.errorf(Pos{File: display, Line: int(line)}, "line is longer than %d KiB, not a message ID: %s", idsFileBuffer>>10, quote(string(b)))
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			if l.diags.full(display) {
				return entries
			}
			continue
		}
		var id msgid.ID
		ok := false
		if len(b) == msgid.Len+1 && b[msgid.Len] == '\n' {
			id, ok = msgid.ParseBytes(b[:msgid.Len]) // the common line
		}
		if !ok {
			if line == 1 {
				b = bytes.TrimPrefix(b, []byte("\ufeff"))
			}
			if i := bytes.IndexByte(b, '#'); i >= 0 {
				b = b[:i]
			}
			b = trimBlanks(b)
			if len(b) == 0 {
				continue
			}
			if id, ok = msgid.ParseBytes(b); !ok {
				entries++
				if bytes.IndexByte(b, 0) >= 0 {
					l.errorf(Pos{File: display, Line: int(line)}, "line holds a NUL byte, so this looks like a binary file: an ids file is text, one message ID per line (stopped reading here)")
					return entries
				}
				s := string(b)
				l.errorf(Pos{File: display, Line: int(line)}, "invalid message ID %s: %s", quote(s), idProblem(s, "line"))
				if l.diags.full(display) {
					return entries
				}
				continue
			}
		}
		entries++
		l.all = append(l.all, id)
		src.lines = append(src.lines, line)
		if len(l.all)-unchecked == idsBatch {
			l.checkNew(src, unchecked)
			unchecked = len(l.all)
			if l.diags.full(display) {
				return entries
			}
		}
	}
}

// idsBatch is how many IDs scanIDs reads before checking them for
// duplicates together.
const idsBatch = 256

// checkNew checks l.all[from:], the last IDs read from src, for
// duplicates: each is reported and dropped, along with its line.
func (l *loader) checkNew(src *source, from int) {
	if from == len(l.all) {
		return
	}
	var hashes [idsBatch]uint64
	l.set.touch(l.all, l.all[from:], hashes[:])
	w := from
	for r := from; r < len(l.all); r++ {
		id, line := l.all[r], src.lines[r-src.start]
		if prev, dup := l.set.insertHashed(l.all, id, hashes[r-from], w); dup {
			l.errorf(Pos{File: src.file, Line: int(line)}, "duplicate ID %s: already listed at %s", id, l.locate(prev))
			continue
		}
		l.all[w] = id
		src.lines[w-src.start] = line
		w++
	}
	l.all = l.all[:w]
	src.lines = src.lines[:w-src.start]
}

func trimBlanks(b []byte) []byte {
	for len(b) > 0 && isBlank(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isBlank(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'
}

// growIDs makes room for n more IDs.
func growIDs(all []msgid.ID, n int) []msgid.ID {
	if cap(all)-len(all) >= n {
		return all
	}
	grown := make([]msgid.ID, len(all), len(all)+n)
	copy(grown, all)
	return grown
}
