package msgid

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestCompare_TextOrder: Compare orders IDs as their text forms sort, which
// the state file's line order and the plans rely on.
func TestCompare_TextOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ids := []ID{{}, {0xff}, {15: 1}, {0, 0xff}}
	for range 200 {
		var id ID
		for i := range id {
			id[i] = byte(rng.IntN(3)) // few values, so that long common prefixes occur
		}
		ids = append(ids, id)
	}
	for _, a := range ids {
		for _, b := range ids {
			if got, want := Compare(a, b), strings.Compare(a.String(), b.String()); got != want {
				t.Fatalf("Compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

// TestID_TextRoundTrip: the JSON form is the lower-case text, and reads
// back (from either case) to the same ID; a malformed one is an error.
func TestID_TextRoundTrip(t *testing.T) {
	id := MustParse("360586640FE9846954897DFFE6C13DFC")
	b, err := json.Marshal(map[string]ID{"id": id})
	if err != nil || string(b) != `{"id":"360586640fe9846954897dffe6c13dfc"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back map[string]ID
	if err := json.Unmarshal(b, &back); err != nil || back["id"] != id {
		t.Fatalf("Unmarshal = %v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"id":"360586640fe9846954897dffe6c13dfg"}`), &back); err == nil {
		t.Error("Unmarshal accepted a non-hexadecimal ID")
	}
}
