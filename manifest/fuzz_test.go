package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/recallhq/recall/msgid"
)

// FuzzParse feeds Parse arbitrary manifests (in a directory holding a few
// ids files, so that ids_from is exercised) and checks what must hold
// whatever the input: no panic, and either a manifest whose groups are
// valid with every ID unique, or a *ValidationError whose diagnostics have
// positions and short, printable messages.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"version: 1\n",
		"version: 1\ncancel: []\n",
		"version: 1\ncancel:\n  - name: a\n    reason: r\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids:\n      - " + id1 + "\n      - " + strings.ToUpper(id2) + "\n    ids_from: ids.txt\n",
		"version: 1\ncancel:\n  - {name: a, ids: [" + id1 + ", " + id1 + "]}\n  - {name: a, ids_from: ids.txt}\n  - {name: b, ids_from: ids.txt}\n",
		"version: 1\ncancel:\n  - {name: x, ids_from: bad.txt}\n  - {name: y, ids_from: ../ids.txt}\n  - {name: z, ids_from: /etc/passwd}\n  - {name: w, ids_from: sub}\n",
		"version: 1\ncancel:\n  - &a {name: a, ids: [&i " + id1 + "]}\n  - *a\n  - {name: b, ids: [*i], reason: *i}\n  - <<: *a\n",
		"version: 2\n",
		"version: '1'\ncancel: x\n",
		"- a\n- b\n",
		"version: 1\n---\nversion: 1\n",
		"version: 1\ncancel:\n  - name: Black Friday\n    idz: []\n",
		"version: 1\r\ncancel:\r\n  - name: a\r\n    ids: [" + id3 + "]\r\n",
		"version: 1\ncancel:\n  - name: a\n\tids: b\n",
		"version: 1\ncancel: [{name: a, ids: [" + id1 + "]}, {name: b, ids: [1e3, 0x10, ~, [x], {y: z}]}]\n",
		"\xff\xfe",
		"version: 1\n? [a]\n: b\n",
		"version: 1\ncancel:\n  - name: a\n    scheduled_at: 2026-13-45\n    ids: ['" + id4 + "']\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	for name, content := range map[string]string{
		"ids.txt":     id3 + "\n# c\n" + strings.ToUpper(id4) + "\r\n",
		"bad.txt":     "nope\n" + id1 + "\n\x00\n",
		"sub/ids.txt": id2 + "\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	path := filepath.Join(dir, "recall.yaml")

	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Parse(bytes.NewReader(data), path)
		if err == nil {
			checkManifest(t, m, path)
			m2, err := Parse(bytes.NewReader(data), path)
			if err != nil || m2.Digest != m.Digest {
				t.Fatalf("second parse differs: %v, %v", m2, err)
			}
			return
		}
		if m != nil {
			t.Fatalf("got a manifest and an error %v", err)
		}
		var ve *ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("got %T %v, want a *ValidationError", err, err)
		}
		if n := len(ve.Diagnostics); n == 0 || n > MaxErrors || ve.Truncated && n != MaxErrors {
			t.Fatalf("%d diagnostics, truncated %v", n, ve.Truncated)
		}
		for i, d := range ve.Diagnostics {
			if i > 0 {
				p := ve.Diagnostics[i-1].Pos
				if p.File == d.Pos.File && (p.Line > d.Pos.Line || p.Line == d.Pos.Line && p.Col > d.Pos.Col) {
					t.Errorf("diagnostics out of order: %v before %v", p, d.Pos)
				}
			}
			if d.Pos.Line <= 0 || d.Pos.Col < 0 || d.Pos.File == "" {
				t.Errorf("bad position in %q", d.Error())
			}
			if d.Message == "" || len(d.Message) > 1000 || !utf8.ValidString(d.Message) {
				t.Errorf("bad message %q", d.Message)
			}
			for _, r := range d.Message {
				if unicode.IsControl(r) {
					t.Errorf("control character in message %q", d.Message)
					break
				}
			}
		}
		if _, err2 := Parse(bytes.NewReader(data), path); err2 == nil || err2.Error() != err.Error() {
			t.Fatalf("second parse differs:\n%v\n---\n%v", err, err2)
		}
	})
}

func checkManifest(t *testing.T, m *Manifest, path string) {
	t.Helper()
	if len(m.Files) != 1 || m.Files[0] != path || !strings.HasPrefix(m.Digest, "sha256:") {
		t.Fatalf("bad manifest: files %q, digest %q", m.Files, m.Digest)
	}
	names := map[string]bool{}
	ids := map[msgid.ID]bool{}
	for _, g := range m.Groups {
		if !ValidGroupName(g.Name) || names[g.Name] {
			t.Fatalf("bad or duplicate group name %q", g.Name)
		}
		names[g.Name] = true
		if len(g.IDs) == 0 {
			t.Fatalf("group %q has no IDs", g.Name)
		}
		if g.Pos.Line <= 0 || g.Pos.Col <= 0 {
			t.Fatalf("group %q at %v", g.Name, g.Pos)
		}
		if !g.ScheduledAt.IsZero() && g.ScheduledAt.Location() != time.UTC {
			t.Fatalf("scheduled_at %v not in UTC", g.ScheduledAt)
		}
		for _, id := range g.IDs {
			if ids[id] {
				t.Fatalf("ID %s listed twice", id)
			}
			ids[id] = true
			if _, err := msgid.Parse(id.String()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzIDsFile checks the ids file reader against a plain reference: split
// into lines, drop a leading byte order mark, cut "#" comments, trim
// blanks, skip what is left empty; every other line must be a message ID,
// listed once; a NUL byte in a bad line stops reading.
func FuzzIDsFile(f *testing.F) {
	for _, s := range []string{
		id1 + "\n" + id2 + "\n",
		"\ufeff" + id1 + "\r\n\r\n# comment\n  " + strings.ToUpper(id2) + "  # trailing\n",
		id1 + "\n" + id1 + "\n",
		"nope\n" + id1,
		"\x00\x01\x02\n" + id1 + "\n",
		"# only a comment\n",
		"",
		id1 + " " + id2 + "\n" + id1[:31] + "\n",
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	manifest := filepath.Join(dir, "recall.yaml")
	ids := filepath.Join(dir, "ids.txt")
	if err := os.WriteFile(manifest, []byte("version: 1\ncancel:\n  - name: a\n    ids_from: ids.txt\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.Contains(data, []byte(strings.Repeat("x", idsFileBuffer))) || len(data) > idsFileBuffer {
			return // long lines have their own test
		}
		if err := os.WriteFile(ids, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// The reference.
		var want []msgid.ID
		var badLines []int
		seen := map[msgid.ID]bool{}
		entries := 0
		for i, line := range strings.Split(string(data), "\n") {
			if i == 0 {
				line = strings.TrimPrefix(line, "\ufeff")
			}
			if j := strings.IndexByte(line, '#'); j >= 0 {
				line = line[:j]
			}
			line = strings.Trim(line, " \t\r\n\v\f")
			if line == "" {
				continue
			}
			entries++
			id, err := msgid.Parse(line)
			if err != nil || seen[id] {
				badLines = append(badLines, i+1)
				if err != nil && strings.IndexByte(line, 0) >= 0 {
					break
				}
				continue
			}
			seen[id] = true
			want = append(want, id)
		}

		m, err := Load(manifest)
		switch {
		case entries == 0:
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Diagnostics) != 1 || ve.Diagnostics[0].Pos.File != manifest {
				t.Fatalf("no entries: got %v, want one diagnostic on the manifest", err)
			}
		case len(badLines) == 0:
			if err != nil {
				t.Fatalf("got %v, want IDs %v", err, want)
			}
			if got := m.Groups[0].IDs; !slices.Equal(got, want) {
				t.Fatalf("IDs = %v, want %v", got, want)
			}
		default:
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("got %v, want diagnostics at lines %v", err, badLines)
			}
			var got []int
			for _, d := range ve.Diagnostics {
				if d.Pos.File != ids || d.Pos.Col != 0 {
					t.Fatalf("diagnostic %v, want one in %s", d, ids)
				}
				got = append(got, d.Pos.Line)
			}
			if len(badLines) > MaxErrors {
				badLines = badLines[:MaxErrors]
			}
			if !slices.Equal(got, badLines) {
				t.Fatalf("diagnostics at lines %v, want %v:\n%v", got, badLines, err)
			}
		}
	})
}
