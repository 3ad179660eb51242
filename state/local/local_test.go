package local_test

import (
	"path/filepath"
	"testing"

	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/statetest"
)

func TestConformance(t *testing.T) {
	statetest.Run(t, func(t *testing.T) func() state.Backend {
		path := filepath.Join(t.TempDir(), "recall.state.json")
		return func() state.Backend { return local.New(path) }
	})
}
