package reconcile

import (
	"context"
	"testing"

	"github.com/recallhq/recall/clickatell"
)

// BenchmarkApply_Engine100k: the engine alone, 100,000 messages through a
// stopper that answers at once and an in-memory state, 16 at a time: what
// the run's own machinery (workers, results, checkpoints) costs per
// message, with no network to hide it.
func BenchmarkApply_Engine100k(b *testing.B) {
	const n = 100_000
	p := testPlan(n)
	stopper := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		return cancelled(id), nil
	})
	opts := fastOpts()
	opts.Parallelism = 16
	b.ReportAllocs()
	for b.Loop() {
		res, err := Apply(context.Background(), p, newMemBackend(), stopper, opts)
		if err != nil || res.Cancelled != n {
			b.Fatalf("res %+v, err %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}
