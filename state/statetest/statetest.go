// Package statetest is the conformance suite for state.Backend
// implementations, and helpers for tests and benchmarks that need large
// states.
//
// A backend's test calls Run with a function that prepares one fresh, empty
// state and returns a constructor of handles on it:
//
//	func TestConformance(t *testing.T) {
//		statetest.Run(t, func(t *testing.T) func() state.Backend {
//			path := filepath.Join(t.TempDir(), "recall.state.json")
//			return func() state.Backend { return local.New(path) }
//		})
//	}
//
// For a large local state file (benchmarks of plans), write
// LargeState through the backend: statetest.WriteLarge(ctx,
// local.New(path), 1_000_000); ID(i) gives the IDs for a matching
// manifest.
//
// Every handle the suite opens is closed by the suite. Two handles on the
// same state stand for two processes: the suite checks that what one writes
// the other reads, and that their locks exclude each other.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// Run runs the conformance suite. open is called once per subtest and must
// return a constructor of handles on one fresh, empty state of its own
// (a new file, a new workspace); each call of the constructor is a new
// handle, as a second process would open it.
func Run(t *testing.T, open func(t *testing.T) func() state.Backend) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"EmptyRead", testEmptyRead},
		{"FirstCommitCreatesLineage", testFirstCommit},
		{"RoundTrip", testRoundTrip},
		{"SerialIncrements", testSerialIncrements},
		{"EmptyCommitKeepsSerial", testEmptyCommit},
		{"CommitUpdatesReadState", testCommitUpdatesReadState},
		{"Removals", testRemovals},
		{"LaterChangeWins", testLaterChangeWins},
		{"ReadIsFresh", testReadIsFresh},
		{"StaleCommitRefused", testStaleCommit},
		{"Replace", testReplace},
		{"ReplaceThenCommit", testReplaceThenCommit},
		{"ReplaceEmpty", testReplaceEmpty},
		{"LockExclusive", testLockExclusive},
		{"LockInfo", testLockInfo},
		{"LockDoesNotBlockRead", testLockDoesNotBlockRead},
		{"LockTriesOnce", testLockTriesOnce},
		{"LockTimeoutExpires", testLockTimeoutExpires},
		{"LockWaitsThenSucceeds", testLockWaits},
		{"LockContextCancelled", testLockCancel},
		{"LockReleasedByUnlock", testLockRelease},
		{"ForceUnlockWrongID", testForceUnlockWrongID},
		{"ForceUnlockNoLock", testForceUnlockNoLock},
		{"LargeCommit", testLargeCommit},
		{"String", testString},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &harness{t: t, newHandle: open(t)}
			tc.fn(t, h)
		})
	}
}

// harness opens handles and closes them when the subtest ends.
type harness struct {
	t         *testing.T
	newHandle func() state.Backend
}

func (h *harness) handle() state.Backend {
	h.t.Helper()
	b := h.newHandle()
	if b == nil {
		h.t.Fatal("open returned a nil backend")
	}
	h.t.Cleanup(func() {
		if err := b.Close(); err != nil {
			h.t.Errorf("Close: %v", err)
		}
	})
	return b
}

func (h *harness) read(b state.Backend) *state.State {
	h.t.Helper()
	s, err := b.Read(context.Background())
	if err != nil {
		h.t.Fatalf("Read %s: %v", b, err)
	}
	if s == nil {
		h.t.Fatalf("Read %s returned a nil state", b)
	}
	return s
}

func (h *harness) commit(b state.Backend, changes ...state.Change) {
	h.t.Helper()
	if err := b.Commit(context.Background(), changes); err != nil {
		h.t.Fatalf("Commit %s (%d changes): %v", b, len(changes), err)
	}
}

// commitWant commits changes through b and applies them to want, the
// state the test expects to read back.
func (h *harness) commitWant(b state.Backend, want *state.State, changes ...state.Change) {
	h.t.Helper()
	h.commit(b, changes...)
	want.Apply(changes)
}

// expect fails the test, saying what, if a new handle does not read want.
func (h *harness) expect(want *state.State, what string) {
	h.t.Helper()
	if d := Diff(want, h.read(h.handle())); d != "" {
		h.t.Errorf("%s (-want +got):\n%s", what, d)
	}
}

func (h *harness) lock(b state.Backend, op string) state.Lock {
	h.t.Helper()
	l, err := b.Lock(context.Background(), state.LockRequest{Operation: op})
	if err != nil {
		h.t.Fatalf("Lock %s: %v", b, err)
	}
	if l == nil {
		h.t.Fatal("Lock returned a nil Lock and no error")
	}
	return l
}

func (h *harness) unlock(l state.Lock) {
	h.t.Helper()
	if err := l.Unlock(); err != nil {
		h.t.Fatalf("Unlock: %v", err)
	}
}

// ID returns a deterministic, well-spread message ID for index i: the same
// i gives the same ID in every run, and different i give different IDs.
// Tests and benchmarks use it to build manifests that match LargeState.
func ID(i int) msgid.ID {
	// SplitMix64 spreads consecutive indexes over the whole ID space, so
	// that ID order is not index order (as with real apiMessageIds).
	var id msgid.ID
	x := uint64(i)
	for half := 0; half < 2; half++ {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		for j := 0; j < 8; j++ {
			id[half*8+j] = byte(z >> (56 - 8*j))
		}
	}
	return id
}

// Record returns a deterministic record for index i, cycling through the
// outcomes, statuses, descriptions and groups a real apply produces.
func Record(i int) state.Record {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC).Add(time.Duration(i%86400) * time.Second)
	group := groups[i%len(groups)]
	switch i % 10 {
	case 8:
		return state.Record{Outcome: outcome.TooLate, Status: "004", Description: "Received by recipient", Group: group, At: at}
	case 9:
		return state.Record{Outcome: outcome.NotFound, Description: "Invalid or missing parameter: apiMessageId", Group: group, At: at}
	}
	return state.Record{Outcome: outcome.Cancelled, Status: "006", Description: "User cancelled message delivery", Group: group, At: at}
}

var groups = []string{"black-friday-wrong-price", "cyber-monday-duplicate-blast", "test-send-to-production-list"}

// LargeState returns a state of n messages, ID(i) → Record(i) for i in
// [0, n), with a fixed lineage and serial 1: the same n gives the same state.
func LargeState(n int) *state.State {
	s := &state.State{
		Lineage:       "5b0e7a43-0d7a-4d4e-9a5c-3f7e2b1c9d00",
		Serial:        1,
		RecallVersion: version.Version,
	}
	s.Reserve(n)
	for i := 0; i < n; i++ {
		s.Set(ID(i), Record(i))
	}
	return s
}

// With sets msgs in s and returns s: a state literal with its messages.
func With(s *state.State, msgs map[msgid.ID]state.Record) *state.State {
	for id, r := range msgs {
		s.Set(id, r)
	}
	return s
}

// Changes returns n changes settling ID(first+i) with Record(first+i).
func Changes(first, n int) []state.Change {
	cs := make([]state.Change, n)
	for i := range cs {
		r := Record(first + i)
		cs[i] = state.Change{ID: ID(first + i), Record: &r}
	}
	return cs
}

// WriteLarge writes LargeState(n) into b with Replace: with a state/local
// backend, the file a plan over n messages reads.
func WriteLarge(ctx context.Context, b state.Backend, n int) error {
	return b.Replace(ctx, LargeState(n))
}

// MustRead reads b's state, failing the test if it cannot.
func MustRead(t testing.TB, b state.Backend) *state.State {
	t.Helper()
	s, err := b.Read(context.Background())
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return s
}

// Diff compares two states field by field (lineage, serial, messages;
// RecallVersion is not compared) and returns "" when they are equal. Times
// compare with time.Time.Equal.
func Diff(want, got *state.State) string {
	type view struct {
		Lineage  string
		Serial   uint64
		Messages map[msgid.ID]state.Record
	}
	w := view{want.Lineage, want.Serial, maps.Collect(want.All())}
	g := view{got.Lineage, got.Serial, maps.Collect(got.All())}
	if len(w.Messages) == 0 {
		w.Messages = nil
	}
	if len(g.Messages) == 0 {
		g.Messages = nil
	}
	return cmp.Diff(w, g)
}

func rec(o outcome.Outcome, status, desc, group string, at time.Time) *state.Record {
	return &state.Record{Outcome: o, Status: status, Description: desc, Group: group, At: at}
}

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func testEmptyRead(t *testing.T, h *harness) {
	b := h.handle()
	s := h.read(b)
	if s.Lineage == "" {
		t.Error("Read of a new state: empty lineage, want a fresh one")
	}
	if s.Serial != 0 || s.Exists() {
		t.Errorf("Read of a new state: serial %d, Exists %v; want 0, false", s.Serial, s.Exists())
	}
	if s.Len() != 0 {
		t.Errorf("Read of a new state: %d messages, want 0", s.Len())
	}
	// Reading does not create the state.
	s2 := h.read(h.handle())
	if s2.Exists() {
		t.Errorf("after a Read only, a second handle sees serial %d, want 0", s2.Serial)
	}
}

func testFirstCommit(t *testing.T, h *harness) {
	b := h.handle()
	s := h.read(b)
	lineage := s.Lineage
	id := ID(1)
	h.commit(b, state.Change{ID: id, Record: rec(outcome.Cancelled, "006", "User cancelled message delivery", "g", t0)})

	got := h.read(h.handle())
	if got.Lineage != lineage {
		t.Errorf("lineage after first commit = %q, want the one Read returned, %q", got.Lineage, lineage)
	}
	if got.Serial != 1 {
		t.Errorf("serial after first commit = %d, want 1", got.Serial)
	}
	if got.RecallVersion != version.Version {
		t.Errorf("recall version = %q, want %q", got.RecallVersion, version.Version)
	}
	if got.Len() != 1 {
		t.Fatalf("got %d messages, want 1", got.Len())
	}
	// A third handle agrees: the lineage is fixed at creation.
	if again := h.read(h.handle()); again.Lineage != lineage {
		t.Errorf("lineage on a later read = %q, want %q", again.Lineage, lineage)
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	b := h.handle()
	want := h.read(b).Clone()
	changes := []state.Change{
		{ID: msgid.MustParse("360586640fe9846954897dffe6c13dfc"), Record: rec(outcome.Cancelled, "006", "User cancelled message delivery", "black-friday-wrong-price", t0)},
		{ID: msgid.MustParse("b09e1b1bdb5a070c978f03b6836b955c"), Record: rec(outcome.TooLate, "004", "Received by recipient", "black-friday-wrong-price", t0.Add(time.Second))},
		{ID: msgid.MustParse("00000000000000000000000000000000"), Record: rec(outcome.NotFound, "", "", "g", t0.Add(time.Hour))},
		{ID: msgid.MustParse("ffffffffffffffffffffffffffffffff"), Record: rec(outcome.NotFound, "001", "Message unknown", "", t0.Add(48*time.Hour))},
		{ID: ID(1), Record: rec(outcome.TooLate, "003", `quote " backslash \ slash / tab	newline
cr`+"\r nul \x00 bell \x07 del \x7f", "g.1_2-3", t0)},
		{ID: ID(2), Record: rec(outcome.Cancelled, "006", "unicode: Zürich, 東京, emoji 🚀, line sep \u2028 para sep \u2029, bom \ufeff", "ünïcode", t0)},
		{ID: ID(3), Record: rec(outcome.TooLate, "004", "<html> & 'single' </script>", "g", time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC))},
		{ID: ID(4), Record: rec(outcome.Cancelled, "006", "  leading and trailing spaces  ", "g", time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC))},
		{ID: ID(5), Record: rec(outcome.NotDelivered, "010", "Message expired", "g", t0)},
		{ID: ID(6), Record: rec(outcome.NotDelivered, "013", "Clickatell cancelled message delivery", "black-friday-wrong-price", t0.Add(time.Minute))},
	}
	h.commitWant(b, want, changes...)
	want.Serial = 1

	h.expect(want, "state read back differs from what was committed")
	// The committing handle's own State agrees too.
	if d := Diff(want, h.read(b)); d != "" {
		t.Errorf("state re-read by the writer differs (-want +got):\n%s", d)
	}
}

func testSerialIncrements(t *testing.T, h *harness) {
	b := h.handle()
	h.read(b)
	for i := 1; i <= 5; i++ {
		h.commit(b, Changes(i*10, i)...)
		got := h.read(h.handle())
		if got.Serial != uint64(i) {
			t.Fatalf("after commit %d: serial %d, want %d", i, got.Serial, i)
		}
	}
	// A second handle continues the sequence from what it read.
	b2 := h.handle()
	h.read(b2)
	h.commit(b2, Changes(100, 1)...)
	if got := h.read(h.handle()); got.Serial != 6 || got.Len() != 1+2+3+4+5+1 {
		t.Errorf("after a commit by a second handle: serial %d, %d messages; want 6, 16", got.Serial, got.Len())
	}
}

func testEmptyCommit(t *testing.T, h *harness) {
	b := h.handle()
	h.read(b)
	// On a state that does not exist yet, an empty commit does not create it.
	h.commit(b)
	h.commit(b, []state.Change{}...)
	if got := h.read(h.handle()); got.Exists() {
		t.Fatalf("an empty commit created the state (serial %d)", got.Serial)
	}
	h.commit(b, Changes(0, 3)...)
	h.commit(b)
	if err := b.Commit(context.Background(), []state.Change{}); err != nil {
		t.Fatalf("Commit with an empty slice: %v", err)
	}
	got := h.read(h.handle())
	if got.Serial != 1 {
		t.Errorf("serial after empty commits = %d, want 1", got.Serial)
	}
	if got.Len() != 3 {
		t.Errorf("%d messages after empty commits, want 3", got.Len())
	}
}

func testCommitUpdatesReadState(t *testing.T, h *harness) {
	b := h.handle()
	s := h.read(b)
	h.commit(b, Changes(0, 2)...)
	if s.Serial != 1 || s.Len() != 2 {
		t.Errorf("the State Read returned: serial %d, %d messages after a commit; want 1, 2 (Commit updates it in place)", s.Serial, s.Len())
	}
	if r, ok := s.Lookup(ID(1)); !ok || r.Group != Record(1).Group {
		t.Errorf("the State Read returned lacks the committed record: %+v", r)
	}
}

func testRemovals(t *testing.T, h *harness) {
	b := h.handle()
	want := h.read(b).Clone()
	h.commitWant(b, want, Changes(0, 10)...)
	h.commitWant(b, want, []state.Change{{ID: ID(3)}, {ID: ID(7)}, {ID: ID(0)}}...)
	want.Serial = 2

	h.expect(want, "after removals")
	// Removing everything leaves an existing, empty state.
	var all []state.Change
	for i := 0; i < 10; i++ {
		all = append(all, state.Change{ID: ID(i)})
	}
	h.commit(b, all...)
	got := h.read(h.handle())
	if got.Serial != 3 || got.Len() != 0 || got.Lineage != want.Lineage {
		t.Errorf("after removing every message: serial %d, %d messages, lineage %q; want 3, 0, %q", got.Serial, got.Len(), got.Lineage, want.Lineage)
	}
}

func testLaterChangeWins(t *testing.T, h *harness) {
	b := h.handle()
	h.read(b)
	id := ID(42)
	first := rec(outcome.TooLate, "004", "first", "a", t0)
	second := rec(outcome.Cancelled, "006", "second", "b", t0.Add(time.Minute))
	h.commit(b, state.Change{ID: id, Record: first}, state.Change{ID: ID(1), Record: first}, state.Change{ID: id, Record: second})
	got := h.read(h.handle())
	if d := cmp.Diff(*second, got.Get(id)); d != "" {
		t.Errorf("same ID twice in one commit: the later change must win (-want +got):\n%s", d)
	}
	// Set then removed in one commit: gone. Removed then set: present.
	h.commit(b, state.Change{ID: id, Record: first}, state.Change{ID: id}, state.Change{ID: ID(1)}, state.Change{ID: ID(1), Record: second})
	got = h.read(h.handle())
	if _, ok := got.Lookup(id); ok {
		t.Error("an ID set then removed in one commit is still present")
	}
	if d := cmp.Diff(*second, got.Get(ID(1))); d != "" {
		t.Errorf("an ID removed then set in one commit (-want +got):\n%s", d)
	}
}

func testReadIsFresh(t *testing.T, h *harness) {
	reader := h.handle()
	if s := h.read(reader); s.Exists() {
		t.Fatal("new state exists")
	}
	writer := h.handle()
	h.read(writer)
	h.commit(writer, Changes(0, 5)...)
	// A handle that read before the write sees it on its next Read.
	got := h.read(reader)
	if got.Serial != 1 || got.Len() != 5 {
		t.Errorf("second Read on the same handle: serial %d, %d messages; want 1, 5", got.Serial, got.Len())
	}
}

// testStaleCommit: a handle whose Read is older than another handle's
// write must not overwrite it (the lock keeps writers apart; this catches
// one that did not take it).
func testStaleCommit(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	h.read(a)
	h.commit(a, Changes(0, 2)...)
	h.read(a)
	h.read(b)
	h.commit(b, Changes(2, 3)...)
	if err := a.Commit(context.Background(), Changes(10, 1)); err == nil {
		t.Error("a Commit based on serial 1 succeeded over another handle's serial 2")
	}
	got := h.read(h.handle())
	if got.Serial != 2 || got.Len() != 5 {
		t.Errorf("after the stale commit: serial %d, %d messages; want the other handle's 2, 5", got.Serial, got.Len())
	}
	// Reading again makes it current.
	h.read(a)
	h.commit(a, Changes(10, 1)...)
	if got := h.read(h.handle()); got.Serial != 3 || got.Len() != 6 {
		t.Errorf("after re-reading and committing: serial %d, %d messages; want 3, 6", got.Serial, got.Len())
	}
}

func testReplace(t *testing.T, h *harness) {
	b := h.handle()
	h.read(b)
	h.commit(b, Changes(0, 20)...)

	src := LargeState(50)
	src.Lineage = "f3c1a5e2-6a0b-4c89-8d1e-000000000007"
	src.Serial = 41
	src.Delete(ID(7))
	want := src.Clone()

	b2 := h.handle()
	if err := b2.Replace(context.Background(), src); err != nil {
		t.Fatalf("Replace: %v", err)
	}
	h.expect(want, "after Replace")
	// Replace keeps a copy: changing the source afterwards changes nothing.
	src.Set(ID(1000), Record(1000))
	src.Serial = 99
	h.expect(want, "after changing Replace's argument")
}

func testReplaceThenCommit(t *testing.T, h *harness) {
	b := h.handle()
	src := LargeState(5)
	src.Serial = 9
	if err := b.Replace(context.Background(), src); err != nil {
		t.Fatalf("Replace on a new state: %v", err)
	}
	s := h.read(b)
	h.commit(b, Changes(5, 1)...)
	got := h.read(h.handle())
	if got.Serial != 10 || got.Lineage != src.Lineage || got.Len() != 6 {
		t.Errorf("commit after Replace: serial %d, lineage %q, %d messages; want 10, %q, 6", got.Serial, got.Lineage, got.Len(), src.Lineage)
	}
	if s.Serial != 10 {
		t.Errorf("the State Read returned has serial %d after the commit, want 10", s.Serial)
	}
}

func testReplaceEmpty(t *testing.T, h *harness) {
	b := h.handle()
	h.read(b)
	h.commit(b, Changes(0, 3)...)
	empty := &state.State{Lineage: "0b6d3a1e-0000-4000-8000-000000000001", Serial: 3}
	if err := b.Replace(context.Background(), empty); err != nil {
		t.Fatalf("Replace with an empty state: %v", err)
	}
	got := h.read(h.handle())
	if d := Diff(empty, got); d != "" {
		t.Errorf("after Replace with an empty state (-want +got):\n%s", d)
	}
}

func lockError(t *testing.T, err error) *state.LockError {
	t.Helper()
	if err == nil {
		t.Fatal("second Lock succeeded while the first is held")
	}
	var le *state.LockError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: %v (%T), want a *state.LockError", err, err)
	}
	return le
}

func testLockExclusive(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	l := h.lock(a, "apply")
	defer h.unlock(l)

	_, err := b.Lock(context.Background(), state.LockRequest{Operation: "state rm"})
	le := lockError(t, err)
	if le.Info.ID != l.Info().ID {
		t.Errorf("LockError names lock ID %q, want the holder's %q", le.Info.ID, l.Info().ID)
	}
	if le.Info.Operation != "apply" {
		t.Errorf("LockError names operation %q, want the holder's, \"apply\"", le.Info.Operation)
	}
	if le.Info.Who != l.Info().Who || le.Info.Who == "" {
		t.Errorf("LockError names %q, want the holder %q", le.Info.Who, l.Info().Who)
	}
	if msg := err.Error(); !strings.Contains(msg, l.Info().ID) || !strings.Contains(msg, "apply") {
		t.Errorf("error %q does not name the holder's lock ID and operation", msg)
	}
	// The same handle cannot take it twice either.
	if _, err := a.Lock(context.Background(), state.LockRequest{Operation: "apply"}); err == nil {
		t.Error("a second Lock on the holding handle succeeded")
	}
}

func testLockInfo(t *testing.T, h *harness) {
	b := h.handle()
	before := time.Now().Add(-time.Minute)
	l := h.lock(b, "apply")
	info := l.Info()
	if info.ID == "" || info.Who == "" || info.Path == "" {
		t.Errorf("LockInfo lacks ID, Who or Path: %+v", info)
	}
	if info.Operation != "apply" {
		t.Errorf("LockInfo.Operation = %q, want \"apply\"", info.Operation)
	}
	if info.Version != version.Version {
		t.Errorf("LockInfo.Version = %q, want %q", info.Version, version.Version)
	}
	if info.Created.Before(before) || info.Created.After(time.Now().Add(time.Minute)) {
		t.Errorf("LockInfo.Created = %v, want about now", info.Created)
	}
	h.unlock(l)
	// Lock IDs are unique.
	l2 := h.lock(b, "apply")
	if l2.Info().ID == info.ID {
		t.Errorf("two locks got the same ID %q", info.ID)
	}
	h.unlock(l2)
}

func testLockDoesNotBlockRead(t *testing.T, h *harness) {
	a := h.handle()
	h.read(a)
	h.commit(a, Changes(0, 3)...)
	l := h.lock(a, "apply")
	defer h.unlock(l)
	// Plan reads without locking.
	if got := h.read(h.handle()); got.Serial != 1 || got.Len() != 3 {
		t.Errorf("Read while locked: serial %d, %d messages; want 1, 3", got.Serial, got.Len())
	}
	// The holder commits while holding it.
	h.commit(a, Changes(3, 1)...)
	if got := h.read(h.handle()); got.Serial != 2 {
		t.Errorf("serial after a commit under lock = %d, want 2", got.Serial)
	}
}

// testLockTriesOnce: a backend's Lock does not wait, whatever the
// request's Timeout; it names the holder.
func testLockTriesOnce(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	l := h.lock(a, "apply")
	defer h.unlock(l)
	start := time.Now()
	_, err := b.Lock(context.Background(), state.LockRequest{Operation: "state rm", Timeout: time.Hour})
	le := lockError(t, err)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Lock of a held lock took %s; it should try once and return", d)
	}
	if le.Info.ID != l.Info().ID || le.Info.Operation != "apply" || le.Info.Who == "" {
		t.Errorf("LockError names %+v, want the holder %+v", le.Info, l.Info())
	}
	if le.Err != nil {
		t.Errorf("LockError.Err = %v after one try, want none (no wait ended)", le.Err)
	}
}

func testLockTimeoutExpires(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	l := h.lock(a, "apply")
	defer h.unlock(l)
	const timeout = 300 * time.Millisecond
	start := time.Now()
	_, err := state.LockWithContext(context.Background(), b, state.LockRequest{Operation: "apply", Timeout: timeout})
	waited := time.Since(start)
	le := lockError(t, err)
	if le.Info.ID != l.Info().ID {
		t.Errorf("after waiting, LockError names lock %q, want %q", le.Info.ID, l.Info().ID)
	}
	if waited < timeout {
		t.Errorf("LockWithContext gave up after %s, before its timeout of %s", waited, timeout)
	}
	if le.Err == nil || !strings.Contains(le.Err.Error(), "gave up after waiting 300ms") {
		t.Errorf("LockError.Err = %v, want it to say it gave up after waiting 300ms", le.Err)
	}
}

func testLockWaits(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	l := h.lock(a, "apply")
	type result struct {
		l   state.Lock
		err error
	}
	done := make(chan result, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		l2, err := state.LockWithContext(context.Background(), b, state.LockRequest{Operation: "state rm", Timeout: time.Minute})
		done <- result{l2, err}
	}()
	<-started
	// Let the waiter find the lock held at least once.
	time.Sleep(200 * time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("Lock returned while the lock was held: %v", r.err)
	default:
	}
	h.unlock(l)
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("waiting Lock after Unlock: %v", r.err)
		}
		if r.l.Info().Operation != "state rm" {
			t.Errorf("waiter's LockInfo.Operation = %q", r.l.Info().Operation)
		}
		h.unlock(r.l)
	case <-time.After(30 * time.Second):
		t.Fatal("waiting Lock did not return within 30s of Unlock")
	}
}

func testLockCancel(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	l := h.lock(a, "apply")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		l2, err := state.LockWithContext(ctx, b, state.LockRequest{Operation: "apply", Timeout: time.Hour})
		if err == nil {
			l2.Unlock()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock after its context was cancelled: %v, want an error wrapping context.Canceled", err)
		}
		// Cancelled between tries, the error names the holder (during
		// a try, the backend's own error may come first).
		if le := (*state.LockError)(nil); errors.As(err, &le) && le.Info.ID != l.Info().ID {
			t.Errorf("cancelled wait's LockError names lock %q, want the holder %q", le.Info.ID, l.Info().ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Lock ignored its cancelled context for 30s")
	}
	h.unlock(l)
	// An already cancelled context fails without taking the lock, even
	// when the lock is free.
	if l3, err := b.Lock(ctx, state.LockRequest{Operation: "apply"}); err == nil {
		l3.Unlock()
		t.Error("Lock with a cancelled context succeeded")
	}
	h.unlock(h.lock(a, "apply"))
}

func testLockRelease(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	for i := 0; i < 3; i++ {
		l := h.lock(a, "apply")
		h.unlock(l)
		l = h.lock(b, "state rm")
		h.unlock(l)
	}
	// A handle that is closed after Unlock leaves nothing behind.
	c := h.handle()
	l := h.lock(c, "apply")
	h.unlock(l)
	l = h.lock(a, "apply")
	h.unlock(l)
}

func testForceUnlockWrongID(t *testing.T, h *harness) {
	a, b := h.handle(), h.handle()
	l := h.lock(a, "apply")
	defer h.unlock(l)
	if err := b.ForceUnlock(context.Background(), "not-"+l.Info().ID); err == nil {
		t.Error("ForceUnlock with a wrong ID succeeded")
	}
	// The lock is still held.
	_, err := b.Lock(context.Background(), state.LockRequest{Operation: "apply"})
	lockError(t, err)
}

func testForceUnlockNoLock(t *testing.T, h *harness) {
	b := h.handle()
	if err := b.ForceUnlock(context.Background(), "3f1c6f1e-1d3e-4e8b-9a71-000000000000"); err == nil {
		t.Error("ForceUnlock with no lock held succeeded")
	}
	// And the state can be locked afterwards.
	h.unlock(h.lock(b, "apply"))
}

func testLargeCommit(t *testing.T, h *harness) {
	const n = 10000
	b := h.handle()
	want := h.read(b).Clone()
	add := Changes(0, n)
	h.commitWant(b, want, add...)
	// Remove every third, change every fifth, add a few.
	var cs []state.Change
	for i := 0; i < n; i += 3 {
		cs = append(cs, state.Change{ID: ID(i)})
	}
	for i := 1; i < n; i += 5 {
		r := Record(i + 1)
		r.Description = fmt.Sprintf("changed %d", i)
		cs = append(cs, state.Change{ID: ID(i), Record: &r})
	}
	cs = append(cs, Changes(n, 7)...)
	h.commitWant(b, want, cs...)
	want.Serial = 2

	h.expect(want, fmt.Sprintf("after a %d-message commit", n))
}

func testString(t *testing.T, h *harness) {
	b := h.handle()
	if b.String() == "" {
		t.Error("String() is empty; it must name the state for messages")
	}
}

// Size names a message count for a benchmark: 10k, 1M, 1500.
func Size(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
