// Package reconcile computes plans (the manifest diffed against state) and
// applies them. It never prints: callers render plans and apply events.
package reconcile

import (
	"errors"
	"fmt"
	"time"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
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
)

func (a Action) String() string {
	switch a {
	case Cancel:
		return "cancel"
	case AlreadyCancelled:
		return "cancelled"
	case AlreadyTooLate:
		return "too_late"
	case AlreadyNotFound:
		return "not_found"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// StateRef pins the state a plan was made against.
type StateRef struct {
	// Lineage of the state; empty for a state not yet created.
	Lineage string `json:"lineage"`
	// Serial of the state; 0 for a state not yet created.
	Serial uint64 `json:"serial"`
}

// Summary counts the plan's messages by action.
type Summary struct {
	Cancel    int `json:"cancel"`
	Cancelled int `json:"cancelled"`
	TooLate   int `json:"too_late"`
	NotFound  int `json:"not_found"`
	// Orphaned counts messages in state but in no manifest group.
	Orphaned int `json:"orphaned"`
}

// Change is one message the plan will cancel.
type Change struct {
	ID          msgid.ID   `json:"id"`
	Action      Action     `json:"-"` // always Cancel in a saved plan; see MarshalJSON
	Group       string     `json:"group"`
	Reason      string     `json:"reason,omitempty"`
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
}

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
	// Summary counts messages by action.
	Summary Summary `json:"summary"`
	// Changes are the messages to cancel, in manifest order.
	Changes []Change `json:"changes"`
}

// PlanOptions tunes NewPlan.
type PlanOptions struct {
	// Targets limits the plan to these group names (empty: all groups).
	Targets []string
	// Now is the plan's clock (default time.Now).
	Now func() time.Time
}

// NewPlan diffs m against s.
//
// Skeleton: implemented with the foundation issue.
func NewPlan(m *manifest.Manifest, s *state.State, opts PlanOptions) (*Plan, error) {
	return nil, errors.New("reconcile: not implemented")
}
