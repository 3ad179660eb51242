package reconcile

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
)

// changeJSON is a Change as saved plans spell it.
type changeJSON struct {
	ID          string     `json:"id"`
	Action      string     `json:"action"`
	Group       string     `json:"group"`
	Reason      string     `json:"reason,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

// MarshalJSON writes the change as saved plans hold it, with its action.
func (c Change) MarshalJSON() ([]byte, error) {
	a := c.Action
	if a == 0 {
		a = Cancel
	}
	return json.Marshal(changeJSON{ID: c.ID.String(), Action: a.String(), Group: c.Group, Reason: c.Reason, ScheduledAt: c.ScheduledAt})
}

// UnmarshalJSON reads a change; its action must be "cancel".
func (c *Change) UnmarshalJSON(b []byte) error {
	var cj changeJSON
	if err := json.Unmarshal(b, &cj); err != nil {
		return err
	}
	v, err := cj.change()
	if err != nil {
		return err
	}
	*c = v
	return nil
}

func (cj *changeJSON) change() (Change, error) {
	id, err := msgid.Parse(cj.ID)
	if err != nil {
		return Change{}, fmt.Errorf("id %q: %w", clip(cj.ID), err)
	}
	if cj.Action != "cancel" {
		return Change{}, fmt.Errorf("id %s: action %q is not one this recall knows (want \"cancel\")", id, clip(cj.Action))
	}
	if cj.Group == "" {
		return Change{}, fmt.Errorf("id %s: no group", id)
	}
	if !manifest.ValidGroupName(cj.Group) {
		return Change{}, fmt.Errorf("id %s: group %q is not a valid group name", id, clip(cj.Group))
	}
	c := Change{ID: id, Action: Cancel, Group: cj.Group, Reason: cj.Reason}
	if cj.ScheduledAt != nil {
		t := cj.ScheduledAt.UTC()
		c.ScheduledAt = &t
	}
	return c, nil
}

// clip shortens text from a plan file for an error message: at most 40
// bytes, cut where a character starts so that the message stays UTF-8.
func clip(s string) string {
	n := 40
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// planHeader is a Plan without its changes; WritePlan marshals it with
// encoding/json and streams the changes itself.
type planHeader struct {
	FormatVersion  int           `json:"format_version"`
	RecallVersion  string        `json:"recall_version"`
	CreatedAt      time.Time     `json:"created_at"`
	State          StateRef      `json:"state"`
	ManifestDigest string        `json:"manifest_digest"`
	ManifestPaths  []string      `json:"manifest_paths,omitempty"`
	Targets        []string      `json:"targets,omitempty"`
	Summary        Summary       `json:"summary"`
	Groups         []GroupPlan   `json:"groups"`
	Warnings       []Warning     `json:"warnings,omitempty"`
	Orphaned       []OrphanGroup `json:"orphaned,omitempty"`
}

// WritePlan writes p as a saved plan: indented JSON, one change per line,
// the same bytes for the same plan. Changes are encoded without
// reflection (a million-change plan is written in well under a second);
// the rest of the document goes through encoding/json.
func WritePlan(w io.Writer, p *Plan) error {
	h := planHeader{
		FormatVersion:  p.FormatVersion,
		RecallVersion:  p.RecallVersion,
		CreatedAt:      p.CreatedAt.UTC(),
		State:          p.State,
		ManifestDigest: p.ManifestDigest,
		ManifestPaths:  p.ManifestPaths,
		Targets:        p.Targets,
		Summary:        p.Summary,
		Groups:         p.Groups,
		Warnings:       p.Warnings,
		Orphaned:       p.Orphaned,
	}
	if h.FormatVersion == 0 {
		h.FormatVersion = PlanFormatVersion
	}
	if h.Groups == nil {
		h.Groups = []GroupPlan{}
	}
	head, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	// Reopen the object to append "changes" as its last member.
	head = bytes.TrimSuffix(bytes.TrimRight(head, "\n"), []byte("\n}"))

	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(head)
	if len(p.Changes) == 0 {
		bw.WriteString(",\n  \"changes\": []\n}\n")
		return bw.Flush()
	}
	bw.WriteString(",\n  \"changes\": [\n")

	// Everything after the ID depends only on the change's group fields,
	// so it is encoded once per run of changes that share them.
	var (
		tail     []byte
		lastG    string
		lastR    string
		lastS    *time.Time
		haveTail bool
		line     = make([]byte, 0, 256)
	)
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.Action != 0 && c.Action != Cancel {
			return fmt.Errorf("reconcile: change %d (%s) has action %s; a plan only cancels", i+1, c.ID, c.Action)
		}
		if !haveTail || c.Group != lastG || c.Reason != lastR || !sameTime(c.ScheduledAt, lastS) {
			cj := changeJSON{Action: "cancel", Group: c.Group, Reason: c.Reason, ScheduledAt: c.ScheduledAt}
			b, err := json.Marshal(cj)
			if err != nil {
				return err
			}
			// b is {"id":"","action":...}; keep what follows the ID.
			tail = append(tail[:0], `",`...)
			tail = append(tail, b[len(`{"id":"",`):]...)
			lastG, lastR, lastS, haveTail = c.Group, c.Reason, c.ScheduledAt, true
		}
		line = append(line[:0], `    {"id":"`...)
		line, _ = c.ID.AppendText(line)
		line = append(line, tail...)
		if i < len(p.Changes)-1 {
			line = append(line, ',')
		}
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || a.Equal(*b)
}

// planDoc is the saved plan as read.
type planDoc struct {
	FormatVersion  *int            `json:"format_version"`
	RecallVersion  string          `json:"recall_version"`
	CreatedAt      time.Time       `json:"created_at"`
	State          StateRef        `json:"state"`
	ManifestDigest string          `json:"manifest_digest"`
	ManifestPaths  []string        `json:"manifest_paths"`
	Targets        []string        `json:"targets"`
	Summary        Summary         `json:"summary"`
	Groups         []GroupPlan     `json:"groups"`
	Warnings       []Warning       `json:"warnings"`
	Orphaned       []OrphanGroup   `json:"orphaned"`
	Changes        json.RawMessage `json:"changes"`
}

// PlanFormatError is returned by ReadPlan for a plan written by a newer
// recall.
type PlanFormatError struct {
	// Version is the format_version found.
	Version int
}

func (e *PlanFormatError) Error() string {
	return fmt.Sprintf("plan format_version %d is newer than this recall supports (%d); upgrade recall, or make the plan again with this one", e.Version, PlanFormatVersion)
}

// ErrMalformedPlan is wrapped by ReadPlan's errors about files that are not
// valid saved plans.
var ErrMalformedPlan = errors.New("malformed plan")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedPlan, fmt.Sprintf(format, args...))
}

// ReadPlan reads a saved plan. It refuses, with an error saying what is
// wrong, anything that is not a complete plan of a format this recall
// knows: malformed JSON, a newer format_version (*PlanFormatError), a bad
// or duplicate ID, an action other than cancel, or a summary that does not
// match the changes. Unknown fields are ignored.
func ReadPlan(r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the plan: %w", err)
	}
	d, changes, err := decodePlan(data)
	if err != nil {
		return nil, err
	}
	p := &Plan{
		FormatVersion:  *d.FormatVersion,
		RecallVersion:  d.RecallVersion,
		CreatedAt:      d.CreatedAt.UTC(),
		State:          d.State,
		ManifestDigest: d.ManifestDigest,
		ManifestPaths:  d.ManifestPaths,
		Targets:        d.Targets,
		Summary:        d.Summary,
		Groups:         d.Groups,
		Warnings:       d.Warnings,
		Orphaned:       d.Orphaned,
		Changes:        changes,
	}
	if p.State.Lineage == "" && p.State.Serial != 0 {
		return nil, malformed("state serial %d without a lineage", p.State.Serial)
	}

	// Groups share their strings and times with the changes that name them.
	groups := make(map[string]*GroupPlan, len(p.Groups))
	for i := range p.Groups {
		g := &p.Groups[i]
		if !manifest.ValidGroupName(g.Name) {
			return nil, malformed("groups: %q is not a valid group name", clip(g.Name))
		}
		if _, dup := groups[g.Name]; dup {
			return nil, malformed("group %q is listed twice", g.Name)
		}
		groups[g.Name] = g
	}
	seen := newIDSet(len(p.Changes))
	perGroup := make(map[string]int, len(p.Groups))
	var (
		lastName string
		lastG    *GroupPlan
	)
	for i := range p.Changes {
		c := &p.Changes[i]
		if !seen.add(c.ID) {
			first := slices.IndexFunc(p.Changes, func(o Change) bool { return o.ID == c.ID })
			return nil, malformed("change %d: id %s is already change %d", i+1, c.ID, first+1)
		}
		if len(groups) > 0 {
			if lastG == nil || c.Group != lastName {
				g, ok := groups[c.Group]
				if !ok {
					return nil, malformed("change %d: group %q is not among the plan's groups", i+1, clip(c.Group))
				}
				lastName, lastG = c.Group, g
			}
			c.Group, c.Reason, c.ScheduledAt = lastG.Name, lastG.Reason, lastG.ScheduledAt
		}
		perGroup[c.Group]++
	}
	if p.Summary.Cancel != len(p.Changes) {
		return nil, malformed("summary says %d to cancel but the plan lists %d changes", p.Summary.Cancel, len(p.Changes))
	}
	for _, g := range p.Groups {
		if g.Cancel != perGroup[g.Name] {
			return nil, malformed("group %q says %d to cancel but the plan lists %d of its changes", g.Name, g.Cancel, perGroup[g.Name])
		}
	}
	if len(p.Groups) == 0 && len(p.Changes) > 0 {
		if p.Groups, err = groupsFromChanges(p.Changes); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// planChangesSep is what WritePlan writes before the changes array, the
// document's last member. A JSON string cannot hold a raw newline, so this
// can only be structure.
const planChangesSep = ",\n  \"changes\": "

// decodePlan decodes a saved plan. A plan in WritePlan's layout is split
// before its changes: encoding/json decodes the small head, and the
// changes are parsed directly (a million changes in a fraction of a
// second). Anything else is decoded by encoding/json whole.
func decodePlan(data []byte) (*planDoc, []Change, error) {
	if i := bytes.Index(data, []byte(planChangesSep)); i > 0 {
		rest := bytes.TrimRight(data[i+len(planChangesSep):], " \t\r\n")
		if len(rest) > 0 && rest[len(rest)-1] == '}' {
			head := make([]byte, i+1)
			copy(head, data[:i])
			head[i] = '}'
			var d planDoc
			if json.Unmarshal(head, &d) == nil && d.Changes == nil {
				if err := checkPlanVersion(&d); err != nil {
					return nil, nil, err
				}
				if cs, ok := parseChangesFast(rest[:len(rest)-1]); ok {
					return &d, cs, nil
				}
			}
		}
	}

	var d planDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, malformed("the file is empty")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, nil, malformed("not valid JSON (at byte %d: %v)", se.Offset, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, nil, malformed("field %q holds a JSON %s, which is the wrong type", te.Field, te.Value)
		}
		return nil, nil, malformed("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, malformed("unexpected data after the plan's JSON object")
	}
	if err := checkPlanVersion(&d); err != nil {
		return nil, nil, err
	}
	if len(d.Changes) == 0 || string(d.Changes) == "null" {
		return nil, nil, malformed("no changes list: this is not a recall plan")
	}
	changes, err := decodeChanges(d.Changes)
	if err != nil {
		return nil, nil, err
	}
	return &d, changes, nil
}

func checkPlanVersion(d *planDoc) error {
	if d.FormatVersion == nil {
		return malformed("no format_version: this is not a recall plan")
	}
	switch v := *d.FormatVersion; {
	case v > PlanFormatVersion:
		return &PlanFormatError{Version: v}
	case v < 1:
		return malformed("format_version %d is not valid", v)
	}
	return nil
}

// decodeChanges decodes a saved plan's changes array. The layout WritePlan
// writes (one change a line, id first, runs of changes with the same group
// fields) is parsed directly, decoding each run's group fields once; any
// other layout, and any change that does not check out, goes through
// encoding/json, which also words the errors.
func decodeChanges(raw []byte) ([]Change, error) {
	if cs, ok := parseChangesFast(raw); ok {
		return cs, nil
	}
	var cjs []changeJSON
	if err := json.Unmarshal(raw, &cjs); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, malformed("changes: field %q holds a JSON %s, which is the wrong type", te.Field, te.Value)
		}
		return nil, malformed("changes: %v", err)
	}
	cs := make([]Change, len(cjs))
	for i := range cjs {
		c, err := cjs[i].change()
		if err != nil {
			return nil, malformed("change %d: %v", i+1, err)
		}
		cs[i] = c
	}
	return cs, nil
}

// parseChangesFast parses raw, a syntactically valid JSON value, when it
// is an array of changes as WritePlan writes them; ok is false otherwise.
func parseChangesFast(raw []byte) (cs []Change, ok bool) {
	const prefix = `{"id":"`
	p := skipSpace(raw, 0)
	if p >= len(raw) || raw[p] != '[' {
		return nil, false
	}
	p = skipSpace(raw, p+1)
	if p < len(raw) && raw[p] == ']' {
		return []Change{}, skipSpace(raw, p+1) == len(raw)
	}
	cs = make([]Change, 0, bytes.Count(raw, []byte(prefix)))
	var lastTail []byte
	var tmpl Change
	for {
		if !bytes.HasPrefix(raw[p:], []byte(prefix)) || len(raw)-p < len(prefix)+msgid.Len+2 {
			return nil, false
		}
		p += len(prefix)
		id, valid := msgid.ParseBytes(raw[p : p+msgid.Len])
		if !valid {
			return nil, false
		}
		p += msgid.Len
		if raw[p] != '"' || raw[p+1] != ',' {
			return nil, false
		}
		p += 2
		// The tail: the object's other members, up to its closing brace.
		t := p
		depth := 0
	scan:
		for ; p < len(raw); p++ {
			switch raw[p] {
			case '"':
				for p++; p < len(raw) && raw[p] != '"'; p++ {
					if raw[p] == '\\' {
						p++
					}
				}
			case '{', '[':
				depth++
			case ']':
				depth--
			case '}':
				if depth == 0 {
					break scan
				}
				depth--
			}
		}
		if p >= len(raw) {
			return nil, false
		}
		tail := raw[t:p]
		p++
		if lastTail == nil || !bytes.Equal(tail, lastTail) {
			var cj changeJSON
			obj := make([]byte, 0, len(tail)+2)
			obj = append(append(append(obj, '{'), tail...), '}')
			if err := json.Unmarshal(obj, &cj); err != nil || cj.ID != "" || cj.Action != "cancel" || !manifest.ValidGroupName(cj.Group) {
				return nil, false
			}
			tmpl = Change{Action: Cancel, Group: cj.Group, Reason: cj.Reason}
			if cj.ScheduledAt != nil {
				at := cj.ScheduledAt.UTC()
				tmpl.ScheduledAt = &at
			}
			lastTail = tail
		}
		c := tmpl
		c.ID = id
		cs = append(cs, c)
		p = skipSpace(raw, p)
		if p >= len(raw) {
			return nil, false
		}
		switch raw[p] {
		case ',':
			p = skipSpace(raw, p+1)
		case ']':
			return cs, skipSpace(raw, p+1) == len(raw)
		default:
			return nil, false
		}
	}
}

func skipSpace(b []byte, p int) int {
	for p < len(b) && (b[p] == ' ' || b[p] == '\n' || b[p] == '\t' || b[p] == '\r') {
		p++
	}
	return p
}

// groupsFromChanges rebuilds the group list of a plan that has none (a
// plan written by hand or by another tool from the documented fields).
func groupsFromChanges(cs []Change) ([]GroupPlan, error) {
	var out []GroupPlan
	idx := map[string]int{}
	first := map[string]int{}
	for n := range cs {
		c := &cs[n]
		i, ok := idx[c.Group]
		if !ok {
			i = len(out)
			idx[c.Group] = i
			first[c.Group] = n + 1
			out = append(out, GroupPlan{Name: c.Group, Reason: c.Reason, ScheduledAt: c.ScheduledAt})
		}
		g := &out[i]
		if c.Reason != g.Reason || !sameTime(c.ScheduledAt, g.ScheduledAt) {
			return nil, malformed("change %d: group %q has another reason or scheduled_at than in change %d", n+1, clip(c.Group), first[c.Group])
		}
		c.Reason, c.ScheduledAt = g.Reason, g.ScheduledAt
		g.Cancel++
		g.Total++
	}
	return out, nil
}

// ReadPlanFile reads the saved plan at path; errors name the path.
func ReadPlanFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := ReadPlan(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// WritePlanFile saves p at path atomically: a temporary file in the same
// directory, fsync, rename. A failed write leaves any earlier file intact.
func WritePlanFile(path string, p *Plan) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = WritePlan(f, p); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
