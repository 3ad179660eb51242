package reconcile

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
)

// The plan speed benchmarks (issue 2's acceptance): recall's whole plan
// pipeline (manifest.Load with ids_from, the local state read, NewPlan)
// against a naive standard-library program reading the same two files
// (encoding/json into a map, bufio over the IDs) and counting the
// difference. Both read 1,000,000 manifest IDs and a state of 1,000,000
// settled messages: 900,000 of them in the manifest, 100,000 orphans, so
// the plan cancels 100,000. Fixtures are generated once per run in a
// temporary directory, never committed.
//
//	go test ./reconcile -run '^$' -bench 'Plan1M' -benchmem -count 5
//
// Peak RSS of the real binaries: bench/planspeed.sh.

const benchN = 1_000_000

// fixture holds the 1M-message files, written once for all the benchmarks.
var fixture = testkit.SharedDir{Prefix: "recall-plan-bench-", Fill: func(dir string) error { return writeBenchFixture(dir, benchN) }}

// benchID is the i-th fixture ID.
func benchID(i int) msgid.ID {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	sum := sha256.Sum256(b[:])
	var id msgid.ID
	copy(id[:], sum[:16])
	return id
}

// WriteBenchFixture writes the 1M-message fixture to dir: recall.yaml
// (one group, ids_from ids.txt), ids.txt and recall.state.json.
func writeBenchFixture(dir string, n int) error {
	f, err := os.Create(filepath.Join(dir, "ids.txt"))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		fmt.Fprintln(w, benchID(i))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "recall.yaml"), []byte("version: 1\ncancel:\n  - name: big-export\n    reason: Wrong sender ID\n    ids_from: ids.txt\n"), 0o644); err != nil {
		return err
	}
	s := state.New()
	s.Serial = 1
	s.RecallVersion = "0.1.0"
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for i := n / 10; i < n+n/10; i++ {
		s.Set(benchID(i), state.Record{Outcome: outcome.Cancelled, Status: "006", Description: "User cancelled message delivery", Group: "big-export", At: at})
	}
	return local.WriteFile(filepath.Join(dir, "recall.state.json"), s)
}

func benchFixture(b *testing.B) string { return fixture.Get(b) }

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Remove()
	os.Exit(code)
}

// recallPlan is what 'recall plan' does before rendering.
func recallPlan(dir string) (*Plan, error) {
	m, err := manifest.Load(filepath.Join(dir, "recall.yaml"))
	if err != nil {
		return nil, err
	}
	s, err := local.New(filepath.Join(dir, "recall.state.json")).Read(context.Background())
	if err != nil {
		return nil, err
	}
	return NewPlan(m, s, PlanOptions{})
}

// naivePlan is the floor: what anyone would write with the standard
// library alone (the same logic as bench/naive).
func naivePlan(dir string) (int, error) {
	var st struct {
		Messages map[string]struct {
			Outcome     string `json:"outcome"`
			Status      string `json:"status"`
			Description string `json:"description"`
			Group       string `json:"group"`
			At          string `json:"at"`
		} `json:"messages"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "recall.state.json"))
	if err != nil {
		return 0, err
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return 0, err
	}
	f, err := os.Open(filepath.Join(dir, "ids.txt"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	toCancel := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.ToLower(strings.TrimSpace(sc.Text()))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, ok := st.Messages[line]; !ok {
			toCancel++
		}
	}
	return toCancel, sc.Err()
}

// BenchmarkPlan1M is recall's plan and the naive floor on the same files:
// both must find benchN/10 messages to cancel.
func BenchmarkPlan1M(b *testing.B) {
	dir := benchFixture(b)
	for _, bm := range []struct {
		name string
		plan func(dir string) (int, error)
	}{
		{"recall", func(dir string) (int, error) {
			p, err := recallPlan(dir)
			if err == nil && p.Summary.Orphaned != benchN/10 {
				err = fmt.Errorf("summary %+v", p.Summary)
			}
			if err != nil {
				return 0, err
			}
			return p.Summary.Cancel, nil
		}},
		{"naive", naivePlan},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for b.Loop() {
				n, err := bm.plan(dir)
				if err != nil {
					b.Fatal(err)
				}
				if n != benchN/10 {
					b.Fatalf("%s counted %d to cancel, want %d", bm.name, n, benchN/10)
				}
			}
		})
	}
}

// BenchmarkNewPlan1M is NewPlan alone over in-memory inputs: the part of
// the pipeline this package owns.
func BenchmarkNewPlan1M(b *testing.B) {
	m := &manifest.Manifest{Groups: []*manifest.Group{{Name: "big-export", IDs: make([]msgid.ID, benchN)}}}
	for i := range m.Groups[0].IDs {
		m.Groups[0].IDs[i] = benchID(i)
	}
	s := &state.State{Lineage: "l", Serial: 1}
	for i := benchN / 10; i < benchN+benchN/10; i++ {
		s.Set(benchID(i), state.Record{Outcome: outcome.Cancelled, Group: "big-export"})
	}
	for _, orphans := range []bool{false, true} {
		b.Run(fmt.Sprintf("orphans=%v", orphans), func(b *testing.B) {
			st := s
			if !orphans {
				// Same size, every state message in the manifest.
				st = &state.State{Lineage: "l", Serial: 1}
				for i := 0; i < benchN; i++ {
					if i%10 != 0 {
						st.Set(benchID(i), state.Record{Outcome: outcome.Cancelled})
					}
				}
			}
			for b.Loop() {
				p, err := NewPlan(m, st, PlanOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if p.Summary.Cancel != benchN/10 {
					b.Fatalf("summary %+v", p.Summary)
				}
			}
		})
	}
}

// BenchmarkWritePlan100k writes a plan of 100,000 changes as JSON.
func BenchmarkWritePlan100k(b *testing.B) {
	p := &Plan{FormatVersion: 1, Summary: Summary{Cancel: 100000}, Groups: []GroupPlan{{Name: "g", Reason: "r", Cancel: 100000, Total: 100000}}}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 100000; i++ {
		p.Changes = append(p.Changes, Change{ID: benchID(i), Action: Cancel, Group: "g", Reason: "r", ScheduledAt: &at})
	}
	b.Run("WritePlan", func(b *testing.B) {
		for b.Loop() {
			if err := WritePlan(discard{}, p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			if err := json.NewEncoder(discard{}).Encode(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// BenchmarkReadPlan100k reads back a saved plan of 100,000 changes.
func BenchmarkReadPlan100k(b *testing.B) {
	p := &Plan{FormatVersion: 1, Summary: Summary{Cancel: 100000}, Groups: []GroupPlan{{Name: "g", Reason: "r", Cancel: 100000, Total: 100000}}}
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for i := 0; i < 100000; i++ {
		p.Changes = append(p.Changes, Change{ID: benchID(i), Action: Cancel, Group: "g", Reason: "r", ScheduledAt: &at})
	}
	var buf strings.Builder
	if err := WritePlan(&buf, p); err != nil {
		b.Fatal(err)
	}
	doc := buf.String()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		q, err := ReadPlan(strings.NewReader(doc))
		if err != nil {
			b.Fatal(err)
		}
		if len(q.Changes) != 100000 {
			b.Fatal(len(q.Changes))
		}
	}
}
