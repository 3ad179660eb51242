package reconcile

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/internal/enum"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// StatusReader reads one message's status without changing it.
// *clickatell.Client satisfies it. A still scheduled message is a Result
// with Outcome outcome.Scheduled.
type StatusReader interface {
	MessageStatus(ctx context.Context, id string) (*clickatell.Result, error)
}

// RefreshKind is what a refresh makes of Clickatell's answer about one
// message, given what the state recorded for it.
type RefreshKind uint8

const (
	// RefreshRecord: not recorded, and the answer settles it (006
	// cancelled, 004 too_late, …): it is recorded.
	RefreshRecord RefreshKind = iota + 1
	// RefreshUpdate: recorded too_late, not_delivered or not_found, and
	// Clickatell now reports another settled outcome (a not_found message
	// cancelled in the portal): the newer answer is recorded.
	RefreshUpdate
	// RefreshScheduled: not recorded, and Clickatell says 011: the message
	// is still to cancel. Nothing is recorded.
	RefreshScheduled
	// RefreshUnchanged: the answer agrees with the record (same outcome),
	// or is only "unknown" about a message recorded too_late,
	// not_delivered or not_found: Clickatell forgets messages after about
	// six days, and "unknown" says less than the record. Nothing is
	// written.
	RefreshUnchanged
	// RefreshDrift: recorded cancelled, and Clickatell reports anything
	// else; or recorded settled, and Clickatell says it is still
	// scheduled. The record is kept and the drift reported: a settled
	// record is never rewritten into another story, nor made unsettled,
	// without a human ('recall state rm' lets the next apply cancel it).
	RefreshDrift
)

var refreshKindNames = [...]string{
	RefreshRecord:    "record",
	RefreshUpdate:    "update",
	RefreshScheduled: "scheduled",
	RefreshUnchanged: "unchanged",
	RefreshDrift:     "drift",
}

func (k RefreshKind) String() string { return enum.Name(refreshKindNames[:], k, "RefreshKind") }

// RefreshOptions tunes Refresh: apply's options, and DryRun.
type RefreshOptions struct {
	ApplyOptions
	// DryRun asks every status and writes nothing (plan -refresh-only):
	// the result's Changes say what would be recorded.
	DryRun bool
}

// RefreshResult is what a refresh found, beyond apply's counts.
type RefreshResult struct {
	RefreshCounts
	// Groups break the counts down by manifest group, in plan order.
	Groups []RefreshGroup `json:"groups"`
	// Drift are the drifted messages grouped by what the state recorded
	// and what Clickatell reports, largest first.
	Drift []DriftGroup `json:"drift"`
	// Changes are the records written (or, with DryRun, that would be),
	// in the order the answers arrived.
	Changes []state.Change `json:"-"`
}

// RefreshCounts tallies a refresh by RefreshKind.
type RefreshCounts struct {
	// Record counts messages recorded (or that would be): new records and
	// updates.
	Record int `json:"record"`
	// Updated counts those of Record that replace another settled outcome.
	Updated int `json:"updated"`
	// ByOutcome breaks Record down by the outcome recorded ("cancelled",
	// "too_late", …).
	ByOutcome map[string]int `json:"by_outcome"`
	// Scheduled counts messages still scheduled (011), not recorded.
	Scheduled int `json:"scheduled"`
	// Unchanged counts messages whose record stands.
	Unchanged int `json:"unchanged"`
	// Drifted counts messages whose record Clickatell contradicts.
	Drifted int `json:"drifted"`
}

// RefreshGroup is one manifest group's part of a refresh.
type RefreshGroup struct {
	// Name is the group's name.
	Name string `json:"name"`
	RefreshCounts
	// Examples are the first few messages recorded (or to be), for a
	// reviewer.
	Examples []RefreshExample `json:"examples"`
}

// RefreshExample is one message a refresh records.
type RefreshExample struct {
	idx int32 // the change's index in the plan: examples are the first few in plan order

	ID string `json:"id"`
	// Outcome is what is recorded; Was the outcome it replaces, if any.
	Outcome string `json:"outcome"`
	Was     string `json:"was,omitempty"`
	// Status and Description are Clickatell's answer.
	Status      string `json:"status,omitempty"`
	Description string `json:"description,omitempty"`
}

// DriftGroup is the drifted messages of one kind.
type DriftGroup struct {
	// Recorded is the outcome in state, which is kept.
	Recorded string `json:"recorded"`
	// Reported is what Clickatell says now: an outcome, or "scheduled".
	Reported string `json:"reported"`
	// Status and Description are Clickatell's answer (Status empty for a
	// 404).
	Status      string `json:"status,omitempty"`
	Description string `json:"description,omitempty"`
	// Count is how many messages drifted this way.
	Count int `json:"count"`
	// Examples are a few of their IDs, the first in plan order.
	Examples []string `json:"examples"`

	idxs []int32 // the examples' indexes in the plan
}

// maxRefreshExamples is how many recorded messages a group keeps as
// examples.
const maxRefreshExamples = 10

// refreshRun is a run's refresh part: what the state recorded for each
// change, and the tallies.
type refreshRun struct {
	reader StatusReader
	// prior is the outcome recorded for each change of the plan (0: none),
	// read before the run: the backend updates its state as it writes.
	prior   []outcome.Outcome
	res     RefreshResult
	groups  map[string]int // index in res.Groups
	drift   map[string]*DriftGroup
	driftSq []string
}

// NewRefreshPlan is NewPlan for a refresh: its Changes are every message
// of the planned groups (all of them, or opts.Targets), settled or not, in
// manifest order; its Summary and Groups are NewPlan's. It is never saved.
func NewRefreshPlan(m *manifest.Manifest, s *state.State, opts PlanOptions) (*Plan, error) {
	p, err := NewPlan(m, s, opts)
	if err != nil {
		return nil, err
	}
	p.clearEstimate() // a refresh sends no cancellation
	targeted, err := resolveTargets(m, opts.Targets)
	if err != nil {
		return nil, err
	}
	n := 0
	for i, g := range m.Groups {
		if targeted == nil || targeted[i] {
			n += len(g.IDs)
		}
	}
	p.Changes = make([]Change, 0, n)
	gi := 0
	for i, g := range m.Groups {
		if targeted != nil && !targeted[i] {
			continue
		}
		gp := &p.Groups[gi]
		gi++
		for _, id := range g.IDs {
			p.Changes = append(p.Changes, Change{ID: id, Group: gp.Name, Reason: gp.Reason, ScheduledAt: gp.ScheduledAt})
		}
	}
	return p, nil
}

// Refresh asks Clickatell the status of every change of plan (made by
// NewRefreshPlan) through reader, sending no stop call, and records what
// the answers settle, by the rule of RefreshKind: new outcomes and updates
// are recorded, still scheduled messages stay to cancel, and a recorded
// cancelled message that Clickatell reports otherwise is drift, reported
// (a warning diagnostic per kind, and in the summary) and never rewritten.
//
// It is Apply's run with another call: the same parallelism, rate,
// retries, throttle, progress events, checkpoints, interrupt, fatal
// answers and errors. With opts.DryRun nothing is written; the result's
// Refresh.Changes say what would be.
func Refresh(ctx context.Context, plan *Plan, backend state.Backend, reader StatusReader, opts RefreshOptions) (*ApplyResult, error) {
	st := opts.State
	if st == nil {
		var err error
		if st, err = backend.Read(ctx); err != nil {
			return nil, err
		}
		opts.State = st
	}
	rf := &refreshRun{
		reader: reader,
		prior:  make([]outcome.Outcome, len(plan.Changes)),
		groups: map[string]int{},
		drift:  map[string]*DriftGroup{},
	}
	rf.res.ByOutcome = map[string]int{}
	for i, c := range plan.Changes {
		if rec, ok := st.Lookup(c.ID); ok {
			rf.prior[i] = rec.Outcome
		}
		rf.group(c.Group) // groups in plan order
	}
	if opts.DryRun {
		backend = dryBackend{backend}
	}
	return apply(ctx, plan, backend, nil, opts.ApplyOptions, rf)
}

// dryBackend writes nothing: plan -refresh-only runs the refresh on it.
type dryBackend struct{ state.Backend }

func (dryBackend) Commit(context.Context, []state.Change) error { return nil }

// send makes the run's call for one message: a stop call, or in a
// refresh a status query.
func (r *run) send(ctx context.Context, id string) (*clickatell.Result, error) {
	if r.refresh != nil {
		return r.refresh.reader.MessageStatus(ctx, id)
	}
	return r.stopper.StopMessage(ctx, id)
}

// group returns the tallies of change c's group.
func (rf *refreshRun) group(name string) *RefreshGroup {
	i, ok := rf.groups[name]
	if !ok {
		i = len(rf.res.Groups)
		rf.groups[name] = i
		rf.res.Groups = append(rf.res.Groups, RefreshGroup{Name: name, RefreshCounts: RefreshCounts{ByOutcome: map[string]int{}}, Examples: []RefreshExample{}})
	}
	return &rf.res.Groups[i]
}

// count adds one message of kind k to the totals and to its group's.
func (rf *refreshRun) count(g *RefreshGroup, k RefreshKind, outcome string) {
	for _, c := range []*RefreshCounts{&rf.res.RefreshCounts, &g.RefreshCounts} {
		switch k {
		case RefreshRecord, RefreshUpdate:
			c.Record++
			c.ByOutcome[outcome]++
			if k == RefreshUpdate {
				c.Updated++
			}
		case RefreshScheduled:
			c.Scheduled++
		case RefreshUnchanged:
			c.Unchanged++
		case RefreshDrift:
			c.Drifted++
		}
	}
}

func (rf *refreshRun) addDrift(idx int32, id, recorded, reported, status, desc string) {
	key := recorded + "\x00" + reported + "\x00" + status
	d, ok := rf.drift[key]
	if !ok {
		d = &DriftGroup{Recorded: recorded, Reported: reported, Status: status, Description: desc, Examples: []string{}}
		rf.drift[key] = d
		rf.driftSq = append(rf.driftSq, key)
	}
	d.Count++
	if i, ok := firstFew(d.idxs, idx, maxExamples); ok {
		d.idxs = slices.Insert(d.idxs, i, idx)
		d.Examples = slices.Insert(d.Examples, i, id)
		if len(d.idxs) > maxExamples {
			d.idxs, d.Examples = d.idxs[:maxExamples], d.Examples[:maxExamples]
		}
	}
}

// firstFew says where idx goes in the sorted idxs, which keep the n
// smallest indexes seen, and whether it is among them.
func firstFew(idxs []int32, idx int32, n int) (int, bool) {
	i, _ := slices.BinarySearch(idxs, idx)
	return i, i < n
}

// refreshScheduled settles a refresh's 011 answer: still to cancel, or
// drift when the state recorded the message settled.
func (r *run) refreshScheduled(s settled) {
	rf := r.refresh
	c := &r.plan.Changes[s.idx]
	r.failStreak = 0
	r.counts.Scheduled++
	ev := &MessageEvent{ID: c.ID.String(), Group: c.Group, Attempts: s.calls, Outcome: "scheduled",
		Status: s.res.Status, Description: s.res.Description}
	g := rf.group(c.Group)
	kind := RefreshScheduled
	if prior := rf.prior[s.idx]; prior != 0 {
		kind = RefreshDrift
		ev.Recorded = prior.String()
		rf.addDrift(s.idx, ev.ID, ev.Recorded, "scheduled", s.res.Status, s.res.Description)
	}
	rf.count(g, kind, "")
	ev.Refresh = kind.String()
	r.emit(Event{Type: EventMessage, Message: ev})
}

// refreshRecord decides whether a refresh records rec, the settled answer
// for change idx. It returns true when rec is to be recorded (the caller
// records it, and emits ev); otherwise it emits ev itself.
func (r *run) refreshRecord(idx int32, rec *state.Record, ev *MessageEvent) bool {
	rf := r.refresh
	c := &r.plan.Changes[idx]
	prior := rf.prior[idx]
	var kind RefreshKind
	switch {
	case prior == 0:
		kind = RefreshRecord
	case prior == rec.Outcome:
		kind = RefreshUnchanged
	case prior == outcome.Cancelled:
		kind = RefreshDrift
	case rec.Outcome == outcome.NotFound:
		kind = RefreshUnchanged
	default:
		kind = RefreshUpdate
	}
	if prior != 0 {
		ev.Recorded = prior.String()
	}
	ev.Refresh = kind.String()
	g := rf.group(c.Group)
	rf.count(g, kind, rec.Outcome.String())
	switch kind {
	case RefreshRecord, RefreshUpdate:
		i, _ := slices.BinarySearchFunc(g.Examples, idx, func(x RefreshExample, t int32) int { return cmp.Compare(x.idx, t) })
		if i < maxRefreshExamples {
			g.Examples = slices.Insert(g.Examples, i, RefreshExample{idx: idx, ID: ev.ID, Outcome: rec.Outcome.String(), Was: ev.Recorded, Status: rec.Status, Description: rec.Description})
			if len(g.Examples) > maxRefreshExamples {
				g.Examples = g.Examples[:maxRefreshExamples]
			}
		}
		rf.res.Changes = append(rf.res.Changes, state.Change{ID: c.ID, Record: rec})
		return true
	case RefreshDrift:
		rf.addDrift(idx, ev.ID, ev.Recorded, rec.Outcome.String(), rec.Status, rec.Description)
	}
	ev.Outcome, ev.Status, ev.Description = rec.Outcome.String(), rec.Status, rec.Description
	r.emit(Event{Type: EventMessage, Message: ev})
	return false
}

// refreshDone closes a refresh: one warning per kind of drift, and the
// refresh's tallies in the result and the summary event.
func (r *run) refreshDone(res *ApplyResult, sum *SummaryEvent) {
	rf := r.refresh
	rf.res.Drift = make([]DriftGroup, 0, len(rf.driftSq))
	for _, k := range rf.driftSq {
		rf.res.Drift = append(rf.res.Drift, *rf.drift[k])
	}
	sortDrift(rf.res.Drift)
	for _, d := range rf.res.Drift {
		r.emit(Event{Type: EventDiagnostic, Diagnostic: &DiagnosticEvent{
			Severity: SeverityWarning,
			Summary:  DriftSummary(d),
			Err:      &d,
		}})
	}
	res.Refresh = &rf.res
	sum.Refresh = &rf.res
}

// sortDrift orders drift groups largest first, first seen first among
// equals.
func sortDrift(ds []DriftGroup) {
	slices.SortStableFunc(ds, func(a, b DriftGroup) int { return cmp.Compare(b.Count, a.Count) })
}

// DriftSummary says in a line what drifted: "Drift: 2 messages recorded
// cancelled, but Clickatell reports 004 Received by recipient (too late);
// the record is kept (e.g. 0123…, 4567…)".
func DriftSummary(d DriftGroup) string {
	return fmt.Sprintf("Drift: %s recorded %s, but Clickatell reports %s; the record is kept (e.g. %s)",
		countMessages(d.Count), d.Recorded, reported(d), strings.Join(d.Examples, ", "))
}

// reported says what Clickatell reports: "004 Received by recipient (too
// late)", "not found (Resource does not exist)", "011 … (still scheduled)".
func reported(d DriftGroup) string {
	words := strings.ReplaceAll(d.Reported, "_", " ")
	if d.Reported == "scheduled" {
		words = "still scheduled"
	}
	switch {
	case d.Status != "":
		return strings.TrimSpace(d.Status+" "+d.Description) + " (" + words + ")"
	case d.Description != "":
		return words + " (" + d.Description + ")"
	}
	return words
}

// Error says the drift (DriftSummary): a DriftGroup is what a drift
// warning is about (DiagnosticEvent.Err), for the caller's advice.
func (d *DriftGroup) Error() string { return DriftSummary(*d) }
