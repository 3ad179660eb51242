package main

// Benchmarks of apply as users run it: the recall process against the
// simulator on loopback, timed from process start to exit. Each reports
// medians over its b.N runs as custom metrics; run them with, e.g.,
//
//	go test ./cmd/recall -run '^$' -bench BenchmarkApply -benchtime 5x
//
// Ideal throughput with latency L and parallelism P is P/L calls per second.

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/simulator"
)

// benchRun runs one apply in a fresh directory and returns its wall time
// and peak resident memory.
func benchRun(b *testing.B, url string, list []string, args ...string) (time.Duration, int64) {
	b.Helper()
	dir := b.TempDir()
	writeManifest(b, dir, group{name: "bench", ids: list})
	cmd := recallCommand(dir, url, append([]string{"apply", "-auto-approve"}, args...)...)
	var out, errb syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil || !strings.Contains(out.String(), fmt.Sprintf("Apply complete! Messages: %d cancelled", len(list))) {
		b.Fatalf("apply: %v\nstdout:\n%s\nstderr:\n%s", err, tail(out.String()), errb.String())
	}
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss * 1024 // kilobytes on Linux
	}
	return took, rss
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// BenchmarkApply_Latency20ms: 20 ms per answer, -parallelism 10: the ideal
// is 500 calls/s; recall must reach 90% of it.
func BenchmarkApply_Latency20ms(b *testing.B) {
	const n, p = 2500, 10
	ideal := float64(p) / 0.020
	var rates []float64
	for i := 0; i < b.N; i++ {
		sim, url := startSim(b, simulator.Config{AnyScheduled: true, Latency: 20 * time.Millisecond})
		took, _ := benchRun(b, url, ids(byte(i), n), "-parallelism", strconv.Itoa(p))
		rates = append(rates, float64(sim.Stats().Requests)/took.Seconds())
	}
	b.ReportMetric(median(rates), "calls/s")
	b.ReportMetric(100*median(rates)/ideal, "%ideal")
}

// BenchmarkApply_Throttled800: an API that answers 429 above 800 calls/s,
// -parallelism 64: recall must reach 85% of 800/s with at most 10% of its
// calls throttled.
func BenchmarkApply_Throttled800(b *testing.B) {
	const n, p, limit = 8000, 64, 800.0
	var rates, throttled []float64
	for i := 0; i < b.N; i++ {
		sim, url := startSim(b, simulator.Config{AnyScheduled: true, Rate: limit})
		took, _ := benchRun(b, url, ids(byte(i), n), "-parallelism", strconv.Itoa(p))
		st := sim.Stats()
		rates = append(rates, float64(n)/took.Seconds())
		throttled = append(throttled, 100*float64(st.Throttled)/float64(st.Requests))
	}
	b.ReportMetric(median(rates), "msgs/s")
	b.ReportMetric(100*median(rates)/limit, "%of800")
	b.ReportMetric(median(throttled), "%429")
}

// BenchmarkApply_1M: a million messages, no latency: peak memory of the
// recall process (must stay under 500 MB).
func BenchmarkApply_1M(b *testing.B) {
	const n = 1_000_000
	var rss, secs []float64
	for i := 0; i < b.N; i++ {
		_, url := startSim(b, simulator.Config{AnyScheduled: true})
		took, peak := benchRun(b, url, ids(byte(i), n), "-parallelism", "16")
		rss = append(rss, float64(peak)/(1<<20))
		secs = append(secs, took.Seconds())
	}
	b.ReportMetric(median(rss), "peak-RSS-MB")
	b.ReportMetric(median(secs), "s/apply")
	b.ReportMetric(n/median(secs), "msgs/s")
}

// BenchmarkApply_100kStateBackends: 100,000 messages, no latency, file
// state against PostgreSQL state, alternating; the ratio must stay at or
// under 1.2.
func BenchmarkApply_100kStateBackends(b *testing.B) {
	const n = 100_000
	url := pgtest.SchemaURL(b)
	var file, pg []float64
	for i := 0; i < b.N; i++ {
		_, ep := startSim(b, simulator.Config{AnyScheduled: true})
		list := ids(byte(i), n)
		took, _ := benchRun(b, ep, list, "-state", filepath.Join(b.TempDir(), "s.json"))
		file = append(file, took.Seconds())
		_, ep = startSim(b, simulator.Config{AnyScheduled: true})
		ws := fmt.Sprintf("bench-%d-%d", os.Getpid(), i)
		took, _ = benchRun(b, ep, list, "-state", url, "-workspace", ws)
		pg = append(pg, took.Seconds())
	}
	b.ReportMetric(median(file), "file-s")
	b.ReportMetric(median(pg), "pg-s")
	b.ReportMetric(median(pg)/median(file), "pg/file")
}
