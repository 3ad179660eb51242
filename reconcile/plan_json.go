package reconcile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/state/local"
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

// WritePlan writes p as a saved plan: encoding/json's indented form, except
// that each change stays on one line (reviewable diffs), the same bytes for
// the same plan.
func WritePlan(w io.Writer, p *Plan) error {
	for i := range p.Changes {
		if a := p.Changes[i].Action; a != 0 && a != Cancel {
			return fmt.Errorf("reconcile: change %d (%s) has action %s; a plan only cancels", i+1, p.Changes[i].ID, a)
		}
	}
	h := *p
	h.CreatedAt = p.CreatedAt.UTC()
	if h.FormatVersion == 0 {
		h.FormatVersion = PlanFormatVersion
	}
	if h.Groups == nil {
		h.Groups = []GroupPlan{}
	}
	h.Changes = []Change{}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&h); err != nil {
		return err
	}
	// changes is the last member: open its empty array and add the changes
	// one a line, each as json.Marshal words it.
	const empty = "[]\n}\n"
	if len(p.Changes) == 0 || !bytes.HasSuffix(buf.Bytes(), []byte(empty)) {
		_, err := w.Write(buf.Bytes())
		return err
	}
	buf.Truncate(buf.Len() - len(empty))
	buf.WriteString("[\n")
	line := json.NewEncoder(&buf)
	for i := range p.Changes {
		buf.WriteString("    ")
		if err := line.Encode(p.Changes[i]); err != nil {
			return err
		}
		if i < len(p.Changes)-1 {
			buf.Truncate(buf.Len() - 1)
			buf.WriteString(",\n")
		}
		if buf.Len() > 64<<10 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
			buf.Reset()
		}
	}
	buf.WriteString("  ]\n}\n")
	_, err := w.Write(buf.Bytes())
	return err
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
	// The Plan, with the two fields it must check before taking them:
	// whether format_version is there at all, and each change's fields
	// as written (so that an error can say which change is wrong).
	var d struct {
		Plan
		FormatVersion *int          `json:"format_version"`
		Changes       *[]changeJSON `json:"changes"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, malformed("the file is empty")
		}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, malformed("not valid JSON (at byte %d: %v)", se.Offset, err)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			// te.Field is a path through d, which embeds the Plan.
			field := strings.TrimPrefix(te.Field, "Plan.")
			return nil, malformed("field %q holds a JSON %s, which is the wrong type", field, te.Value)
		}
		return nil, malformed("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("unexpected data after the plan's JSON object")
	}
	switch {
	case d.FormatVersion == nil:
		return nil, malformed("no format_version: this is not a recall plan")
	case *d.FormatVersion > PlanFormatVersion:
		return nil, &PlanFormatError{Version: *d.FormatVersion}
	case *d.FormatVersion < 1:
		return nil, malformed("format_version %d is not valid", *d.FormatVersion)
	case d.Changes == nil || *d.Changes == nil:
		return nil, malformed("no changes list: this is not a recall plan")
	}
	p := &d.Plan
	p.FormatVersion = *d.FormatVersion
	p.CreatedAt = p.CreatedAt.UTC()
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
	cjs := *d.Changes
	p.Changes = make([]Change, len(cjs))
	seen := make(map[msgid.ID]struct{}, len(cjs))
	perGroup := make(map[string]int, len(p.Groups))
	var (
		lastName string
		lastG    *GroupPlan
	)
	for i := range cjs {
		c, err := cjs[i].change()
		if err != nil {
			return nil, malformed("change %d: %v", i+1, err)
		}
		if _, dup := seen[c.ID]; dup {
			first := slices.IndexFunc(p.Changes[:i], func(o Change) bool { return o.ID == c.ID })
			return nil, malformed("change %d: id %s is already change %d", i+1, c.ID, first+1)
		}
		seen[c.ID] = struct{}{}
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
		p.Changes[i] = c
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

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || a.Equal(*b)
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

// WritePlanFile saves p at path atomically, as the state file is saved: a
// temporary file in the same directory, fsync, rename, fsync of the
// directory. A failed write leaves any earlier file intact.
func WritePlanFile(path string, p *Plan) error {
	return local.WriteFileAtomic(path, func(w io.Writer) error { return WritePlan(w, p) })
}
