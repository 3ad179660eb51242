package simulator

import (
	"testing"
	"unsafe"
)

// TestShardSize: shards are a cache line apart, so that calls for IDs in
// neighbouring shards do not contend for one line.
func TestShardSize(t *testing.T) {
	if got := unsafe.Sizeof(shard{}); got != 64 {
		t.Errorf("a shard is %d bytes, want 64", got)
	}
}
