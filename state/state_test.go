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
	if a.Exists() || a.Len() != 0 {
		t.Errorf("New(): Exists %v, %d messages", a.Exists(), a.Len())
	}
}

// TestState_Clone: the copy shares nothing with the original: neither its
// messages nor the kinds they share.
func TestState_Clone(t *testing.T) {
	id := msgid.MustParse("360586640fe9846954897dffe6c13dfc")
	s := &State{Lineage: "l", Serial: 3, RecallVersion: "0.1.0"}
	s.Set(id, Record{Outcome: outcome.Cancelled, Group: "g"})
	c := s.Clone()
	c.Set(id, Record{Outcome: outcome.TooLate})
	c.Set(msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c"), Record{Outcome: outcome.NotFound, Group: "h"})
	c.Serial = 4
	if s.Get(id).Outcome != outcome.Cancelled || s.Get(id).Group != "g" || s.Len() != 1 || s.Serial != 3 {
		t.Errorf("changing the clone changed the original: %+v", s)
	}
	if c.Lineage != "l" || c.RecallVersion != "0.1.0" || c.Len() != 2 || c.Get(id).Outcome != outcome.TooLate {
		t.Errorf("clone %+v", c)
	}
	s.Set(id, Record{Outcome: outcome.NotDelivered, Group: "x"})
	if c.Get(id).Outcome != outcome.TooLate || c.Get(id).Group != "" {
		t.Errorf("changing the original changed the clone: %+v", c.Get(id))
	}
	if e := (&State{Lineage: "l"}).Clone(); e.Len() != 0 {
		t.Error("a state without messages cloned to some")
	}
}

// TestState_Messages: what Set stores, Get, Lookup and All give back, with
// At in UTC to the second; the zero State is ready to use.
func TestState_Messages(t *testing.T) {
	var s State
	a := msgid.MustParse("360586640fe9846954897dffe6c13dfc")
	b := msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c")
	if _, ok := s.Lookup(a); ok || s.Len() != 0 || s.Get(a) != (Record{}) {
		t.Fatalf("the zero State holds %d messages", s.Len())
	}
	cet := time.FixedZone("CET", 3600)
	ra := Record{Outcome: outcome.Cancelled, Status: "006", Description: "User cancelled message delivery", Group: "promo", At: time.Date(2026, 11, 27, 11, 0, 5, 999_000_000, cet)}
	rb := Record{Outcome: outcome.NotFound, Description: "Invalid or missing parameter: apiMessageId", Group: "promo", At: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}
	s.Set(a, ra)
	s.Set(b, rb)
	want := ra
	want.At = time.Date(2026, 11, 27, 10, 0, 5, 0, time.UTC)
	if got, ok := s.Lookup(a); !ok || got != want {
		t.Errorf("Lookup(a) = %+v, %v; want %+v", got, ok, want)
	}
	if got := s.Get(b); got != rb {
		t.Errorf("Get(b) = %+v, want %+v", got, rb)
	}
	var zero Record
	zero.Outcome = outcome.TooLate
	s.Set(a, zero)
	if got := s.Get(a); got != zero || !got.At.IsZero() {
		t.Errorf("a record with the zero time reads back as %+v", got)
	}
	seen := map[msgid.ID]Record{}
	for id, r := range s.All() {
		seen[id] = r
	}
	if len(seen) != 2 || seen[a] != zero || seen[b] != rb || s.Len() != 2 {
		t.Errorf("All yields %v", seen)
	}
	s.Delete(a)
	s.Delete(a)
	if _, ok := s.Lookup(a); ok || s.Len() != 1 {
		t.Errorf("after Delete: %d messages", s.Len())
	}
	s.Apply([]Change{{ID: a, Record: &ra}, {ID: b}})
	if _, ok := s.Lookup(b); ok || s.Get(a).Group != "promo" || s.Len() != 1 {
		t.Errorf("after Apply: %d messages", s.Len())
	}
}

// TestState_CopiedByValue: a State copied by value shares its messages with
// the original, as the map it replaced did: a record set through one reads
// back the same through the other (were the kinds not shared, the two would
// give one index to different kinds).
func TestState_CopiedByValue(t *testing.T) {
	a := msgid.MustParse("360586640fe9846954897dffe6c13dfc")
	b := msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c")
	y := msgid.MustParse("00000000000000000000000000000001")
	s := &State{Lineage: "l"}
	s.Set(a, Record{Outcome: outcome.Cancelled, Group: "g"})
	c := *s
	c.Set(b, Record{Outcome: outcome.NotDelivered, Group: "g"})
	s.Set(y, Record{Outcome: outcome.NotFound, Group: "g"})
	for _, st := range []*State{s, &c} {
		if st.Get(b).Outcome != outcome.NotDelivered || st.Get(y).Outcome != outcome.NotFound || st.Get(a).Outcome != outcome.Cancelled || st.Len() != 3 {
			t.Errorf("a: %v, b: %v, y: %v, %d messages; want cancelled, not_delivered, not_found, 3", st.Get(a).Outcome, st.Get(b).Outcome, st.Get(y).Outcome, st.Len())
		}
	}
}

// TestState_KindsShared: records of a few kinds hold each kind's
// strings once.
func TestState_KindsShared(t *testing.T) {
	var s State
	for i := range 1000 {
		var id msgid.ID
		id[0], id[1] = byte(i>>8), byte(i)
		g := "a"
		if i%2 == 1 {
			g = "b"
		}
		s.Set(id, Record{Outcome: outcome.Cancelled, Status: "006", Group: string([]byte(g)), At: time.Unix(int64(i), 0)})
	}
	if len(s.kinds.list) != 2 || len(s.kinds.index) != 2 {
		t.Errorf("%d kinds for 1,000 records of two groups, want 2", len(s.kinds.list))
	}
}
