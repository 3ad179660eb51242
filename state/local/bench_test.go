package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/statetest"
)

// largeFile writes a state of n messages once per benchmark.
func largeFile(b *testing.B, n int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "recall.state.json")
	if err := statetest.WriteLarge(context.Background(), local.New(path), n); err != nil {
		b.Fatal(err)
	}
	return path
}

// heapMB reports the live heap after a collection, in MB.
func heapMB() float64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// BenchmarkRead1M reads a 1,000,000-message state (about 170 MB) with the
// backend. heap-MB is the live heap the state occupies once read.
func BenchmarkRead1M(b *testing.B) {
	benchRead1M(b, func(path string) (any, int, error) {
		s, err := local.New(path).Read(context.Background())
		if err != nil {
			return nil, 0, err
		}
		return s, s.Len(), nil
	})
}

// benchRead1M times read on a 1,000,000-message state file and reports
// as heap-MB the live heap of what the first read returned (kept
// reachable while measured). read returns that and its message count.
func benchRead1M(b *testing.B, read func(path string) (any, int, error)) {
	path := largeFile(b, 1_000_000)
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
	base := heapMB()
	var live float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s, n, err := read(path)
		if err != nil {
			b.Fatal(err)
		}
		if n != 1_000_000 {
			b.Fatalf("read %d messages", n)
		}
		if i == 0 {
			b.StopTimer()
			live = heapMB() - base
			runtime.KeepAlive(s)
			b.StartTimer()
		}
	}
	b.ReportMetric(live, "heap-MB")
}

// naiveState is what a program that reads the state with encoding/json
// into a map would declare.
type naiveState struct {
	FormatVersion int    `json:"format_version"`
	Lineage       string `json:"lineage"`
	Serial        uint64 `json:"serial"`
	RecallVersion string `json:"recall_version"`
	Messages      map[string]struct {
		Outcome     string    `json:"outcome"`
		Status      string    `json:"status"`
		Description string    `json:"description"`
		Group       string    `json:"group"`
		At          time.Time `json:"at"`
	} `json:"messages"`
}

// BenchmarkReadEncodingJSON1M is the yardstick for BenchmarkRead1M: the
// same file read by os.ReadFile and json.Unmarshal into a map.
func BenchmarkReadEncodingJSON1M(b *testing.B) {
	benchRead1M(b, func(path string) (any, int, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, 0, err
		}
		var s naiveState
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, 0, err
		}
		// data is dropped on return: only s is measured.
		return &s, len(s.Messages), nil
	})
}

// BenchmarkCommit checkpoints 1,000 settled messages into states of
// 10,000 and 1,000,000 messages: each commit rewrites the whole file
// atomically (write, fsync, backup link, rename, directory fsync).
func BenchmarkCommit(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(statetest.Size(n), func(b *testing.B) {
			path := largeFile(b, n)
			be := local.New(path)
			if _, err := be.Read(context.Background()); err != nil {
				b.Fatal(err)
			}
			if fi, err := os.Stat(path); err == nil {
				b.SetBytes(fi.Size())
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := be.Commit(context.Background(), statetest.Changes(n+i*1000, 1000)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriteFile1M encodes a whole 1,000,000-message state and writes
// it atomically: what Replace, and the first commit after reading a file
// that is not in the canonical layout, cost.
func BenchmarkWriteFile1M(b *testing.B) {
	s := statetest.LargeState(1_000_000)
	path := filepath.Join(b.TempDir(), "recall.state.json")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := local.WriteFile(path, s); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if fi, err := os.Stat(path); err == nil {
		b.SetBytes(fi.Size())
	}
}

// BenchmarkReadLayouts1M reads a 1,000,000-message state in recall's own
// layout, re-laid out as `jq .` (pretty, two-space indent, one member a
// line) and `jq -c` (compact) would, and, as the floor, with plain
// encoding/json into a map (bench/naive's reader).
func BenchmarkReadLayouts1M(b *testing.B) {
	path := largeFile(b, 1_000_000)
	own, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(own, &v); err != nil {
		b.Fatal(err)
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	compact, _ := json.Marshal(v)
	v = nil
	for _, l := range []struct {
		name string
		data []byte
	}{{"own", own}, {"pretty", pretty}, {"compact", compact}} {
		b.Run(l.name, func(b *testing.B) {
			b.SetBytes(int64(len(l.data)))
			for b.Loop() {
				s, err := local.Decode(bytes.NewReader(l.data), "s.json")
				if err != nil || s.Len() != 1_000_000 {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("naive", func(b *testing.B) {
		type record struct {
			Outcome, Status, Description, Group, At string
		}
		for b.Loop() {
			var st struct {
				Messages map[string]record `json:"messages"`
			}
			if err := json.NewDecoder(bytes.NewReader(own)).Decode(&st); err != nil || len(st.Messages) != 1_000_000 {
				b.Fatal(err)
			}
		}
	})
}
