package pg

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/statetest"
)

func TestConformance(t *testing.T) {
	loc := pgtest.SchemaURL(t)
	var n atomic.Int64
	statetest.Run(t, func(t *testing.T) func() state.Backend {
		// Each subtest gets a workspace of its own in the test's schema.
		ws := fmt.Sprintf("conformance-%d", n.Add(1))
		return func() state.Backend {
			b, err := Open(loc, ws)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return b
		}
	})
}
