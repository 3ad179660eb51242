package manifest

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
		for _, d := range ve.Diagnostics {
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
		if !validName(g.Name) || names[g.Name] {
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
