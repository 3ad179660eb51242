package manifest

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/recallhq/recall/msgid"
	"gopkg.in/yaml.v3"
)

var (
	topKeys   = []string{"version", "cancel"}
	groupKeys = []string{"name", "reason", "scheduled_at", "ids", "ids_from"}
)

// parseManifest validates one manifest file's content and adds its groups.
func (l *loader) parseManifest(data []byte, path string) {
	l.diags.rank(path)
	if !l.checkText(data, path) {
		return
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root *yaml.Node
	for {
		var doc yaml.Node
		err := decode(dec, &doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			l.yamlError(path, data, err)
			break
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) && doc.Content[0].Value == "" {
			continue // an empty document, e.g. after a trailing "---"
		}
		if root != nil {
			n := doc.Content[0]
			l.errorf(Pos{File: path, Line: n.Line, Col: n.Column}, "a manifest file holds one YAML document, but another starts here: move it to a file of its own")
			break
		}
		root = doc.Content[0]
	}
	if root == nil {
		if !l.hasDiag(path) {
			l.errorf(Pos{File: path, Line: 1, Col: 1}, `file holds no manifest: start it with "version: 1"`)
		}
		return
	}
	l.parseTop(root, path)
}

func (l *loader) hasDiag(path string) bool {
	return l.diags.perFile[l.diags.rank(path)] > 0
}

// decode is dec.Decode, turning a panic in the YAML parser into an error so
// that hostile input cannot crash recall.
func decode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: the YAML parser failed on this file (%s)", quote(fmt.Sprint(r)))
		}
	}()
	return dec.Decode(n)
}

var (
	yamlLineRE   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)
)

// yamlError turns a yaml.v3 syntax error into a diagnostic. yaml.v3 gives
// only a line: for scanner errors, the line of the problem; for parser
// errors ("did not find expected ..."), the 0-based line of the block in
// which it occurred, hence the +1 and the hint to look below.
func (l *loader) yamlError(path string, data []byte, err error) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		text := m[2]
		col := 0
		switch {
		case strings.HasPrefix(text, "did not find expected"):
			line++
			text += " (in the block starting on this line: check the indentation and punctuation below it)"
		case text == "found unexpected end of stream":
			text += " (is a quote or bracket left open?)"
		case text == "found character that cannot start any token":
			text += " (a value starting with @, ` or another special character needs quotes)"
		case text == "mapping values are not allowed in this context":
			text += " (a value containing \": \" needs quotes; otherwise check the indentation)"
		case strings.Contains(text, "tab character"):
			// yaml.v3 gives the line before; find the tab.
			if ln, c, ok := findIndentTab(data, line); ok {
				line, col = ln, c
				text += ": indent with spaces"
			}
		}
		l.errorf(Pos{File: path, Line: max(line, 1), Col: col}, "YAML syntax error: %s", text)
		return
	}
	if m := yamlAnchorRE.FindStringSubmatch(msg); m != nil {
		p := Pos{File: path, Line: 1}
		if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
			p.Line = bytes.Count(data[:i], []byte("\n")) + 1
			p.Col = i - bytes.LastIndexByte(data[:i], '\n')
		}
		l.errorf(p, "alias %s refers to no anchor: define it (&name) before using it", quote("*"+m[1]))
		return
	}
	// yaml.v3's syntax errors are plain text (no typed error with a
	// reason or a position), so its "yaml: " prefix is cut from the text.
	l.errorf(Pos{File: path, Line: 1}, "YAML syntax error: %s", strings.TrimPrefix(msg, "yaml: "))
}

// findIndentTab finds the first tab in the indentation of a line at or
// after line from.
func findIndentTab(data []byte, from int) (line, col int, ok bool) {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if i+1 < from {
			continue
		}
		for j, c := range l {
			if c == '\t' {
				return i + 1, j + 1, true
			}
			if c != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

func pos(path string, n *yaml.Node) Pos {
	return Pos{File: path, Line: n.Line, Col: n.Column}
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names what kind of value n is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!int", "!!float":
			return "the number " + quote(n.Value)
		case "!!bool":
			return "the boolean " + n.Value
		}
		return "the string " + quote(n.Value)
	}
	return "an unexpected YAML node"
}

// value resolves an alias. Aliases may stand for single values only: a
// list or mapping written once and used twice would list IDs twice anyway.
func (l *loader) value(path string, n *yaml.Node) (*yaml.Node, bool) {
	if n.Kind != yaml.AliasNode {
		return n, true
	}
	if n.Alias != nil && n.Alias.Kind == yaml.ScalarNode {
		v := *n.Alias
		v.Line, v.Column = n.Line, n.Column
		return &v, true
	}
	l.errorf(pos(path, n), "alias %s stands for a list or mapping; aliases may only stand for single values here: write it out", quote("*"+n.Value))
	return nil, false
}

type field struct{ key, val *yaml.Node }

// fields checks m's keys (strings, known, each once) and returns the
// values by key. where names the mapping in messages.
func (l *loader) fields(path string, m *yaml.Node, allowed []string, where string) map[string]field {
	out := make(map[string]field, len(allowed))
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.Kind == yaml.AliasNode && k.Alias != nil && k.Alias.Kind == yaml.ScalarNode {
			kk := *k.Alias
			kk.Line, kk.Column = k.Line, k.Column
			k = &kk
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			l.errorf(pos(path, k), "keys %s must be plain words, got %s", where, describe(k))
			continue
		case k.Tag == "!!merge":
			l.errorf(pos(path, k), "merge keys (<<) are not supported: write the keys out")
			continue
		}
		if prev, dup := out[k.Value]; dup {
			l.errorf(pos(path, k), "duplicate key %s %s (first at line %d:%d): a key may appear once", quote(k.Value), where, prev.key.Line, prev.key.Column)
			continue
		}
		known := false
		for _, a := range allowed {
			if a == k.Value {
				known = true
			}
		}
		if !known {
			msg := fmt.Sprintf("unknown key %s %s", quote(k.Value), where)
			if s := suggest(k.Value, allowed); s != "" {
				msg += fmt.Sprintf(": did you mean %q?", s)
			} else if where == "at the top level" && suggest(k.Value, groupKeys) != "" {
				msg += ": group keys go in a cancel list item (cancel: [{name: ..., ids: [...]}])"
			} else if where == "in a group" && suggest(k.Value, topKeys) != "" {
				msg += fmt.Sprintf(": %q belongs at the top level", suggest(k.Value, topKeys))
			}
			msg += " (valid keys: " + strings.Join(allowed, ", ") + ")"
			l.errorf(pos(path, k), "%s", msg)
			continue
		}
		out[k.Value] = field{k, v}
	}
	return out
}

func (l *loader) parseTop(root *yaml.Node, path string) {
	if root.Kind != yaml.MappingNode {
		l.errorf(pos(path, root), "a manifest is a mapping with the keys version and cancel, got %s", describe(root))
		return
	}
	// A newer version is the one thing worth saying about a file whose
	// schema we do not know.
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k, v := root.Content[i], root.Content[i+1]; k.Kind == yaml.ScalarNode && k.Value == "version" {
			if ver, ok := intValue(v); ok && ver > 1 {
				l.errorf(pos(path, v), "manifest version %d is newer than this recall understands (1): upgrade recall", ver)
				return
			}
		}
	}
	f := l.fields(path, root, topKeys, "at the top level")
	if v, ok := f["version"]; !ok {
		l.errorf(pos(path, root), `missing "version: 1": every manifest starts with it`)
	} else if n, ok := l.value(path, v.val); ok {
		if ver, ok := intValue(n); !ok || ver != 1 {
			l.errorf(pos(path, n), "version must be the number 1, got %s", describe(n))
		}
	}
	c, ok := f["cancel"]
	if !ok {
		return
	}
	list, ok := l.value(path, c.val)
	if !ok || isNull(list) {
		return
	}
	if list.Kind != yaml.SequenceNode {
		l.errorf(pos(path, list), "cancel must be a list of groups (- name: ...), got %s", describe(list))
		return
	}
	for _, item := range list.Content {
		l.parseGroup(item, path)
	}
}

// intValue returns the value of an integer scalar.
func intValue(n *yaml.Node) (int64, bool) {
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		return 0, false
	}
	return v, true
}

// parseGroup validates one cancel list item and adds its IDs.
func (l *loader) parseGroup(item *yaml.Node, path string) {
	item, ok := l.value(path, item)
	if !ok {
		return
	}
	if item.Kind != yaml.MappingNode {
		l.errorf(pos(path, item), "each cancel item must be a group (a mapping with name and ids), got %s", describe(item))
		return
	}
	g := &Group{Pos: pos(path, item)}
	f := l.fields(path, item, groupKeys, "in a group")
	display := fmt.Sprintf("#%d", len(l.groups)+1)

	if v, ok := f["name"]; !ok {
		l.errorf(g.Pos, "group has no name: add name: <lower-case-name>")
	} else if n, ok := l.str(path, v.val, "name"); ok {
		switch {
		case n.Tag == "!!null" || n.Value == "":
			l.errorf(pos(path, n), "name is empty: give the group a name such as \"black-friday\"")
		case !ValidGroupName(n.Value):
			msg := fmt.Sprintf("name must match [a-z0-9][a-z0-9._-]{0,63}, got %s", quote(n.Value))
			if s := slug(n.Value); s != "" {
				msg += fmt.Sprintf(" (try %q)", s)
			}
			l.errorf(pos(path, n), "%s", msg)
			display = n.Value
		default:
			g.Name, display = n.Value, n.Value
			if prev, dup := l.names[g.Name]; dup {
				l.errorf(pos(path, n), "duplicate group name %q: already used at %s", g.Name, prev)
			} else {
				l.names[g.Name] = pos(path, n)
			}
		}
	}
	if v, ok := f["reason"]; ok {
		if n, ok := l.str(path, v.val, "reason"); ok && n.Tag != "!!null" {
			if r, bad := controlChar(n.Value); bad {
				// Reasons are printed in plans: no terminal escapes.
				l.errorf(pos(path, n), "reason holds the control character %U: use plain text", r)
			} else {
				g.Reason = n.Value
			}
		}
	}
	if v, ok := f["scheduled_at"]; ok {
		if n, ok := l.str(path, v.val, "scheduled_at"); ok {
			t, err := timeUTC(n.Value)
			if n.Tag == "!!null" || err != nil {
				l.errorf(pos(path, n), "scheduled_at must be an RFC 3339 time such as 2026-11-28T09:00:00Z, got %s", describe(n))
			} else {
				g.ScheduledAt = t
			}
		}
	}

	start := len(l.all)
	entries := 0
	listed := true // every ids and ids_from given could be read
	if v, ok := f["ids"]; ok {
		k, ok := l.parseIDs(path, v.val, display)
		entries, listed = entries+k, listed && ok
	}
	var idsFrom *yaml.Node
	if v, ok := f["ids_from"]; ok {
		n, ok := l.str(path, v.val, "ids_from")
		switch {
		case !ok:
			listed = false
		case n.Tag == "!!null" || n.Value == "":
			l.errorf(pos(path, n), "ids_from is empty: give the path of a file with one message ID per line, relative to %s", manifestDir(dirOf(path)))
			listed = false
		default:
			idsFrom = n
			k, ok := l.readIDsFile(path, n, display)
			entries, listed = entries+k, listed && ok
		}
	}
	if entries == 0 && listed {
		if idsFrom != nil {
			l.errorf(g.Pos, "group %s lists no IDs: its ids_from file %s holds none", quoteGroup(display), idsPath(path, idsFrom.Value))
		} else {
			l.errorf(g.Pos, "group %s lists no IDs: add ids: [<id>, ...] or ids_from: <file>", quoteGroup(display))
		}
	}
	l.groups = append(l.groups, g)
	l.spans = append(l.spans, [2]int{start, len(l.all)})
}

// controlChar finds a control character other than newline and tab.
func controlChar(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return r, true
		}
	}
	return 0, false
}

// str returns n if it is a single value (or null: callers decide what null
// means for them). Any scalar counts as a string: its source text is
// used, so that an all-digit ID is not read as a number.
func (l *loader) str(path string, n *yaml.Node, key string) (*yaml.Node, bool) {
	n, ok := l.value(path, n)
	if !ok {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		l.errorf(pos(path, n), "%s must be a string, got %s", key, describe(n))
		return nil, false
	}
	return n, true
}

// quoteGroup quotes a group's name for messages; unnamed groups are
// called by their number (#3).
func quoteGroup(display string) string {
	if strings.HasPrefix(display, "#") {
		return display
	}
	return quote(display)
}

// parseIDs adds the IDs of an ids list. It returns how many entries the list
// has, and false if it is not a list.
func (l *loader) parseIDs(path string, list *yaml.Node, group string) (int, bool) {
	list, ok := l.value(path, list)
	if !ok {
		return 0, false
	}
	if isNull(list) {
		return 0, true
	}
	if list.Kind != yaml.SequenceNode {
		hint := ""
		if list.Kind == yaml.ScalarNode {
			hint = ": write it as a list (- <id> on each line), or use ids_from for a file of IDs"
			if _, err := msgid.Parse(list.Value); err == nil {
				hint = ": write it as a list (ids: [" + list.Value + "]), or use ids_from for a file of IDs"
			}
		}
		l.errorf(pos(path, list), "ids must be a list of message IDs, got %s%s", describe(list), hint)
		return 0, false
	}
	l.sources = append(l.sources, source{
		start: len(l.all),
		file:  path,
		group: group,
		lines: make([]uint32, 0, len(list.Content)),
		cols:  make([]uint32, 0, len(list.Content)),
	})
	src := &l.sources[len(l.sources)-1]
	for _, item := range list.Content {
		n, ok := l.value(path, item)
		if !ok {
			continue
		}
		if n.Kind != yaml.ScalarNode || isNull(n) {
			l.errorf(pos(path, n), "each ids entry must be a message ID (32 hexadecimal characters), got %s", describe(n))
			continue
		}
		id, err := msgid.Parse(n.Value)
		if err != nil {
			l.errorf(pos(path, n), "invalid message ID %s: %s", quote(n.Value), idProblem(n.Value, "entry"))
			continue
		}
		l.addID(id, src, uint32(n.Line), uint32(n.Column))
	}
	return len(list.Content), true
}
