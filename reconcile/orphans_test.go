package reconcile

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// TestUnlistedSamples: the widening sample of a partly orphaned group's
// unlisted IDs is the one a set of the whole manifest gives, however the
// unlisted IDs fall among the listed ones (few, many, only the largest,
// past the fallback's bound).
func TestUnlistedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name     string
		n        int
		unlisted func(i, n int) bool
	}{
		{"one in ten", 2000, func(i, n int) bool { return rng.IntN(10) == 0 }},
		{"one", 500, func(i, n int) bool { return i == 250 }},
		{"two", 50, func(i, n int) bool { return i == 3 || i == 40 }},
		{"only the largest", 3000, func(i, n int) bool { return i >= n-2 }},
		{"past the bound", 10000, func(i, n int) bool { return i >= n-5 }},
		{"most", 300, func(i, n int) bool { return i%7 != 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := &state.State{}
			var listed []msgid.ID
			var want []msgid.ID
			for i := range tc.n {
				v := id(uint64(i))
				msgs.Set(v, rec(outcome.Cancelled, "g"))
				if tc.unlisted(i, tc.n) {
					want = append(want, v)
				} else {
					listed = append(listed, v)
				}
			}
			// Another group's IDs, listed elsewhere: never sampled.
			for i := range 100 {
				msgs.Set(id(uint64(1e6+i)), rec(outcome.Cancelled, "other"))
			}
			rng.Shuffle(len(listed), func(i, j int) { listed[i], listed[j] = listed[j], listed[i] })
			m := &manifest.Manifest{Groups: []*manifest.Group{{Name: "g", IDs: listed[:len(listed)/2]}, {Name: "h", IDs: listed[len(listed)/2:]}}}
			slices.SortFunc(want, msgid.Compare)
			want = want[:min(len(want), orphanSample)]
			got := unlistedSamples(m, msgs, map[string]bool{"g": true})
			if diff := cmp.Diff(map[string][]msgid.ID{"g": want}, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
