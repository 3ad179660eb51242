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
	"time"

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
	c := Change{ID: id, Action: Cancel, Group: cj.Group, Reason: cj.Reason}
	if cj.ScheduledAt != nil {
		t := cj.ScheduledAt.UTC()
		c.ScheduledAt = &t
	}
	return c, nil
}

func clip(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// planHeader is a Plan without its changes; WritePlan marshals it with
// encoding/json and streams the changes itself.
type planHeader struct {
	FormatVersion  int           `json:"format_version"`
	RecallVersion  string        `json:"recall_version"`
	CreatedAt      time.Time     `json:"created_at"`
	State          StateRef      `json:"state"`
	ManifestDigest string        `json:"manifest_digest"`
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
	FormatVersion  *int          `json:"format_version"`
	RecallVersion  string        `json:"recall_version"`
	CreatedAt      time.Time     `json:"created_at"`
	State          StateRef      `json:"state"`
	ManifestDigest string        `json:"manifest_digest"`
	Targets        []string      `json:"targets"`
	Summary        Summary       `json:"summary"`
	Groups         []GroupPlan   `json:"groups"`
	Warnings       []Warning     `json:"warnings"`
	Orphaned       []OrphanGroup `json:"orphaned"`
	Changes        []changeJSON  `json:"changes"`
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
	dec := json.NewDecoder(bufio.NewReaderSize(r, 64<<10))
	var d planDoc
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
			return nil, malformed("field %q holds a JSON %s, which is the wrong type", te.Field, te.Value)
		}
		return nil, malformed("%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("unexpected data after the plan's JSON object")
	}
	if d.FormatVersion == nil {
		return nil, malformed("no format_version: this is not a recall plan")
	}
	switch v := *d.FormatVersion; {
	case v > PlanFormatVersion:
		return nil, &PlanFormatError{Version: v}
	case v < 1:
		return nil, malformed("format_version %d is not valid", v)
	}
	if d.Changes == nil {
		return nil, malformed("no changes list: this is not a recall plan")
	}
	p := &Plan{
		FormatVersion:  *d.FormatVersion,
		RecallVersion:  d.RecallVersion,
		CreatedAt:      d.CreatedAt.UTC(),
		State:          d.State,
		ManifestDigest: d.ManifestDigest,
		Targets:        d.Targets,
		Summary:        d.Summary,
		Groups:         d.Groups,
		Warnings:       d.Warnings,
		Orphaned:       d.Orphaned,
		Changes:        make([]Change, len(d.Changes)),
	}
	if p.State.Lineage == "" && p.State.Serial != 0 {
		return nil, malformed("state serial %d without a lineage", p.State.Serial)
	}

	// Groups share their strings and times with the changes that name them.
	groups := make(map[string]*GroupPlan, len(p.Groups))
	for i := range p.Groups {
		g := &p.Groups[i]
		if _, dup := groups[g.Name]; dup {
			return nil, malformed("group %q is listed twice", g.Name)
		}
		groups[g.Name] = g
	}
	var err error
	seen := make(map[msgid.ID]int, len(d.Changes))
	perGroup := make(map[string]int, len(p.Groups))
	for i := range d.Changes {
		c, err := d.Changes[i].change()
		if err != nil {
			return nil, malformed("change %d: %v", i+1, err)
		}
		if j, dup := seen[c.ID]; dup {
			return nil, malformed("change %d: id %s is already change %d", i+1, c.ID, j)
		}
		seen[c.ID] = i + 1
		if len(groups) > 0 {
			g, ok := groups[c.Group]
			if !ok {
				return nil, malformed("change %d: group %q is not among the plan's groups", i+1, clip(c.Group))
			}
			c.Group, c.Reason, c.ScheduledAt = g.Name, g.Reason, g.ScheduledAt
		}
		perGroup[c.Group]++
		p.Changes[i] = c
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
