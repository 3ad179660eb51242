// Package reconcile computes plans (the manifest diffed against state) and
// applies them. It never prints: callers render plans and apply events.
package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/recallhq/recall/internal/enum"
	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// PlanFormatVersion is the saved-plan format this release reads and writes.
const PlanFormatVersion = 1

// Action is what a plan does, or found done, for one message.
type Action uint8

const (
	// Cancel: not settled in state; a DELETE will be sent.
	Cancel Action = iota + 1
	// AlreadyCancelled: settled as cancelled; nothing is sent.
	AlreadyCancelled
	// AlreadyTooLate: settled as too_late; nothing is sent.
	AlreadyTooLate
	// AlreadyNotFound: settled as not_found; nothing is sent.
	AlreadyNotFound
	// AlreadyNotDelivered: settled as not_delivered; nothing is sent.
	AlreadyNotDelivered
)

var actionNames = [...]string{
	Cancel:              "cancel",
	AlreadyCancelled:    "cancelled",
	AlreadyTooLate:      "too_late",
	AlreadyNotFound:     "not_found",
	AlreadyNotDelivered: "not_delivered",
}

func (a Action) String() string { return enum.Name(actionNames[:], a, "Action") }

// StateRef pins the state a plan was made against.
type StateRef struct {
	// Lineage of the state; empty for a state not yet created.
	Lineage string `json:"lineage"`
	// Serial of the state; 0 for a state not yet created.
	Serial uint64 `json:"serial"`
	// Location is where the state is, as the plan was made with it: a
	// file path as given, or a PostgreSQL URL without its password.
	// 'apply PLANFILE' uses it when no -state is given and refuses a
	// -state that names another state. Empty in plans made before recall
	// recorded it, and in apply's events.
	Location string `json:"location,omitempty"`
	// Workspace is the state's workspace, recorded with Location.
	Workspace string `json:"workspace,omitempty"`
}

// sameVersion reports whether r and o are the same version of a state:
// same lineage, same serial (Location and Workspace aside).
func (r StateRef) sameVersion(o StateRef) bool {
	return r.Lineage == o.Lineage && r.Serial == o.Serial
}

// Summary counts the plan's messages by action.
type Summary struct {
	Cancel       int `json:"cancel"`
	Cancelled    int `json:"cancelled"`
	TooLate      int `json:"too_late"`
	NotFound     int `json:"not_found"`
	NotDelivered int `json:"not_delivered"`
	// Orphaned counts messages in state but in no manifest group.
	Orphaned int `json:"orphaned"`
}

// Total is the number of manifest messages the summary covers (orphans
// excluded: they are in state only).
func (s Summary) Total() int {
	return s.Cancel + s.Cancelled + s.TooLate + s.NotFound + s.NotDelivered
}

// Change is one message the plan will cancel.
type Change struct {
	ID          msgid.ID   `json:"id"`
	Action      Action     `json:"-"` // always Cancel in a saved plan; see MarshalJSON
	Group       string     `json:"group"`
	Reason      string     `json:"reason,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

// GroupPlan is one manifest group's part of a plan.
type GroupPlan struct {
	// Name is the group's name.
	Name string `json:"name"`
	// Reason is the group's reason; may be empty.
	Reason string `json:"reason,omitempty"`
	// ScheduledAt is when the group's messages are due to go out; nil if
	// the manifest does not say.
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	// Total is how many IDs the group lists.
	Total int `json:"total"`
	// Cancel, Cancelled, TooLate, NotFound and NotDelivered count the
	// group's messages by action.
	Cancel       int `json:"cancel"`
	Cancelled    int `json:"cancelled"`
	TooLate      int `json:"too_late"`
	NotFound     int `json:"not_found"`
	NotDelivered int `json:"not_delivered"`
	// Estimate is when the group's cancellations would finish, and how
	// many after its deadline (see Estimate); nil when it has nothing to
	// cancel, and in plans saved before recall estimated.
	Estimate *GroupEstimate `json:"estimate,omitempty"`
}

// Warning is something the reviewer of a plan should know before applying
// it. Warnings never stop a plan.
type Warning struct {
	// Group is the group the warning is about, if any.
	Group string `json:"group,omitempty"`
	// Message says what is wrong, in a sentence.
	Message string `json:"message"`
	// Kind is WarningLate for a group that would not finish before its
	// deadline; empty for the others.
	Kind string `json:"kind,omitempty"`
	// Late is, for WarningLate, about how many of the group's messages
	// would still be scheduled at its deadline.
	Late int `json:"late,omitempty"`
	// Detail says what to do about it; set by the caller (the CLI names
	// its flags), never by this package.
	Detail string `json:"detail,omitempty"`
}

// OrphanGroup counts orphaned messages (in state, in no manifest group) by
// the group that state recorded for them.
type OrphanGroup struct {
	// Group is the group name recorded in state when the message settled.
	Group string `json:"group"`
	// Count is how many orphaned messages carry that group.
	Count int `json:"count"`
	// Sample holds the smallest few of those IDs, for the reviewer to look up.
	Sample []msgid.ID `json:"sample"`
}

// orphanSample is how many IDs an OrphanGroup keeps.
const orphanSample = 3

// Plan is the manifest diffed against state. Its JSON form is the saved
// plan (-out) and `plan -format json`.
type Plan struct {
	// FormatVersion is PlanFormatVersion.
	FormatVersion int `json:"format_version"`
	// RecallVersion is the version of recall that made the plan.
	RecallVersion string `json:"recall_version"`
	// CreatedAt is when the plan was made.
	CreatedAt time.Time `json:"created_at"`
	// State pins the state the plan was made against.
	State StateRef `json:"state"`
	// ManifestDigest is the manifest's Digest.
	ManifestDigest string `json:"manifest_digest"`
	// ManifestPaths are the manifest paths the plan was made from, as
	// given to -f (relative to the working directory). Applying the plan
	// loads them again and refuses the plan if their digest changed.
	ManifestPaths []string `json:"manifest_paths,omitempty"`
	// Targets are the -target group names the plan was limited to; empty
	// means every group.
	Targets []string `json:"targets,omitempty"`
	// Summary counts messages by action.
	Summary Summary `json:"summary"`
	// Groups are the planned groups (all of them, or the targets), in
	// manifest order.
	Groups []GroupPlan `json:"groups"`
	// Warnings are things to check before applying, e.g. a scheduled_at
	// already in the past.
	Warnings []Warning `json:"warnings,omitempty"`
	// Orphaned breaks Summary.Orphaned down by the group recorded in state,
	// largest first.
	Orphaned []OrphanGroup `json:"orphaned,omitempty"`
	// Changes are the messages to cancel, in manifest order.
	Changes []Change `json:"changes"`
}

// HasChanges reports whether applying the plan would send anything.
func (p *Plan) HasChanges() bool { return len(p.Changes) > 0 }

// PlanOptions tunes NewPlan.
type PlanOptions struct {
	// Targets limits the plan to these group names (empty: all groups).
	Targets []string
	// Now is the plan's clock (default time.Now).
	Now func() time.Time
	// Rate is the cancellations a second the plan's estimate assumes
	// (see Estimate); 0: DefaultEstimateRate.
	Rate float64
}

// UnknownTargetError is returned by NewPlan for a -target that names no
// group of the manifest.
type UnknownTargetError struct {
	// Names are the unknown targets, in the order given.
	Names []string
	// Known are the manifest's group names, in manifest order.
	Known []string
}

func (e *UnknownTargetError) Error() string {
	quoted := make([]string, len(e.Names))
	for i, n := range e.Names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	what := "no group named " + strings.Join(quoted, ", ")
	if len(e.Names) > 1 {
		what = "no groups named " + strings.Join(quoted, ", ")
	}
	known := e.Known
	more := ""
	const maxKnown = 20
	if len(known) > maxKnown {
		more = fmt.Sprintf(" and %d more", len(known)-maxKnown)
		known = known[:maxKnown]
	}
	if len(known) == 0 {
		return fmt.Sprintf("-target: the manifest has %s (it has no groups)", what)
	}
	return fmt.Sprintf("-target: the manifest has %s; its groups are: %s%s", what, strings.Join(known, ", "), more)
}

// NewPlan diffs m against s. s may be nil (no state yet).
//
// Every manifest ID of the planned groups is classified: not settled in
// state is Cancel, settled is counted by its outcome. Orphans (messages in
// state that are in no group of the whole manifest, targets or not) are
// counted and never touched. NewPlan allocates per group, not per ID: a
// million IDs cost one lookup each in the state's map and one Change each
// for the messages to cancel.
func NewPlan(m *manifest.Manifest, s *state.State, opts PlanOptions) (*Plan, error) {
	if m == nil {
		return nil, errors.New("reconcile: nil manifest")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	targeted, err := resolveTargets(m, opts.Targets)
	if err != nil {
		return nil, err
	}

	msgs := s
	if msgs == nil {
		msgs = &state.State{}
	}
	p := &Plan{
		FormatVersion:  PlanFormatVersion,
		RecallVersion:  version.Version,
		CreatedAt:      now().UTC().Truncate(time.Second),
		ManifestDigest: m.Digest,
	}
	if s.Exists() {
		p.State = StateRef{Lineage: s.Lineage, Serial: s.Serial}
	}
	if len(opts.Targets) > 0 {
		p.Targets = dedupe(opts.Targets)
	}

	// Pass 1: classify every ID of every group. Untargeted groups are
	// looked up too: orphans are counted against the whole manifest. One
	// bit per ID remembers what was settled, so pass 2 needs no second
	// lookup; found counts how many settled manifest IDs state recorded
	// under each group name, for the orphan breakdown.
	total := 0
	for _, g := range m.Groups {
		total += len(g.IDs)
	}
	settled := make([]uint64, (total+63)/64)
	found := groupCounter{}
	settledInManifest := 0
	base := 0
	for i, g := range m.Groups {
		var gs Summary
		for j, id := range g.IDs {
			r, ok := msgs.Lookup(id)
			if !ok {
				gs.Cancel++
				continue
			}
			k := base + j
			settled[k>>6] |= 1 << (k & 63)
			found.add(r.Group)
			switch r.Outcome {
			case outcome.Cancelled:
				gs.Cancelled++
			case outcome.TooLate:
				gs.TooLate++
			case outcome.NotFound:
				gs.NotFound++
			case outcome.NotDelivered:
				gs.NotDelivered++
			default:
				return nil, fmt.Errorf("state: message %s has invalid outcome %d", id, r.Outcome)
			}
		}
		base += len(g.IDs)
		settledInManifest += len(g.IDs) - gs.Cancel
		if targeted != nil && !targeted[i] {
			continue
		}
		gp := GroupPlan{Name: g.Name, Reason: g.Reason, Total: len(g.IDs),
			Cancel: gs.Cancel, Cancelled: gs.Cancelled, TooLate: gs.TooLate, NotFound: gs.NotFound,
			NotDelivered: gs.NotDelivered}
		if !g.ScheduledAt.IsZero() {
			t := g.ScheduledAt.UTC()
			gp.ScheduledAt = &t
		}
		p.Groups = append(p.Groups, gp)
		p.Summary.Cancel += gs.Cancel
		p.Summary.Cancelled += gs.Cancelled
		p.Summary.TooLate += gs.TooLate
		p.Summary.NotFound += gs.NotFound
		p.Summary.NotDelivered += gs.NotDelivered
	}
	p.Summary.Orphaned = msgs.Len() - settledInManifest
	if p.Summary.Orphaned < 0 {
		// Only possible with an ID listed twice, which manifest.Load refuses.
		return nil, errors.New("reconcile: manifest lists an ID more than once")
	}

	// Pass 2: the changes, in manifest order.
	p.Changes = make([]Change, 0, p.Summary.Cancel)
	gi := 0
	base = 0
	for i, g := range m.Groups {
		start := base
		base += len(g.IDs)
		if targeted != nil && !targeted[i] {
			continue
		}
		gp := &p.Groups[gi]
		gi++
		if gp.Cancel == 0 {
			continue
		}
		for j, id := range g.IDs {
			if k := start + j; settled[k>>6]&(1<<(k&63)) != 0 {
				continue
			}
			p.Changes = append(p.Changes, Change{
				ID:          id,
				Action:      Cancel,
				Group:       gp.Name,
				Reason:      gp.Reason,
				ScheduledAt: gp.ScheduledAt,
			})
		}
	}

	p.Warnings = pastWarnings(p.Groups, p.CreatedAt)
	p.SetEstimate(p.CreatedAt, opts.Rate)
	if p.Summary.Orphaned > 0 {
		p.Orphaned = orphans(m, msgs, found.counts())
	}
	return p, nil
}

// resolveTargets returns which of m's groups are targeted (nil: all).
func resolveTargets(m *manifest.Manifest, targets []string) ([]bool, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	index := make(map[string]int, len(m.Groups))
	for i, g := range m.Groups {
		index[g.Name] = i
	}
	sel := make([]bool, len(m.Groups))
	var unknown []string
	for _, t := range targets {
		i, ok := index[t]
		if !ok {
			if !slices.Contains(unknown, t) {
				unknown = append(unknown, t)
			}
			continue
		}
		sel[i] = true
	}
	if len(unknown) > 0 {
		known := make([]string, len(m.Groups))
		for i, g := range m.Groups {
			known[i] = g.Name
		}
		return nil, &UnknownTargetError{Names: unknown, Known: known}
	}
	return sel, nil
}

func dedupe(ss []string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// pastWarnings warns about groups whose Deadline has passed and that still
// have messages to cancel: due before now, some may already have gone
// out; due within EarlyDelivery, Clickatell may already have delivered
// some early.
func pastWarnings(groups []GroupPlan, now time.Time) []Warning {
	var ws []Warning
	for _, g := range groups {
		if g.ScheduledAt == nil || g.Cancel == 0 || now.Before(Deadline(*g.ScheduledAt)) {
			continue
		}
		which := fmt.Sprintf("some of its %s messages to cancel", FormatCount(g.Cancel))
		if g.Cancel == 1 {
			which = "its 1 message to cancel"
		}
		var msg string
		if !now.Before(*g.ScheduledAt) {
			msg = fmt.Sprintf("group %q was scheduled for %s, %s ago; %s may already have been delivered and will end too_late.",
				g.Name, g.ScheduledAt.Format(time.RFC3339), ago(now.Sub(*g.ScheduledAt)), which)
		} else {
			msg = fmt.Sprintf("group %q is scheduled for %s, in %s: Clickatell may deliver scheduled messages up to %s early, so %s may already be out. recall cancels them anyway; expect some to end too_late.",
				g.Name, g.ScheduledAt.Format(time.RFC3339), ago(g.ScheduledAt.Sub(now)), ago(EarlyDelivery), which)
		}
		ws = append(ws, Warning{Group: g.Name, Message: msg})
	}
	return ws
}

// InEarlyWindow reports whether at is inside the early-delivery window of
// a group scheduled for scheduledAt: its Deadline has passed, its
// scheduled time has not.
func InEarlyWindow(scheduledAt, at time.Time) bool {
	return !at.Before(Deadline(scheduledAt)) && at.Before(scheduledAt)
}

// commas formats n with thousands separators: 4997 → "4,997" (FormatCount).
func commas(n int) string { return FormatCount(n) }

// ago formats a positive duration the way people say it: "3h5m", "2d4h",
// "45s".
func ago(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		h := int(d / time.Hour)
		m := int((d % time.Hour) / time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh%dm", h, m)
	default:
		days := int(d / (24 * time.Hour))
		h := int((d % (24 * time.Hour)) / time.Hour)
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	}
}

// groupCounter counts by group name. Consecutive messages mostly share a
// group, whose name is then usually the same string in memory, so the
// last name is cached and the map is touched only when the name changes.
type groupCounter struct {
	m    map[string]int
	last string
	n    int
}

func (c *groupCounter) add(g string) {
	if c.n > 0 && g == c.last {
		c.n++
		return
	}
	c.flush()
	c.last, c.n = g, 1
}

func (c *groupCounter) flush() {
	if c.n == 0 {
		return
	}
	if c.m == nil {
		c.m = map[string]int{}
	}
	c.m[c.last] += c.n
	c.n = 0
}

func (c *groupCounter) counts() map[string]int {
	c.flush()
	if c.m == nil {
		c.m = map[string]int{}
	}
	return c.m
}

// orphans breaks the state's orphaned messages down by recorded group.
// found counts, by recorded group, the state messages that the manifest
// lists; the orphans of a group are its state messages less those. It runs
// only when there are orphans, and reads the state once. Groups whose
// every message is orphaned (a group deleted from the manifest, the usual
// case) get their samples in that same read; only a group that is partly
// orphaned (IDs removed from a group still listed) needs a set of the
// manifest's IDs to tell which of its messages to show.
func orphans(m *manifest.Manifest, msgs *state.State, found map[string]int) []OrphanGroup {
	type acc struct {
		og      OrphanGroup
		inState int
		found   int
	}
	byGroup := map[string]*acc{}
	var last *acc
	for id, r := range msgs.All() {
		if last == nil || last.og.Group != r.Group {
			last = byGroup[r.Group]
			if last == nil {
				last = &acc{og: OrphanGroup{Group: r.Group}, found: found[r.Group]}
				byGroup[r.Group] = last
			}
		}
		last.inState++
		if last.found == 0 {
			last.og.Sample = keepSmallest(last.og.Sample, id)
		}
	}
	var partial map[string]*acc
	out := make([]OrphanGroup, 0, len(byGroup))
	for g, a := range byGroup {
		a.og.Count = a.inState - a.found
		if a.og.Count <= 0 {
			continue
		}
		if a.found > 0 {
			if partial == nil {
				partial = map[string]*acc{}
			}
			partial[g] = a
		}
	}
	if partial != nil {
		// IDs removed from a group still listed: sample them.
		groups := make(map[string]bool, len(partial))
		for g := range partial {
			groups[g] = true
		}
		for g, sample := range unlistedSamples(m, msgs, groups) {
			partial[g].og.Sample = sample
		}
	}
	for _, a := range byGroup {
		if a.og.Count > 0 {
			out = append(out, a.og)
		}
	}
	slices.SortFunc(out, func(a, b OrphanGroup) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Group, b.Group)
	})
	return out
}

// unlistedSamples returns, for each of groups, the orphanSample smallest
// IDs that state records under it and that no group of m lists. Most of
// such a group's IDs are usually listed, so it does without a set of the
// whole manifest: it takes each group's k smallest IDs in state, strikes
// those m lists (one scan of m against a set of k IDs a group), and
// widens k until enough remain or the group has no more; past
// maxCandidates it falls back to a set of m.
func unlistedSamples(m *manifest.Manifest, msgs *state.State, groups map[string]bool) map[string][]msgid.ID {
	const maxCandidates = 4096
	out := make(map[string][]msgid.ID, len(groups))
	for k := 8 * orphanSample; len(groups) > 0; k *= 8 {
		if k > maxCandidates {
			in := map[msgid.ID]struct{}{}
			for _, g := range m.Groups {
				for _, id := range g.IDs {
					in[id] = struct{}{}
				}
			}
			for id, r := range msgs.All() {
				if groups[r.Group] {
					if _, listed := in[id]; !listed {
						out[r.Group] = keepSmallest(out[r.Group], id)
					}
				}
			}
			return out
		}
		cands := make(map[string][]msgid.ID, len(groups))
		for id, r := range msgs.All() {
			if groups[r.Group] {
				cands[r.Group] = keepSmallestN(cands[r.Group], id, k)
			}
		}
		listed := make(map[msgid.ID]bool, k*len(groups))
		for _, c := range cands {
			for _, id := range c {
				listed[id] = false
			}
		}
		for _, g := range m.Groups {
			for _, id := range g.IDs {
				if _, ok := listed[id]; ok {
					listed[id] = true
				}
			}
		}
		for g, c := range cands {
			var sample []msgid.ID
			for _, id := range c {
				if !listed[id] && len(sample) < orphanSample {
					sample = append(sample, id)
				}
			}
			// Enough, or every ID the group has in state was a candidate.
			if len(sample) == orphanSample || len(c) < k {
				out[g] = sample
				delete(groups, g)
			}
		}
	}
	return out
}

// keepSmallestN inserts id into the sorted list, keeping at most n IDs.
func keepSmallestN(list []msgid.ID, id msgid.ID, n int) []msgid.ID {
	if len(list) == n && msgid.Compare(id, list[n-1]) >= 0 {
		return list
	}
	i, _ := slices.BinarySearchFunc(list, id, msgid.Compare)
	if len(list) < n {
		list = append(list, msgid.ID{})
	}
	copy(list[i+1:], list[i:])
	list[i] = id
	return list
}

// keepSmallest inserts id into the sorted sample, keeping at most
// orphanSample IDs.
func keepSmallest(sample []msgid.ID, id msgid.ID) []msgid.ID {
	return keepSmallestN(sample, id, orphanSample)
}

// ErrStale is wrapped by CheckStale's errors.
var ErrStale = errors.New("saved plan is stale")

// StaleError says why a saved plan no longer matches the state.
type StaleError struct {
	// Plan is the state the plan was made against; Now is the state read.
	Plan, Now StateRef
	// Reason says what changed.
	Reason string
}

func (e *StaleError) Error() string {
	return "Saved plan is stale: " + e.Reason + "; nothing was cancelled"
}

// Is makes errors.Is(err, ErrStale) true.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// CheckManifest returns a *StaleError when m, the manifest loaded again
// from ManifestPaths, is not the one the plan was made from. A reviewed
// plan applied after the manifest changed (a group removed because the
// campaign must go out after all, say) would cancel what the team no
// longer wants cancelled, and a cancellation cannot be undone.
func (p *Plan) CheckManifest(m *manifest.Manifest) error {
	if p.ManifestDigest == "" || m.Digest == p.ManifestDigest {
		return nil
	}
	return &StaleError{Plan: p.State, Now: p.State, Reason: fmt.Sprintf(
		"the manifest (%s) changed since the plan was made (digest %s, now %s)",
		strings.Join(p.ManifestPaths, ", "), shortDigest(p.ManifestDigest), shortDigest(m.Digest))}
}

// shortDigest keeps "sha256:" and the first 12 hex digits, enough to tell
// two digests apart in a message.
func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// CheckStale returns a *StaleError (text starting "Saved plan is stale")
// when s is not the state the plan was made against: another lineage, or
// another serial (someone applied or ran 'state rm' since).
func (p *Plan) CheckStale(s *state.State) error {
	var now StateRef
	if s != nil && s.Exists() {
		now = StateRef{Lineage: s.Lineage, Serial: s.Serial}
	}
	switch {
	case p.State.sameVersion(now):
		return nil
	case p.State.Lineage == "":
		return &StaleError{Plan: p.State, Now: now, Reason: fmt.Sprintf(
			"it was made before the state existed, and the state has since been written (lineage %s, serial %d)", now.Lineage, now.Serial)}
	case now.Lineage == "":
		return &StaleError{Plan: p.State, Now: now, Reason: fmt.Sprintf(
			"it was made against state lineage %s serial %d, but there is no state at this location now", p.State.Lineage, p.State.Serial)}
	case p.State.Lineage != now.Lineage:
		return &StaleError{Plan: p.State, Now: now, Reason: fmt.Sprintf(
			"state lineage changed from %s to %s (a different state)", p.State.Lineage, now.Lineage)}
	default:
		return &StaleError{Plan: p.State, Now: now, Reason: fmt.Sprintf(
			"state serial changed from %d to %d (the state was written since the plan was made)", p.State.Serial, now.Serial)}
	}
}
