package simulator_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

// discard is a ResponseWriter that keeps nothing, so that the handler's
// own cost is measured.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// benchIDs is how many distinct IDs the benchmarks cycle through, as in
// recall's benchmarks with -any-scheduled.
const benchIDs = 1 << 20

// benchPaths returns the request paths of n distinct IDs.
func benchPaths(n int) []string {
	ps := make([]string, n)
	for i := range ps {
		id := msgid.ID{}
		id[0], id[1], id[2], id[15] = byte(i>>16), byte(i>>8), byte(i), 0xa5
		ps[i] = "/rest/message/" + id.String()
	}
	return ps
}

// BenchmarkServe measures the handler alone, in parallel, over a million
// IDs (the first pass over an ID cancels it, later ones answer 006 again).
func BenchmarkServe(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  simulator.Config
	}{
		{"any-scheduled", simulator.Config{Token: token, AnyScheduled: true}},
		{"faults+rate", simulator.Config{Token: token, AnyScheduled: true, FailRate: 0.05, DropAfterRate: 0, Rate: 1e9}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			sim, err := simulator.New(tc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			paths := benchPaths(benchIDs)
			var next atomic.Uint64
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &discard{h: http.Header{}}
				r := req("DELETE", scheduled, "application/json")
				i := next.Add(1 << 16)
				for pb.Next() {
					clear(w.h)
					r.URL.Path = paths[i%benchIDs]
					sim.ServeHTTP(w, r)
					i++
				}
			})
		})
	}
}

// BenchmarkServeHTTP measures whole calls over loopback with keep-alive
// connections, the way recall's client talks to the simulator.
func BenchmarkServeHTTP(b *testing.B) {
	for _, conns := range []int{8, 32} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			sim, err := simulator.New(simulator.Config{Token: token, AnyScheduled: true})
			if err != nil {
				b.Fatal(err)
			}
			srv := httptest.NewServer(sim)
			defer srv.Close()
			tr := srv.Client().Transport.(*http.Transport).Clone()
			tr.MaxIdleConnsPerHost = conns
			client := &http.Client{Transport: tr}
			var next atomic.Uint64
			b.SetParallelism((conns + 1) / 2) // × GOMAXPROCS goroutines
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					id := msgid.ID{}
					id[0], id[1], id[2], id[15] = byte(i>>16), byte(i>>8), byte(i), 0x5a
					r, _ := http.NewRequest("DELETE", srv.URL+"/rest/message/"+id.String(), nil)
					r.Header.Set("X-Version", "1")
					r.Header.Set("Authorization", "Bearer "+token)
					r.Header.Set("Accept", "application/json")
					resp, err := client.Do(r)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
