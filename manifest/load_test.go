package manifest

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/recallhq/recall/msgid"
)

const (
	id1 = "360586640fe9846954897dffe6c13dfc"
	id2 = "b09e1b1bdb5a070c978f03b6836b955c"
	id3 = "0123456789abcdef0123456789abcdef"
	id4 = "fedcba9876543210fedcba9876543210"
)

// inDir writes files (name -> content; a name ending in "@" -> a symlink
// to the content) into a fresh directory and makes it the working
// directory, so that diagnostics carry short relative paths.
func inDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutSuffix(name, "@"); ok {
			if err := os.Symlink(content, target); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// diagLines returns the lines of a *ValidationError, failing the test for
// any other outcome.
func diagLines(t *testing.T, m *Manifest, err error) []string {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got manifest %v, error %v (%T); want a *ValidationError", m, err, err)
	}
	if m != nil {
		t.Errorf("got a manifest along with a ValidationError")
	}
	var out []string
	for _, d := range ve.Diagnostics {
		out = append(out, d.Error())
	}
	return out
}

func group(name string, ids ...string) string {
	s := "  - name: " + name + "\n    ids:\n"
	for _, id := range ids {
		s += "      - " + id + "\n"
	}
	return s
}

func TestLoad_Valid(t *testing.T) {
	inDir(t, map[string]string{
		"recall.yaml": `version: 1
cancel:
  - name: black-friday-wrong-price          # required
    reason: Price typo in the 09:00 blast
    scheduled_at: 2026-11-28T10:00:00+01:00
    ids:
      - 360586640FE9846954897DFFE6C13DFC
      - ` + id2 + `
    ids_from: exports/black-friday.txt
  - name: "0"
    ids: [` + id4 + `]
`,
		"exports/black-friday.txt": "# exported 2026-11-27\r\n\r\n" + id3 + "\r\n",
	})
	m, err := Load("recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Manifest{
		Files: []string{"recall.yaml"},
		Groups: []*Group{{
			Name:        "black-friday-wrong-price",
			Reason:      "Price typo in the 09:00 blast",
			ScheduledAt: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC),
			IDs:         []msgid.ID{msgid.MustParse(id1), msgid.MustParse(id2), msgid.MustParse(id3)},
			Pos:         Pos{File: "recall.yaml", Line: 3, Col: 5},
		}, {
			Name: "0",
			IDs:  []msgid.ID{msgid.MustParse(id4)},
			Pos:  Pos{File: "recall.yaml", Line: 10, Col: 5},
		}},
	}
	if diff := cmp.Diff(want, m, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Digest" }, cmp.Ignore())); diff != "" {
		t.Errorf("manifest (-want +got):\n%s", diff)
	}
	if m.Groups[0].ScheduledAt.Location() != time.UTC {
		t.Errorf("scheduled_at location = %v, want UTC", m.Groups[0].ScheduledAt.Location())
	}
	if !strings.HasPrefix(m.Digest, "sha256:") || len(m.Digest) != len("sha256:")+64 {
		t.Errorf("digest = %q, want sha256:<64 hex>", m.Digest)
	}
	// A consumer appending to one group's IDs must not clobber the next.
	_ = append(m.Groups[0].IDs, msgid.ID{})
	if m.Groups[1].IDs[0] != msgid.MustParse(id4) {
		t.Errorf("appending to group 0's IDs changed group 1's")
	}
	if got := m.NumIDs(); got != 4 {
		t.Errorf("NumIDs = %d, want 4", got)
	}
}

func TestLoad_Empty(t *testing.T) {
	for name, content := range map[string]string{
		"no cancel":    "version: 1\n",
		"null cancel":  "version: 1\ncancel:\n# - name: old\n#   ids: [x]\n",
		"empty list":   "version: 1\ncancel: []\n",
		"trailing doc": "version: 1\n---\n",
		"leading doc":  "---\n---\nversion: 1\n",
		"CRLF":         "version: 1\r\ncancel: []\r\n",
		"BOM":          "\ufeffversion: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(content), "recall.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Groups) != 0 || m.NumIDs() != 0 {
				t.Errorf("got %d groups", len(m.Groups))
			}
		})
	}
}

// TestParse_Errors checks each diagnostic, exactly, position included.
func TestParse_Errors(t *testing.T) {
	long := strings.Repeat("x", 100)
	for _, tc := range []struct {
		name  string
		files map[string]string // recall.yaml and what it refers to
		want  []string
	}{{
		name:  "empty file",
		files: map[string]string{"recall.yaml": ""},
		want:  []string{`recall.yaml:1:1: file holds no manifest: start it with "version: 1"`},
	}, {
		name:  "only comments",
		files: map[string]string{"recall.yaml": "# nothing yet\n"},
		want:  []string{`recall.yaml:1:1: file holds no manifest: start it with "version: 1"`},
	}, {
		name:  "not a mapping",
		files: map[string]string{"recall.yaml": "- version: 1\n"},
		want:  []string{`recall.yaml:1:1: a manifest is a mapping with the keys version and cancel, got a list`},
	}, {
		name:  "ids file as manifest",
		files: map[string]string{"recall.yaml": id1 + "\n"},
		want:  []string{`recall.yaml:1:1: a manifest is a mapping with the keys version and cancel, got the string "360586640fe9846954897dffe6c13dfc"`},
	}, {
		name:  "missing version",
		files: map[string]string{"recall.yaml": "cancel: []\n"},
		want:  []string{`recall.yaml:1:1: missing "version: 1": every manifest starts with it`},
	}, {
		name:  "version as string",
		files: map[string]string{"recall.yaml": "version: \"1\"\n"},
		want:  []string{`recall.yaml:1:10: version must be the number 1, got the string "1"`},
	}, {
		name:  "version as float",
		files: map[string]string{"recall.yaml": "version: 1.0\n"},
		want:  []string{`recall.yaml:1:10: version must be the number 1, got the number "1.0"`},
	}, {
		name:  "version null",
		files: map[string]string{"recall.yaml": "version:\ncancel: []\n"},
		want:  []string{`recall.yaml:1:9: version must be the number 1, got nothing (null)`},
	}, {
		name:  "version 0",
		files: map[string]string{"recall.yaml": "version: 0\n"},
		want:  []string{`recall.yaml:1:10: version must be the number 1, got the number "0"`},
	}, {
		name:  "newer version stops",
		files: map[string]string{"recall.yaml": "targets: [x]\nversion: 2\ncancel:\n  - whatever: {}\n"},
		want:  []string{`recall.yaml:2:10: manifest version 2 is newer than this recall understands (1): upgrade recall`},
	}, {
		name:  "unknown top-level key",
		files: map[string]string{"recall.yaml": "version: 1\ncancels: []\n"},
		want:  []string{`recall.yaml:2:1: unknown key "cancels" at the top level: did you mean "cancel"? (valid keys: version, cancel)`},
	}, {
		name:  "group key at top level",
		files: map[string]string{"recall.yaml": "version: 1\nids: []\n"},
		want:  []string{`recall.yaml:2:1: unknown key "ids" at the top level: group keys go in a cancel list item (cancel: [{name: ..., ids: [...]}]) (valid keys: version, cancel)`},
	}, {
		name:  "unrelated key",
		files: map[string]string{"recall.yaml": "version: 1\nmessages: []\n"},
		want:  []string{`recall.yaml:2:1: unknown key "messages" at the top level (valid keys: version, cancel)`},
	}, {
		name:  "duplicate key",
		files: map[string]string{"recall.yaml": "version: 1\ncancel: []\nversion: 1\n"},
		want:  []string{`recall.yaml:3:1: duplicate key "version" at the top level (first at line 1:1): a key may appear once`},
	}, {
		name:  "non-scalar key",
		files: map[string]string{"recall.yaml": "version: 1\n? [a]\n: b\n"},
		want:  []string{`recall.yaml:2:3: keys at the top level must be plain words, got a list`},
	}, {
		name:  "merge key",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - &g {name: a, ids: [" + id1 + "]}\n  - <<: *g\n    name: b\n"},
		want: []string{
			`recall.yaml:4:5: merge keys (<<) are not supported: write the keys out`,
			`recall.yaml:4:5: group "b" lists no IDs: add ids: [<id>, ...] or ids_from: <file>`,
		},
	}, {
		name:  "cancel not a list",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  name: x\n"},
		want:  []string{`recall.yaml:3:3: cancel must be a list of groups (- name: ...), got a mapping`},
	}, {
		name:  "group not a mapping",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - " + id1 + "\n"},
		want:  []string{`recall.yaml:3:5: each cancel item must be a group (a mapping with name and ids), got the string "360586640fe9846954897dffe6c13dfc"`},
	}, {
		name:  "alias to a group",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - &g {name: a, ids: [" + id1 + "]}\n  - *g\n"},
		want:  []string{`recall.yaml:4:5: alias "*g" stands for a list or mapping; aliases may only stand for single values here: write it out`},
	}, {
		name:  "alias to a scalar is fine",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - {name: a, reason: &r typo, ids: [" + id1 + "]}\n  - {name: b, reason: *r, ids: [*r]}\n"},
		want:  []string{`recall.yaml:4:33: invalid message ID "typo": want 32 hexadecimal characters, got 4`},
	}, {
		name:  "unknown anchor",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: [*nope]\n"},
		want:  []string{`recall.yaml:4:11: alias "*nope" refers to no anchor: define it (&name) before using it`},
	}, {
		name:  "second document",
		files: map[string]string{"recall.yaml": "version: 1\n---\nversion: 1\n"},
		want:  []string{`recall.yaml:3:1: a manifest file holds one YAML document, but another starts here: move it to a file of its own`},
	}, {
		name:  "syntax error (scanner)",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: x\n    ids: b: c\n"},
		want:  []string{`recall.yaml:4: YAML syntax error: mapping values are not allowed in this context (a value containing ": " needs quotes; otherwise check the indentation)`},
	}, {
		name:  "syntax error (parser)",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: x\n    ids: [a\n"},
		want:  []string{`recall.yaml:4: YAML syntax error: did not find expected ',' or ']' (in the block starting on this line: check the indentation and punctuation below it)`},
	}, {
		name:  "tab indentation",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: x\n\tids: b\n"},
		want:  []string{`recall.yaml:4:1: YAML syntax error: found a tab character that violates indentation: indent with spaces`},
	}, {
		name:  "control character",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: x\x01\n"},
		want:  []string{`recall.yaml:3:12: control character U+0001 is not allowed in YAML: remove it`},
	}, {
		name:  "invalid UTF-8",
		files: map[string]string{"recall.yaml": "version: 1\n# café \xff\n"},
		want:  []string{`recall.yaml:2:8: file is not valid UTF-8 (byte 0xff): manifests must be UTF-8 text`},
	}, {
		name:  "UTF-16",
		files: map[string]string{"recall.yaml": "\xff\xfev\x00"},
		want:  []string{`recall.yaml:1:1: file is UTF-16 text: save it as UTF-8`},
	}, {
		name:  "unknown group key",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: [" + id1 + "]\n    schedule_at: 2026-11-28T09:00:00Z\n    IDs_From: x\n    version: 1\n    comment: x\n"},
		want: []string{
			`recall.yaml:5:5: unknown key "schedule_at" in a group: did you mean "scheduled_at"? (valid keys: name, reason, scheduled_at, ids, ids_from)`,
			`recall.yaml:6:5: unknown key "IDs_From" in a group: did you mean "ids_from"? (valid keys: name, reason, scheduled_at, ids, ids_from)`,
			`recall.yaml:7:5: unknown key "version" in a group: "version" belongs at the top level (valid keys: name, reason, scheduled_at, ids, ids_from)`,
			`recall.yaml:8:5: unknown key "comment" in a group (valid keys: name, reason, scheduled_at, ids, ids_from)`,
		},
	}, {
		name:  "duplicate group key",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: [" + id1 + "]\n    ids: [" + id2 + "]\n"},
		want:  []string{`recall.yaml:5:5: duplicate key "ids" in a group (first at line 4:5): a key may appear once`},
	}, {
		name:  "missing name",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - ids: [" + id1 + "]\n"},
		want:  []string{`recall.yaml:3:5: group has no name: add name: <lower-case-name>`},
	}, {
		name:  "empty name",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name:\n    ids: [" + id1 + "]\n  - name: ''\n    ids: [" + id2 + "]\n"},
		want: []string{
			`recall.yaml:3:10: name is empty: give the group a name such as "black-friday"`,
			`recall.yaml:5:11: name is empty: give the group a name such as "black-friday"`,
		},
	}, {
		name:  "invalid names",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n" + group("Black Friday", id1) + group("-x", id2) + group(strings.Repeat("a", 65), id3) + group("\"ü\"", id4)},
		want: []string{
			`recall.yaml:3:11: name must match [a-z0-9][a-z0-9._-]{0,63}, got "Black Friday" (try "black-friday")`,
			`recall.yaml:6:11: name must match [a-z0-9][a-z0-9._-]{0,63}, got "-x" (try "x")`,
			`recall.yaml:9:11: name must match [a-z0-9][a-z0-9._-]{0,63}, got "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"... (try "` + strings.Repeat("a", 64) + `")`,
			`recall.yaml:12:11: name must match [a-z0-9][a-z0-9._-]{0,63}, got "ü"`,
		},
	}, {
		name:  "name not a string",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: [a]\n    ids: [" + id1 + "]\n"},
		want:  []string{`recall.yaml:3:11: name must be a string, got a list`},
	}, {
		name:  "duplicate name",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n" + group("a", id1) + group("a", id2)},
		want:  []string{`recall.yaml:6:11: duplicate group name "a": already used at recall.yaml:3:11`},
	}, {
		name:  "reason not a string",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n    reason: {x: y}\n    ids: [" + id1 + "]\n"},
		want:  []string{`recall.yaml:4:13: reason must be a string, got a mapping`},
	}, {
		name:  "reason with a terminal escape",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n    reason: \"\\e[2Jtypo\"\n    ids: [" + id1 + "]\n  - name: b\n    reason: |\n      two\n      lines\tand a tab\n    ids: [" + id2 + "]\n"},
		want:  []string{`recall.yaml:4:13: reason holds the control character U+001B: use plain text`},
	}, {
		name: "scheduled_at",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n" +
			"  - {name: a, ids: [" + id1 + "], scheduled_at: 2026-11-28}\n" +
			"  - {name: b, ids: [" + id2 + "], scheduled_at: 2026-11-28 09:00:00}\n" +
			"  - {name: c, ids: [" + id3 + "], scheduled_at: }\n" +
			"  - {name: d, ids: [" + id4 + "], scheduled_at: [x]}\n"},
		want: []string{
			`recall.yaml:3:70: scheduled_at must be an RFC 3339 time such as 2026-11-28T09:00:00Z, got the string "2026-11-28"`,
			`recall.yaml:4:70: scheduled_at must be an RFC 3339 time such as 2026-11-28T09:00:00Z, got the string "2026-11-28 09:00:00"`,
			`recall.yaml:5:70: scheduled_at must be an RFC 3339 time such as 2026-11-28T09:00:00Z, got nothing (null)`,
			`recall.yaml:6:70: scheduled_at must be a string, got a list`,
		},
	}, {
		name:  "no IDs",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n  - name: b\n    ids: []\n  - name: c\n    ids:\n"},
		want: []string{
			`recall.yaml:3:5: group "a" lists no IDs: add ids: [<id>, ...] or ids_from: <file>`,
			`recall.yaml:4:5: group "b" lists no IDs: add ids: [<id>, ...] or ids_from: <file>`,
			`recall.yaml:6:5: group "c" lists no IDs: add ids: [<id>, ...] or ids_from: <file>`,
		},
	}, {
		name:  "ids not a list",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: " + id1 + "\n  - name: b\n    ids: {a: b}\n  - name: c\n    ids: abc\n"},
		want: []string{
			`recall.yaml:4:10: ids must be a list of message IDs, got the string "360586640fe9846954897dffe6c13dfc": write it as a list (ids: [360586640fe9846954897dffe6c13dfc]), or use ids_from for a file of IDs`,
			`recall.yaml:6:10: ids must be a list of message IDs, got a mapping`,
			`recall.yaml:8:10: ids must be a list of message IDs, got the string "abc": write it as a list (- <id> on each line), or use ids_from for a file of IDs`,
		},
	}, {
		name: "invalid IDs",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n" + group("a",
			id1[:31],
			"g"+id1[1:],
			"360586640fe9-8469-5489-7dffe6c13dfc",
			"'"+id1+" "+id2+"'",
			long,
			"[x]",
			"~",
			"\"\\x00\"",
			"12345678901234567890123456789012", // a YAML number, and a fine ID
		)},
		want: []string{
			`recall.yaml:5:9: invalid message ID "360586640fe9846954897dffe6c13df": want 32 hexadecimal characters, got 31`,
			`recall.yaml:6:9: invalid message ID "g60586640fe9846954897dffe6c13dfc": 'g' at position 1 is not a hexadecimal digit`,
			`recall.yaml:7:9: invalid message ID "360586640fe9-8469-5489-7dffe6c13dfc": this looks like a UUID; a Clickatell message ID is 32 hexadecimal characters without dashes`,
			`recall.yaml:8:9: invalid message ID "360586640fe9846954897dffe6c13dfc b09e1b1"...: want one message ID (32 hexadecimal characters) per entry`,
			`recall.yaml:9:9: invalid message ID "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...: want 32 hexadecimal characters, got 100`,
			`recall.yaml:10:9: each ids entry must be a message ID (32 hexadecimal characters), got a list`,
			`recall.yaml:11:9: each ids entry must be a message ID (32 hexadecimal characters), got nothing (null)`,
			`recall.yaml:12:9: invalid message ID "\x00": want 32 hexadecimal characters, got 1`,
		},
	}, {
		name:  "duplicate IDs in YAML",
		files: map[string]string{"recall.yaml": "version: 1\ncancel:\n" + group("a", id1, id2, strings.ToUpper(id1)) + group("b", id2)},
		want: []string{
			`recall.yaml:7:9: duplicate ID 360586640fe9846954897dffe6c13dfc: already listed at recall.yaml:5:9 (group "a")`,
			`recall.yaml:10:9: duplicate ID b09e1b1bdb5a070c978f03b6836b955c: already listed at recall.yaml:6:9 (group "a")`,
		},
	}, {
		name: "ids_from problems",
		files: map[string]string{
			"recall.yaml": "version: 1\ncancel:\n" +
				"  - {name: a, ids_from: /etc/passwd}\n" +
				"  - {name: b, ids_from: ../outside.txt}\n" +
				"  - {name: c, ids_from: sub/../../outside.txt}\n" +
				"  - {name: d, ids_from: missing.txt}\n" +
				"  - {name: e, ids_from: sub}\n" +
				"  - {name: f, ids_from: }\n" +
				"  - {name: g, ids_from: [a.txt, b.txt]}\n" +
				"  - {name: h, ids_from: empty.txt}\n" +
				"  - {name: i, ids_from: sub/ids.txt}\n" +
				"  - {name: j, ids_from: ./sub/ids.txt}\n",
			"sub/ids.txt": id1 + "\n",
			"empty.txt":   "# nothing\n\n",
		},
		want: []string{
			`recall.yaml:3:25: ids_from must be a path relative to the manifest's directory, got the absolute path "/etc/passwd"`,
			`recall.yaml:4:25: ids_from "../outside.txt" leads out of the manifest's directory: ids files must be inside it`,
			`recall.yaml:5:25: ids_from "sub/../../outside.txt" leads out of the manifest's directory: ids files must be inside it`,
			`recall.yaml:6:25: ids_from file missing.txt does not exist`,
			`recall.yaml:7:25: ids_from sub is a directory: give a file with one message ID per line`,
			`recall.yaml:8:25: ids_from is empty: give the path of a file with one message ID per line, relative to the manifest's directory`,
			`recall.yaml:9:25: ids_from must be a string, got a list`,
			`recall.yaml:10:5: group "h" lists no IDs: its ids_from file empty.txt holds none`,
			`recall.yaml:12:25: ids_from sub/ids.txt is already read by group "i" at recall.yaml:11:25: an ID may be listed once, so an ids file can serve one group only`,
		},
	}, {
		name: "ids file lines",
		files: map[string]string{
			"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: [" + id1 + "]\n    ids_from: ids.txt\n",
			"ids.txt": "\ufeff" + id2 + "\n" +
				"  " + strings.ToUpper(id3) + "\t# trailing comment\r\n" +
				"#" + id4 + "\n" +
				"not an id\n" +
				id1 + "\n" +
				id2 + " " + id3 + "\n" +
				long + "\n" +
				"\xff\xfe garbage \x1b[31m\n" +
				"apiMessageId,to\n" +
				id3[:16] + "\n" +
				strings.Repeat("y", 70000) + "\n" +
				id4, // no final newline
		},
		want: []string{
			`ids.txt:4: invalid message ID "not an id": want one message ID (32 hexadecimal characters) per line`,
			`ids.txt:5: duplicate ID 360586640fe9846954897dffe6c13dfc: already listed at recall.yaml:4:11 (group "a")`,
			`ids.txt:6: invalid message ID "b09e1b1bdb5a070c978f03b6836b955c 0123456"...: want one message ID (32 hexadecimal characters) per line`,
			`ids.txt:7: invalid message ID "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"...: want 32 hexadecimal characters, got 100`,
			`ids.txt:8: invalid message ID "\xff\xfe garbage \x1b[31m": want one message ID (32 hexadecimal characters) per line`,
			`ids.txt:9: invalid message ID "apiMessageId,to": want one message ID (32 hexadecimal characters) per line`,
			`ids.txt:10: invalid message ID "0123456789abcdef": want 32 hexadecimal characters, got 16`,
			`ids.txt:11: line is longer than 64 KiB, not a message ID: "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"...`,
		},
	}, {
		name: "binary ids file",
		files: map[string]string{
			"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids_from: ids.bin\n",
			"ids.bin":     id1 + "\n" + "\x7fELF\x02\x01\x01\x00\x00\x00\n" + strings.Repeat("bad\n", 10),
		},
		want: []string{
			`ids.bin:2: line holds a NUL byte, so this looks like a binary file: an ids file is text, one message ID per line (stopped reading here)`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			inDir(t, tc.files)
			m, err := Load("recall.yaml")
			got := diagLines(t, m, err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			// Parse, from a reader, finds the same.
			f, err := os.Open("recall.yaml")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err = Parse(f, "recall.yaml")
			if diff := cmp.Diff(tc.want, diagLines(t, m, err)); diff != "" {
				t.Errorf("Parse diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoad_IDsFromSymlinks(t *testing.T) {
	dir := inDir(t, map[string]string{
		"outside.txt":               id1 + "\n",
		"m/recall.yaml":             "version: 1\ncancel:\n  - {name: a, ids_from: out.txt}\n  - {name: b, ids_from: in.txt}\n  - {name: c, ids_from: abs.txt}\n  - {name: d, ids_from: sub/up.txt}\n",
		"m/data/ids.txt":            id2 + "\n",
		"m/sub/real.txt":            id3 + "\n",
		"m/out.txt@":                "../outside.txt",
		"m/in.txt@":                 "data/ids.txt",
		"m/sub/up.txt@":             "../data/../sub/real.txt",
		"m/placeholder-for-abs.txt": "",
	})
	if err := os.Symlink(filepath.Join(dir, "outside.txt"), "m/abs.txt"); err != nil {
		t.Fatal(err)
	}
	m, err := Load("m/recall.yaml")
	want := []string{
		`m/recall.yaml:3:25: ids_from "out.txt" leads out of the manifest's directory (m) through a symbolic link: ids files must be inside it`,
		`m/recall.yaml:5:25: ids_from "abs.txt" leads out of the manifest's directory (m) through a symbolic link: ids files must be inside it`,
	}
	if diff := cmp.Diff(want, diagLines(t, m, err)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}

	// Symlinks that stay inside are fine.
	if err := os.WriteFile("m/recall.yaml", []byte("version: 1\ncancel:\n  - {name: b, ids_from: in.txt}\n  - {name: d, ids_from: sub/up.txt}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err = Load("m/recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := [][]msgid.ID{m.Groups[0].IDs, m.Groups[1].IDs}; !cmp.Equal(got, [][]msgid.ID{{msgid.MustParse(id2)}, {msgid.MustParse(id3)}}) {
		t.Errorf("IDs = %v", got)
	}
}

func TestLoad_IDsFromFIFO(t *testing.T) {
	inDir(t, map[string]string{"recall.yaml": "version: 1\ncancel:\n  - {name: a, ids_from: fifo}\n"})
	if err := syscall.Mkfifo("fifo", 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	// Reading a FIFO would block forever; it must be refused up front.
	m, err := Load("recall.yaml")
	want := []string{`recall.yaml:3:25: ids_from fifo is not a regular file`}
	if diff := cmp.Diff(want, diagLines(t, m, err)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestLoad_DuplicatesAcrossFiles(t *testing.T) {
	inDir(t, map[string]string{
		"a.yaml":  "version: 1\ncancel:\n  - name: x\n    ids:\n      - " + id1 + "\n    ids_from: a.txt\n",
		"a.txt":   id2 + "\n",
		"b.yaml":  "version: 1\ncancel:\n  - name: y\n    ids_from: b.txt\n  - name: z\n    ids:\n      - " + strings.ToUpper(id1) + "\n  - name: x\n    ids: [" + id4 + "]\n",
		"b.txt":   "\n" + id3 + "\n" + id2 + "\n" + id3 + "\n",
		"c/c.yml": "version: 1\ncancel:\n  - name: w\n    ids_from: ../b.txt\n",
	})
	m, err := Load("a.yaml", "b.yaml")
	want := []string{
		`b.yaml:7:9: duplicate ID 360586640fe9846954897dffe6c13dfc: already listed at a.yaml:5:9 (group "x")`,
		`b.yaml:8:11: duplicate group name "x": already used at a.yaml:3:11`,
		`b.txt:3: duplicate ID b09e1b1bdb5a070c978f03b6836b955c: already listed at a.txt:1 (group "x")`,
		`b.txt:4: duplicate ID 0123456789abcdef0123456789abcdef: already listed at b.txt:2 (group "y")`,
	}
	if diff := cmp.Diff(want, diagLines(t, m, err)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	// An ids file may not be reached through "..", even from a manifest
	// in a subdirectory.
	m, err = Load("c")
	want = []string{`c/c.yml:4:15: ids_from "../b.txt" leads out of the manifest's directory (c): ids files must be inside it`}
	if diff := cmp.Diff(want, diagLines(t, m, err)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestLoad_Directories(t *testing.T) {
	dir := inDir(t, map[string]string{
		"m/20-b.yml":       "version: 1\ncancel:\n" + group("b", id2),
		"m/10-a.yaml":      "version: 1\ncancel:\n" + group("a", id1),
		"m/30-c.yaml":      "version: 1\ncancel:\n" + group("c", id3),
		"m/ids.txt":        "not yaml, not read\n",
		"m/.hidden.yaml":   "not: a manifest\n",
		"m/sub/d.yaml":     "not: read either\n",
		"m/notes.yaml.bak": "x\n",
		"other/z.yaml":     "version: 1\ncancel:\n" + group("z", id4),
		"empty/README":     "",
	})
	m, err := Load("other/z.yaml", "m", "m/10-a.yaml", "./m/../m/20-b.yml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range m.Groups {
		names = append(names, g.Name)
	}
	if diff := cmp.Diff([]string{"z", "a", "b", "c"}, names); diff != "" {
		t.Errorf("group order (-want +got):\n%s", diff)
	}
	wantFiles := []string{"other/z.yaml", "m/10-a.yaml", "m/20-b.yml", "m/30-c.yaml"}
	if diff := cmp.Diff(wantFiles, m.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	// The same file through a symlink is the same file.
	if err := os.Symlink(filepath.Join(dir, "m/10-a.yaml"), "link.yaml"); err != nil {
		t.Fatal(err)
	}
	if m, err := Load("m/10-a.yaml", "link.yaml"); err != nil || len(m.Groups) != 1 {
		t.Errorf("file given twice: got %v, %v; want it read once", m, err)
	}

	for _, tc := range []struct {
		paths []string
		want  string
		is    error
	}{
		{[]string{"missing.yaml"}, "manifest missing.yaml does not exist: create it, or name the manifest files or directories to read", fs.ErrNotExist},
		{[]string{"m/ids.txt"}, "m/ids.txt is not a manifest: manifest files end in .yaml or .yml (a list of message IDs belongs in a group's ids_from)", nil},
		{[]string{"empty"}, "directory empty holds no manifest: expected *.yaml or *.yml files directly inside it", nil},
		{nil, "no manifest given: name at least one manifest file or directory", nil},
		{[]string{""}, "empty manifest path: name a manifest file or directory", nil},
	} {
		m, err := Load(tc.paths...)
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%q) = %v, %v; want error %q", tc.paths, m, err, tc.want)
			continue
		}
		var ve *ValidationError
		if errors.As(err, &ve) {
			t.Errorf("Load(%q): a path problem came back as a *ValidationError", tc.paths)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("Load(%q): error does not wrap %v", tc.paths, tc.is)
		}
	}
}

func TestLoad_Unreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads everything")
	}
	inDir(t, map[string]string{"recall.yaml": "version: 1\n", "ids.txt": id1 + "\n"})
	if err := os.Chmod("recall.yaml", 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load("recall.yaml")
	if want := "cannot read manifest recall.yaml: permission denied"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestParse_TooBig(t *testing.T) {
	r := io.LimitReader(zeros{}, MaxFileSize+100)
	_, err := Parse(r, "big.yaml")
	want := "manifest big.yaml is larger than 16 MiB: move long ID lists into ids_from files (one ID per line, no size limit)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	return len(p), nil
}

// TestParse_ManyMistakes checks that one run reports every mistake, each
// at its place, in file order.
func TestParse_ManyMistakes(t *testing.T) {
	inDir(t, map[string]string{
		"recall.yaml": `version: 1
colour: blue
cancel:
  - name: Black Friday
    reason: [typo]
    scheduled_at: tomorrow
    ids:
      - 360586640fe9846954897dffe6c13dfc
      - 360586640fe9846954897dffe6c13dfZ
      - 360586640fe9846954897dffe6c13dfc
    idsfrom: x.txt
  - name: ok
    ids_from: ids.txt
  - just a string
  - name: ok
    ids: []
`,
		"ids.txt": "b09e1b1bdb5a070c978f03b6836b955c\nnope\n360586640FE9846954897DFFE6C13DFC\n",
	})
	m, err := Load("recall.yaml")
	want := []string{
		`recall.yaml:2:1: unknown key "colour" at the top level (valid keys: version, cancel)`,
		`recall.yaml:4:11: name must match [a-z0-9][a-z0-9._-]{0,63}, got "Black Friday" (try "black-friday")`,
		`recall.yaml:5:13: reason must be a string, got a list`,
		`recall.yaml:6:19: scheduled_at must be an RFC 3339 time such as 2026-11-28T09:00:00Z, got the string "tomorrow"`,
		`recall.yaml:9:9: invalid message ID "360586640fe9846954897dffe6c13dfZ": 'Z' at position 32 is not a hexadecimal digit`,
		`recall.yaml:10:9: duplicate ID 360586640fe9846954897dffe6c13dfc: already listed at recall.yaml:8:9 (group "Black Friday")`,
		`recall.yaml:11:5: unknown key "idsfrom" in a group: did you mean "ids_from"? (valid keys: name, reason, scheduled_at, ids, ids_from)`,
		`recall.yaml:14:5: each cancel item must be a group (a mapping with name and ids), got the string "just a string"`,
		`recall.yaml:15:5: group "ok" lists no IDs: add ids: [<id>, ...] or ids_from: <file>`,
		`recall.yaml:15:11: duplicate group name "ok": already used at recall.yaml:12:11`,
		`ids.txt:2: invalid message ID "nope": want 32 hexadecimal characters, got 4`,
		`ids.txt:3: duplicate ID 360586640fe9846954897dffe6c13dfc: already listed at recall.yaml:8:9 (group "Black Friday")`,
	}
	if diff := cmp.Diff(want, diagLines(t, m, err)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), want[0]+"\n"+want[1]+"\n") {
		t.Errorf("Error() does not list the diagnostics one a line:\n%s", err)
	}
}

func TestParse_ErrorCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ncancel:\n  - name: a\n    ids:\n")
	for i := range 80 {
		b.WriteString("      - bad" + strings.Repeat("x", i%3) + "\n")
	}
	b.WriteString("    ids_from: ids.txt\n")
	inDir(t, map[string]string{
		"recall.yaml": b.String(),
		"ids.txt":     strings.Repeat("junk\n", 1000),
	})
	_, err := Load("recall.yaml")
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	if len(ve.Diagnostics) != MaxErrors || !ve.Truncated {
		t.Fatalf("got %d diagnostics, truncated %v; want %d, truncated", len(ve.Diagnostics), ve.Truncated, MaxErrors)
	}
	// The first 50 in file order: lines 5 to 54 of the manifest.
	for i, d := range ve.Diagnostics {
		if d.Pos.File != "recall.yaml" || d.Pos.Line != 5+i || d.Pos.Col != 9 {
			t.Errorf("diagnostic %d at %v, want recall.yaml:%d:9", i, d.Pos, 5+i)
		}
	}
	if !strings.HasSuffix(err.Error(), "\n(too many errors; only the first 50 are shown)") {
		t.Errorf("Error() does not say it was cut short")
	}

	// A garbage ids file: its first 50 lines are reported.
	inDir(t, map[string]string{
		"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: [" + id1 + "]\n    ids_from: ids.txt\n",
		"ids.txt":     strings.Repeat("junk\n", 1000) + id1 + "\n",
	})
	_, err = Load("recall.yaml")
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	if len(ve.Diagnostics) != MaxErrors || !ve.Truncated {
		t.Fatalf("got %d diagnostics, truncated %v; want %d, truncated", len(ve.Diagnostics), ve.Truncated, MaxErrors)
	}
	for i, d := range ve.Diagnostics {
		if want := (Pos{File: "ids.txt", Line: i + 1}); d.Pos != want || d.Message != `invalid message ID "junk": want 32 hexadecimal characters, got 4` {
			t.Errorf("diagnostic %d: %v, want at %v", i, d, want)
		}
	}
}

func TestParse_Normalises(t *testing.T) {
	inDir(t, map[string]string{
		"recall.yaml": "version: 1\ncancel:\n  - name: a\n    ids: [" + strings.ToUpper(id1) + ", 360586640fe9846954897DFFE6C13DFD]\n    ids_from: ids.txt\n",
		"ids.txt":     strings.ToUpper(id2) + "\n",
	})
	m, err := Load("recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range m.Groups[0].IDs {
		got = append(got, id.String())
	}
	want := []string{id1, "360586640fe9846954897dffe6c13dfd", id2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("IDs (-want +got):\n%s", diff)
	}
}

func TestManifest_Digest(t *testing.T) {
	load := func(files map[string]string, paths ...string) string {
		t.Helper()
		inDir(t, files)
		m, err := Load(paths...)
		if err != nil {
			t.Fatal(err)
		}
		return m.Digest
	}
	base := load(map[string]string{
		"recall.yaml": "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids:\n      - " + id1 + "\n      - " + id2 + "\n  - name: b\n    ids: [" + id3 + "]\n",
	}, "recall.yaml")
	same := map[string]map[string]string{
		"flow style, comments, key order, case": {"recall.yaml": "# reformatted\ncancel: [{ids: [" + strings.ToUpper(id1) + ", " + id2 + "], scheduled_at: '2026-11-28T10:00:00+01:00', reason: \"typo\", name: a}, {name: b, ids: [" + id3 + "]}]\nversion: 1\n"},
		"IDs from ids_from": {"recall.yaml": "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + "]\n    ids_from: more.txt\n  - name: b\n    ids_from: b.txt\n",
			"more.txt": "# c\n" + id2 + "\r\n", "b.txt": id3},
		"split over two files": {"1.yaml": "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + ", " + id2 + "]\n",
			"2.yaml": "version: 1\ncancel:\n  - name: b\n    ids: [" + id3 + "]\n"},
	}
	for name, files := range same {
		paths := []string{"recall.yaml"}
		if _, ok := files["recall.yaml"]; !ok {
			paths = []string{"."}
		}
		if got := load(files, paths...); got != base {
			t.Errorf("%s: digest changed:\n%s\n%s", name, base, got)
		}
	}
	differ := map[string]string{
		"an ID changed":        "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + ", " + id4 + "]\n  - name: b\n    ids: [" + id3 + "]\n",
		"an ID moved group":    "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + "]\n  - name: b\n    ids: [" + id2 + ", " + id3 + "]\n",
		"IDs reordered":        "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id2 + ", " + id1 + "]\n  - name: b\n    ids: [" + id3 + "]\n",
		"reason changed":       "version: 1\ncancel:\n  - name: a\n    reason: typo!\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + ", " + id2 + "]\n  - name: b\n    ids: [" + id3 + "]\n",
		"reason moved to name": "version: 1\ncancel:\n  - name: atypo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + ", " + id2 + "]\n  - name: b\n    ids: [" + id3 + "]\n",
		"scheduled_at changed": "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:01Z\n    ids: [" + id1 + ", " + id2 + "]\n  - name: b\n    ids: [" + id3 + "]\n",
		"scheduled_at dropped": "version: 1\ncancel:\n  - name: a\n    reason: typo\n    ids: [" + id1 + ", " + id2 + "]\n  - name: b\n    ids: [" + id3 + "]\n",
		"group renamed":        "version: 1\ncancel:\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + ", " + id2 + "]\n  - name: c\n    ids: [" + id3 + "]\n",
		"groups swapped":       "version: 1\ncancel:\n  - name: b\n    ids: [" + id3 + "]\n  - name: a\n    reason: typo\n    scheduled_at: 2026-11-28T09:00:00Z\n    ids: [" + id1 + ", " + id2 + "]\n",
	}
	seen := map[string]string{base: "base"}
	for name, content := range differ {
		got := load(map[string]string{"recall.yaml": content}, "recall.yaml")
		if prev, dup := seen[got]; dup {
			t.Errorf("%s: same digest as %s", name, prev)
		}
		seen[got] = name
	}
}

func TestParse_IDsFromRelativeToPath(t *testing.T) {
	inDir(t, map[string]string{
		"team/exports/ids.txt": id2 + "\n",
		"exports/ids.txt":      id3 + "\n", // beside the working directory: not this one
	})
	m, err := Parse(strings.NewReader("version: 1\ncancel:\n  - {name: a, ids_from: exports/ids.txt}\n"), "team/recall.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Groups[0].IDs; len(got) != 1 || got[0] != msgid.MustParse(id2) {
		t.Errorf("IDs = %v, want [%s] from team/exports/ids.txt", got, id2)
	}
	if diff := cmp.Diff([]string{"team/recall.yaml"}, m.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestValidGroupName(t *testing.T) {
	for s, want := range map[string]bool{
		"a": true, "black-friday_2026.v1": true, "0": true, strings.Repeat("a", 64): true,
		"": false, "-a": false, ".a": false, "A": false, "a b": false, strings.Repeat("a", 65): false, "ü": false,
	} {
		if got := ValidGroupName(s); got != want {
			t.Errorf("ValidGroupName(%q) = %v, want %v", s, got, want)
		}
	}
}
