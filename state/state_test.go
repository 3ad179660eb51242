package state

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
)

func TestOutcome_Text(t *testing.T) {
	for _, o := range []outcome.Outcome{outcome.Cancelled, outcome.TooLate, outcome.NotFound, outcome.NotDelivered} {
		text, err := o.MarshalText()
		if err != nil {
			t.Fatalf("%v.MarshalText: %v", o, err)
		}
		var back outcome.Outcome
		if err := back.UnmarshalText(text); err != nil || back != o {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", text, back, err, o)
		}
	}
	if _, err := outcome.Outcome(0).MarshalText(); err == nil {
		t.Error("the zero Outcome marshals")
	}
	if _, err := (outcome.NotDelivered + 1).MarshalText(); err == nil {
		t.Error("an outcome past NotDelivered marshals")
	}
	if outcome.NotDelivered.String() != "not_delivered" {
		t.Errorf("NotDelivered.String() = %q", outcome.NotDelivered.String())
	}
	if _, err := outcome.Parse("canceled"); err == nil || !strings.Contains(err.Error(), "cancelled, too_late, not_found or not_delivered") {
		t.Errorf("ParseOutcome(\"canceled\"): %v", err)
	}
}

func TestLockError_Error(t *testing.T) {
	e := &LockError{Info: LockInfo{ID: "3f1c", Operation: "apply", Who: "ci@runner-7", Version: "0.1.0", Created: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}}
	want := `state is locked by ci@runner-7 (operation "apply", since 2026-11-27T10:00:00Z, recall 0.1.0, lock ID 3f1c)`
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
	cause := errors.New("gave up after waiting 5s")
	e.Err = cause
	if !strings.HasSuffix(e.Error(), ": gave up after waiting 5s") || !errors.Is(e, cause) {
		t.Errorf("with a cause: %s", e.Error())
	}
}

func TestWho(t *testing.T) {
	who := Who()
	if i := strings.Index(who, "@"); i <= 0 || i == len(who)-1 {
		t.Errorf("Who() = %q, want user@host", who)
	}
}

func TestNew(t *testing.T) {
	a, b := New(), New()
	if a.Lineage == "" || a.Lineage == b.Lineage {
		t.Errorf("lineages %q and %q: want fresh, different ones", a.Lineage, b.Lineage)
	}
	if a.Exists() || a.Messages == nil {
		t.Errorf("New(): Exists %v, Messages %v", a.Exists(), a.Messages)
	}
}

// TestState_Clone: the copy shares no map with the original, and a state
// without messages clones to an empty map, not nil.
func TestState_Clone(t *testing.T) {
	id := msgid.MustParse("360586640fe9846954897dffe6c13dfc")
	s := &State{Lineage: "l", Serial: 3, RecallVersion: "0.1.0", Messages: map[msgid.ID]Record{id: {Outcome: outcome.Cancelled, Group: "g"}}}
	c := s.Clone()
	c.Messages[id] = Record{Outcome: outcome.TooLate}
	c.Serial = 4
	if s.Messages[id].Outcome != outcome.Cancelled || s.Serial != 3 {
		t.Errorf("changing the clone changed the original: %+v", s)
	}
	if c.Lineage != "l" || c.RecallVersion != "0.1.0" {
		t.Errorf("clone %+v", c)
	}
	if e := (&State{Lineage: "l"}).Clone(); e.Messages == nil {
		t.Error("a state without messages cloned to a nil map")
	}
}
