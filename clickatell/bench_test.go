package clickatell

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/simulator"
)

// BenchmarkStopMessage measures client round trips against the in-process
// simulator on loopback: one call at a time, and from GOMAXPROCS×p
// goroutines at once (b.RunParallel). Every message is scheduled, so each
// answer is a 200 with status 006 to decode.
func BenchmarkStopMessage(b *testing.B) {
	for _, f := range []Format{JSON, XML} {
		_, srv := simServer(b, simulator.Config{AnyScheduled: true})
		c, err := New(WithBaseURL(srv.URL), WithToken(testToken), WithFormat(f), WithMaxConns(64))
		if err != nil {
			b.Fatal(err)
		}
		ids := make([]string, 4096)
		for i := range ids {
			ids[i] = fmt.Sprintf("%032x", i+1)
		}
		check := func(b *testing.B, res *Result, err error) {
			if err != nil || res.Outcome != outcome.Cancelled {
				b.Fatalf("%+v, %v", res, err)
			}
		}
		b.Run(f.String()+"/sequential", func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				res, err := c.StopMessage(ctx, ids[i%len(ids)])
				check(b, res, err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
		b.Run(f.String()+"/parallel", func(b *testing.B) {
			ctx := context.Background()
			var n atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16) // 16×GOMAXPROCS goroutines: 32 on 2 cores
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := n.Add(1)
					res, err := c.StopMessage(ctx, ids[int(i)%len(ids)])
					check(b, res, err)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
		srv.Client().CloseIdleConnections()
		c.httpClient.CloseIdleConnections()
	}
}

// BenchmarkDecode measures decoding alone, for comparison with a round
// trip.
func BenchmarkDecode(b *testing.B) {
	c, _ := New(WithToken(testToken))
	for _, tt := range []struct {
		name, ct, body string
	}{
		{"json", "application/json", jsonData("006", "User cancelled message delivery", id1)},
		{"xml", "application/xml", xmlData("006", "User cancelled message delivery", id1)},
	} {
		body := []byte(tt.body)
		h := http.Header{"Content-Type": {tt.ct}}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.decode(200, h, body, id1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkThrottle_Simulator runs 64 workers through RetryPolicy and a
// shared Throttle against the simulator throttling above 800 calls/s,
// each iteration settling 8000 messages, and reports the rate achieved
// (calls/s, share of 800), the share of calls answered 429, and the
// Throttle's final limit. Run it with -benchtime=1x (or 3x): one iteration
// is a 10-second run.
func BenchmarkThrottle_Simulator(b *testing.B) {
	const (
		capacity = 800.0
		workers  = 64
		messages = 8000
	)
	for _, retryAfter := range []int{0, 1} {
		b.Run(fmt.Sprintf("retry-after=%d", retryAfter), func(b *testing.B) {
			var rates, shares []float64
			for b.Loop() {
				sim, srv := simServer(b, simulator.Config{AnyScheduled: true, Rate: capacity, RetryAfter: retryAfter})
				c, err := New(WithBaseURL(srv.URL), WithToken(testToken), WithMaxConns(workers))
				if err != nil {
					b.Fatal(err)
				}
				th := NewThrottle(0)
				p := RetryPolicy{MaxRetries: 5, Throttle: th}
				ids := make(chan string, workers)
				go func() {
					for i := 0; i < messages; i++ {
						ids <- fmt.Sprintf("%032x", i+1)
					}
					close(ids)
				}()
				var failed atomic.Int64
				var wg sync.WaitGroup
				start := time.Now()
				for w := 0; w < workers; w++ {
					wg.Go(func() {
						for id := range ids {
							if _, err := p.Do(context.Background(), func(ctx context.Context) error {
								_, err := c.StopMessage(ctx, id)
								return err
							}); err != nil {
								failed.Add(1)
							}
						}
					})
				}
				wg.Wait()
				el := time.Since(start)
				st := sim.Stats()
				rate := float64(st.Cancelled) / el.Seconds()
				rates = append(rates, rate)
				shares = append(shares, float64(st.Throttled)/float64(st.Requests))
				b.Logf("%d messages in %v: %.0f cancelled/s (%.0f%% of %v), %d requests, %.1f%% answered 429, %d failed, throttle %+v",
					messages, el.Round(time.Millisecond), rate, 100*rate/capacity, capacity, st.Requests, 100*shares[len(shares)-1], failed.Load(), th.Stats())
				c.httpClient.CloseIdleConnections()
				srv.Close()
			}
			b.ReportMetric(median(rates), "calls/s")
			b.ReportMetric(100*median(rates)/capacity, "%of-cap")
			b.ReportMetric(100*median(shares), "%429")
		})
	}
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

// BenchmarkStopMessage_ClientOnly measures the client's own cost per call:
// the transport is a function handing back a canned answer, so no network
// or server time is counted (its own 3 allocations are).
func BenchmarkStopMessage_ClientOnly(b *testing.B) {
	body := jsonData("006", "User cancelled message delivery", id1)
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body))}, nil
	})}
	for _, timeout := range []time.Duration{0, time.Second} {
		c, err := New(WithToken(testToken), WithHTTPClient(hc), WithTimeout(timeout))
		if err != nil {
			b.Fatal(err)
		}
		b.Run("timeout="+timeout.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.StopMessage(context.Background(), id1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
