// Package outcome is the one Outcome type of the module: how an answer
// about one message settled it, as clickatell classifies the answer and
// state records it.
package outcome

import (
	"fmt"

	"github.com/recallhq/recall/internal/enum"
)

// Outcome is how a message was settled, or (Scheduled only) that it is
// not settled yet.
type Outcome uint8

// The settled outcomes, the only ones state records.
const (
	// Cancelled: Clickatell confirmed status 006, the message will not go out.
	Cancelled Outcome = iota + 1
	// TooLate: status 002, 003, 004 or 008; it is going or has gone out and
	// can no longer be stopped.
	TooLate
	// NotFound: status 001 "Message unknown", or Clickatell's own 404 error
	// about the message (codes 161, 103, 104).
	NotFound
	// NotDelivered: status 005, 007, 009, 010, 012, 013 or 014; Clickatell
	// will not deliver it (error, expired, out of credit, cancelled by
	// Clickatell, ...), so there is nothing to stop.
	NotDelivered
)

// Scheduled is clickatell.MessageStatus's outcome for status 011 "Message
// scheduled for later delivery": the message is still to go out. It
// settles nothing, and it is not a failure either: the message is still to
// cancel. StopMessage never returns it, and state never records it: it is
// not Valid, Parse refuses it and MarshalText refuses it. Its value is kept
// apart from the settled outcomes, so that a range check for a settled
// outcome never includes it.
const Scheduled Outcome = 64

// names are the outcomes as written in state files, plans and events.
var names = [...]string{
	Cancelled:    "cancelled",
	TooLate:      "too_late",
	NotFound:     "not_found",
	NotDelivered: "not_delivered",
	Scheduled:    "scheduled",
}

// String returns the outcome as written in state files and plans.
func (o Outcome) String() string { return enum.Name(names[:], o, "Outcome") }

// Parse is the inverse of String for the settled outcomes; it refuses
// "scheduled", which is never recorded.
func Parse(s string) (Outcome, error) {
	for o := Cancelled; o <= NotDelivered; o++ {
		if names[o] == s {
			return o, nil
		}
	}
	return 0, fmt.Errorf("unknown outcome %q (want cancelled, too_late, not_found or not_delivered)", s)
}

// Valid reports whether o is one of the settled outcomes.
func (o Outcome) Valid() bool { return o >= Cancelled && o <= NotDelivered }

// MarshalText implements encoding.TextMarshaler, for the settled outcomes.
func (o Outcome) MarshalText() ([]byte, error) {
	if !o.Valid() {
		return nil, fmt.Errorf("invalid outcome %d", uint8(o))
	}
	return []byte(o.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler, with Parse.
func (o *Outcome) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}
