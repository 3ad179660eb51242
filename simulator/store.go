package simulator

import (
	"encoding/binary"
	"sync"
	"unsafe"

	"github.com/recallhq/recall/msgid"
)

// Internal statuses are Clickatell's numeric message status codes, with 0
// for an ID the simulator does not know.
const (
	stUnknown   uint8 = 0
	stDelivered uint8 = 4
	stCancelled uint8 = 6
	stScheduled uint8 = 11
	stMax       uint8 = 14
)

// statusText holds the documented descriptions of message statuses.
var statusText = [stMax + 1]string{
	1:  "Message unknown",
	2:  "Message queued",
	3:  "Delivered to gateway",
	4:  "Received by recipient",
	5:  "Error with message",
	6:  "User cancelled message delivery",
	7:  "Error delivering message",
	8:  "OK, message received by gateway",
	9:  "Routing error",
	10: "Message expired",
	11: "Message scheduled for later delivery",
	12: "Out of credit",
	13: "Clickatell cancelled message delivery",
	14: "Maximum MT limit exceeded",
}

// statusCode renders a status as its three-digit code ("" for unknown).
func statusCode(st uint8) string {
	if st == stUnknown {
		return ""
	}
	return string([]byte{'0', '0' + st/10, '0' + st%10})
}

func parseStatus(s string) (uint8, bool) {
	if len(s) != 3 || s[0] != '0' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' {
		return 0, false
	}
	st := (s[1]-'0')*10 + s[2] - '0'
	return st, st >= 1 && st <= stMax
}

// entry is what the simulator knows of one ID.
type entry struct {
	status uint8
	calls  uint32
}

const shardCount = 256

// store keeps entries in shards, each with its own lock, so that concurrent
// calls for different IDs rarely wait for each other.
type store struct {
	shards [shardCount]shard
}

type shard struct {
	mu sync.Mutex
	m  map[msgid.ID]entry
	// Pads a shard to 64 bytes, so that the hot words of two shards are
	// never in one cache line (TestShardSize checks the size).
	_ [64 - unsafe.Sizeof(sync.Mutex{}) - unsafe.Sizeof(map[msgid.ID]entry(nil))]byte
}

func (st *store) init() {
	for i := range st.shards {
		st.shards[i].m = make(map[msgid.ID]entry)
	}
}

func (st *store) shard(id msgid.ID) *shard {
	h := binary.LittleEndian.Uint64(id[:8]) ^ binary.LittleEndian.Uint64(id[8:])
	return &st.shards[(h*0x9e3779b97f4a7c15)>>56]
}

// add records id with status unless it is known with another status; it
// returns the status held before, and whether the add agreed with it.
func (st *store) add(id msgid.ID, status uint8) (uint8, bool) {
	sh := st.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := sh.m[id]
	if e.status != stUnknown && e.status != status {
		return e.status, false
	}
	prev := e.status
	e.status = status
	sh.m[id] = e
	return prev, true
}

func (st *store) set(id msgid.ID, status uint8) {
	sh := st.shard(id)
	sh.mu.Lock()
	e := sh.m[id]
	e.status = status
	sh.m[id] = e
	sh.mu.Unlock()
}

func (st *store) get(id msgid.ID) (status uint8, calls uint32) {
	sh := st.shard(id)
	sh.mu.Lock()
	e, ok := sh.m[id]
	sh.mu.Unlock()
	if !ok {
		return stUnknown, 0
	}
	return e.status, e.calls
}

// count records a stop call that was not acted on.
func (st *store) count(id msgid.ID) {
	sh := st.shard(id)
	sh.mu.Lock()
	e := sh.m[id]
	e.calls++
	sh.m[id] = e
	sh.mu.Unlock()
}

// stop records a stop call and acts on it: a scheduled message is
// cancelled. It returns the status after the call and the one before.
func (st *store) stop(id msgid.ID, anyScheduled bool) (now, was uint8) {
	sh := st.shard(id)
	sh.mu.Lock()
	e := sh.m[id]
	was = e.status
	if was == stUnknown && anyScheduled {
		was = stScheduled
	}
	e.status = was
	if was == stScheduled {
		e.status = stCancelled
	}
	e.calls++
	sh.m[id] = e
	sh.mu.Unlock()
	return e.status, was
}

// lookup returns id's status without changing it.
func (st *store) lookup(id msgid.ID, anyScheduled bool) uint8 {
	s, _ := st.get(id)
	if s == stUnknown && anyScheduled {
		return stScheduled
	}
	return s
}
