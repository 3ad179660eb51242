package pg

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/statetest"
)

// benchBackends returns, for each backend, a handle on a fresh state of n
// messages, already read.
func benchBackends(b *testing.B, n int) map[string]state.Backend {
	b.Helper()
	ctx := context.Background()
	pgb, err := Open(pgtest.SchemaURL(b), "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pgb.Close() })
	lb := local.New(filepath.Join(b.TempDir(), "recall.state.json"))
	out := map[string]state.Backend{"pg": pgb, "local": lb}
	for _, be := range out {
		if err := statetest.WriteLarge(ctx, be, n); err != nil {
			b.Fatal(err)
		}
		if _, err := be.Read(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// BenchmarkCommit1000On100k is one apply checkpoint: 1,000 newly settled
// messages committed to a state of 100,000 (growing by 1,000 per
// iteration), under the state lock as apply does it.
func BenchmarkCommit1000On100k(b *testing.B) { benchCommit(b, 100_000, 1000) }

// BenchmarkCommit20000On100k is a checkpoint of a fast apply (a second of
// results at 20,000 calls a second).
func BenchmarkCommit20000On100k(b *testing.B) { benchCommit(b, 100_000, 20_000) }

func benchCommit(b *testing.B, base, batch int) {
	backends := benchBackends(b, base)
	for _, name := range []string{"local", "pg"} {
		be := backends[name]
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			l, err := be.Lock(ctx, state.LockRequest{Operation: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Unlock()
			s, err := be.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			next := s.Len() + 1_000_000 // IDs not yet in the state
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := be.Commit(ctx, statetest.Changes(next, batch)); err != nil {
					b.Fatal(err)
				}
				next += batch
			}
		})
	}
}

// BenchmarkRead reads a state of 100,000 and of 1,000,000 messages.
func BenchmarkRead(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		if n > 100_000 && testing.Short() {
			continue
		}
		backends := benchBackends(b, n)
		for _, name := range []string{"local", "pg"} {
			be := backends[name]
			b.Run(name+"/"+commas(n), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					s, err := be.Read(context.Background())
					if err != nil {
						b.Fatal(err)
					}
					if s.Len() != n {
						b.Fatalf("read %d messages, want %d", s.Len(), n)
					}
				}
				runtime.GC()
			})
		}
		for _, be := range backends {
			be.Close()
		}
	}
}

// BenchmarkReplace100k writes a whole state of 100,000 messages (state
// push).
func BenchmarkReplace100k(b *testing.B) {
	backends := benchBackends(b, 0)
	src := statetest.LargeState(100_000)
	for _, name := range []string{"local", "pg"} {
		be := backends[name]
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := be.Replace(context.Background(), src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func commas(n int) string {
	switch {
	case n >= 1_000_000:
		return "1M"
	case n >= 1000:
		return fmtInt(n/1000) + "k"
	}
	return fmtInt(n)
}

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
