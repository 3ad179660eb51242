package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/recallhq/recall/msgid"
)

// MaxFileSize is the largest manifest file recall reads. Long ID lists
// belong in ids_from files, which have no size limit and load far faster
// than the same IDs written as YAML.
const MaxFileSize = 16 << 20

// Load reads and validates the manifest files or directories at paths (a
// directory means every *.yaml and *.yml directly inside it, in name order;
// names starting with "." are skipped). A file named twice, directly or
// through a directory or a symlink, is read once.
//
// Every problem found in the manifests and their ids_from files is returned
// in one *ValidationError, and the Manifest is then nil. Problems with the
// paths themselves (a missing file, a file that is not *.yaml or *.yml, an
// unreadable directory) are returned as ordinary errors naming the path;
// they wrap the underlying error, so errors.Is(err, fs.ErrNotExist) works.
func Load(paths ...string) (*Manifest, error) {
	if len(paths) == 0 {
		return nil, errors.New("no manifest given: name at least one manifest file or directory")
	}
	l := newLoader()
	defer l.close()
	for _, p := range paths {
		if p == "" {
			return nil, errors.New("empty manifest path: name a manifest file or directory")
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, pathError(p, err)
		}
		if !fi.IsDir() {
			if !fi.Mode().IsRegular() {
				return nil, notRegular(p, fi.Mode())
			}
			if !isYAMLName(p) {
				return nil, &fileError{msg: fmt.Sprintf("%s is not a manifest: manifest files end in .yaml or .yml (a list of message IDs belongs in a group's ids_from)", p)}
			}
			if err := l.loadFile(p, fi); err != nil {
				return nil, err
			}
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, pathError(p, err)
		}
		n := 0
		for _, e := range entries { // ReadDir sorts by name
			name := e.Name()
			if strings.HasPrefix(name, ".") || !isYAMLName(name) {
				continue
			}
			fp := filepath.Join(p, name)
			fi, err := os.Stat(fp)
			if err != nil {
				return nil, pathError(fp, err)
			}
			if !fi.Mode().IsRegular() {
				// Not skipped: a *.yaml that is a pipe or a device is a
				// manifest the user meant to be read.
				return nil, notRegular(fp, fi.Mode())
			}
			n++
			if err := l.loadFile(fp, fi); err != nil {
				return nil, err
			}
		}
		if n == 0 {
			return nil, &fileError{msg: fmt.Sprintf("directory %s holds no manifest: expected *.yaml or *.yml files directly inside it", p)}
		}
	}
	return l.finish()
}

// Parse reads and validates one manifest from r. path names it in
// diagnostics and Manifest.Files, and ids_from paths are resolved relative
// to filepath.Dir(path) (which must exist if any group uses ids_from).
func Parse(r io.Reader, path string) (*Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, &fileError{msg: fmt.Sprintf("cannot read manifest %s: %v", path, err), err: err}
	}
	if len(data) > MaxFileSize {
		return nil, tooBig(path)
	}
	l := newLoader()
	defer l.close()
	l.files = append(l.files, path)
	l.parseManifest(data, path)
	return l.finish()
}

// fileError is a problem with a path given to Load, rather than with what
// the file says.
type fileError struct {
	msg string
	err error
}

func (e *fileError) Error() string { return e.msg }
func (e *fileError) Unwrap() error { return e.err }

func pathError(p string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &fileError{msg: fmt.Sprintf("manifest %s does not exist: create it, or name the manifest files or directories to read", p), err: err}
	case errors.Is(err, fs.ErrPermission):
		return &fileError{msg: fmt.Sprintf("cannot read manifest %s: permission denied", p), err: err}
	}
	return &fileError{msg: fmt.Sprintf("cannot read manifest %s: %v", p, unwrapPath(err)), err: err}
}

// unwrapPath drops the "open /path:" prefix of a *fs.PathError whose path
// the message already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openRegular opens path for reading without waiting for a writer, should
// it be a named pipe; the caller checks what it opened.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, pathError(path, err)
	}
	return f, nil
}

// notRegular refuses a manifest path that is not a regular file: a named
// pipe would block the command until something writes to it, a device
// could be read forever.
func notRegular(path string, mode fs.FileMode) error {
	return &fileError{msg: fmt.Sprintf("manifest %s is %s, not a regular file: recall reads manifests from files only (save the manifest to a .yaml file and name that)", path, fileKind(mode))}
}

// fileKind names what a file that is not a regular one is.
func fileKind(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case mode&fs.ModeCharDevice != 0:
		return "a character device"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	case mode.IsDir():
		return "a directory"
	}
	return "a special file"
}

func tooBig(path string) error {
	return &fileError{msg: fmt.Sprintf("manifest %s is larger than %d MiB: move long ID lists into ids_from files (one ID per line, no size limit)", path, MaxFileSize>>20)}
}

func isYAMLName(p string) bool {
	ext := filepath.Ext(p)
	return ext == ".yaml" || ext == ".yml"
}

// loader accumulates the groups, IDs and diagnostics of one Load or Parse.
type loader struct {
	files []string
	seen  []fs.FileInfo // manifest files read, to read each once

	diags diagnostics

	groups []*Group
	spans  [][2]int       // per group: its IDs are all[span[0]:span[1]]
	names  map[string]Pos // group name -> where it was first defined
	roots  map[string]*os.Root
	ids    []idsFileUse // ids files read, to catch one file used twice

	// all holds every valid ID, in manifest order; groups' IDs are slices
	// of it, cut when loading is done. set indexes it to find duplicates,
	// and sources say where each ID came from, for the message naming the
	// first place a duplicate was listed.
	all     []msgid.ID
	set     idSet
	sources []source
}

// source is a run of consecutive IDs in loader.all that came from one ids
// list or ids file.
type source struct {
	start int
	file  string
	group string
	lines []uint32
	cols  []uint32 // nil for ids files, which have no columns
}

type idsFileUse struct {
	fi    fs.FileInfo
	group string
	pos   Pos
}

func newLoader() *loader {
	return &loader{
		names: make(map[string]Pos),
		roots: make(map[string]*os.Root),
		set:   newIDSet(),
	}
}

func (l *loader) close() {
	for _, r := range l.roots {
		r.Close()
	}
}

// loadFile reads one manifest file named on the command line or found in a
// directory; it returns an error only for I/O problems with the file.
//
// The file is opened without blocking and checked again once open: a path
// that became a named pipe since it was stat'ed must not hang the command
// (opening a FIFO for reading waits for a writer).
func (l *loader) loadFile(path string, _ fs.FileInfo) error {
	f, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return pathError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return notRegular(path, fi.Mode())
	}
	for _, s := range l.seen {
		if os.SameFile(s, fi) {
			return nil
		}
	}
	l.seen = append(l.seen, fi)
	if fi.Size() > MaxFileSize {
		return tooBig(path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return pathError(path, err)
	}
	if len(data) > MaxFileSize {
		return tooBig(path)
	}
	l.files = append(l.files, path)
	l.parseManifest(data, path)
	return nil
}

// finish returns the Manifest, or the diagnostics if there were any.
func (l *loader) finish() (*Manifest, error) {
	if err := l.diags.err(); err != nil {
		return nil, err
	}
	for i, g := range l.groups {
		s := l.spans[i]
		g.IDs = l.all[s[0]:s[1]:s[1]]
	}
	m := &Manifest{Files: l.files, Groups: l.groups}
	if m.Files == nil {
		m.Files = []string{}
	}
	if m.Groups == nil {
		m.Groups = []*Group{}
	}
	m.Digest = digest(m.Groups)
	return m, nil
}

// addID records id, listed at file:line:col for group; it reports a
// duplicate and returns false if id was listed before.
func (l *loader) addID(id msgid.ID, src *source, line, col uint32) bool {
	if prev, dup := l.set.insert(l.all, id, len(l.all)); dup {
		l.errorf(Pos{File: src.file, Line: int(line), Col: int(col)},
			"duplicate ID %s: already listed at %s", id, l.locate(prev))
		return false
	}
	l.all = append(l.all, id)
	src.lines = append(src.lines, line)
	if src.cols != nil {
		src.cols = append(src.cols, col)
	}
	return true
}

// locate says where the ID at all[i] was listed.
func (l *loader) locate(i int) string {
	k, found := slices.BinarySearchFunc(l.sources, i, func(s source, i int) int { return s.start - i })
	if !found {
		k--
	}
	// Sources may be empty, so several can share a start; the ID is in the
	// last of them.
	for k+1 < len(l.sources) && l.sources[k+1].start <= i {
		k++
	}
	s := &l.sources[k]
	j := i - s.start
	p := Pos{File: s.file, Line: int(s.lines[j])}
	if s.cols != nil {
		p.Col = int(s.cols[j])
	}
	return fmt.Sprintf("%s (group %s)", p, quoteGroup(s.group))
}

// checkText reports the first byte that YAML does not allow (invalid UTF-8,
// control characters) with its line and column, which yaml.v3 does not give.
func (l *loader) checkText(data []byte, path string) bool {
	if bytes.HasPrefix(data, []byte{0xfe, 0xff}) || bytes.HasPrefix(data, []byte{0xff, 0xfe}) {
		l.errorf(Pos{File: path, Line: 1, Col: 1}, "file is UTF-16 text: save it as UTF-8")
		return false
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		c := data[i]
		if c == '\n' {
			line, col = line+1, 1
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= 0x80 {
			r, size = utf8.DecodeRune(data[i:])
		}
		if !yamlPrintable(r) || r == utf8.RuneError && size == 1 {
			switch {
			case size == 1 && c >= 0x80:
				l.errorf(Pos{File: path, Line: line, Col: col}, "file is not valid UTF-8 (byte 0x%02x): manifests must be UTF-8 text", c)
			default:
				l.errorf(Pos{File: path, Line: line, Col: col}, "control character %U is not allowed in YAML: remove it", r)
			}
			return false
		}
		i += size
		col++
	}
	return true
}

func yamlPrintable(r rune) bool {
	switch {
	case r == 0x09, r == 0x0a, r == 0x0d, r >= 0x20 && r <= 0x7e, r == 0x85,
		r >= 0xa0 && r <= 0xd7ff, r >= 0xe000 && r <= 0xfffd, r >= 0x10000 && r <= 0x10ffff:
		return true
	}
	return false
}

// timeUTC parses an RFC 3339 time and returns it in UTC.
func timeUTC(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
