package manifest

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"github.com/recallhq/recall/msgid"
)

// idSet finds duplicate IDs among millions without a map: an
// open-addressing table (linear probing, at most half full) of indexes into
// the loader's ID slice, where the IDs live once, in the slice the groups
// are cut from. A slot is 8 bytes: the index+1 (0: empty) in the low half
// and the top 32 bits of the ID's hash in the high half, so that a probe
// reads the ID it points to (a likely cache miss) only when the hashes
// agree. A map[msgid.ID]uint32 would take about twice the memory and time.
type idSet struct {
	slots  []uint64
	n      int
	k0, k1 uint64 // per-load hash keys, so that no input is slow every time
	sink   uint64 // keeps touch's loads from being optimised away
}

func newIDSet() idSet {
	return idSet{k0: rand.Uint64() | 1, k1: rand.Uint64()}
}

func (s *idSet) hash(id *msgid.ID) uint64 {
	a := binary.LittleEndian.Uint64(id[:8]) ^ s.k0
	b := binary.LittleEndian.Uint64(id[8:]) ^ s.k1
	hi, lo := bits.Mul64(a, b^0x9e3779b97f4a7c15)
	return hi ^ lo
}

// reserve makes room for n IDs in all without growing.
func (s *idSet) reserve(n int, all []msgid.ID) {
	size := 1024
	for size < 2*n {
		size <<= 1
	}
	if size > len(s.slots) {
		s.rehash(size, all)
	}
}

func (s *idSet) rehash(size int, all []msgid.ID) {
	old := s.slots
	s.slots = make([]uint64, size)
	mask := uint64(size - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := s.hash(&all[uint32(v)-1]) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = v
	}
}

// touch makes room for len(ids) more IDs, computes their hashes into
// hashes, and reads the slots where their probes start. The reads are
// independent, so the CPU overlaps their cache misses; the inserts that
// follow then find the slots in cache. On a million IDs this halves the
// time to find duplicates.
func (s *idSet) touch(all, ids []msgid.ID, hashes []uint64) {
	s.reserve(s.n+len(ids), all)
	mask := uint64(len(s.slots) - 1)
	x := uint64(0)
	for i := range ids {
		h := s.hash(&ids[i])
		hashes[i] = h
		x += s.slots[h&mask]
	}
	s.sink += x
}

// insert adds id, which the caller then stores at all[idx]. If id is
// already present it returns the index of the earlier copy and true.
func (s *idSet) insert(all []msgid.ID, id msgid.ID, idx int) (int, bool) {
	return s.insertHashed(all, id, s.hash(&id), idx)
}

// insertHashed is insert for an ID whose hash is known.
func (s *idSet) insertHashed(all []msgid.ID, id msgid.ID, h uint64, idx int) (int, bool) {
	if 2*(s.n+1) > len(s.slots) {
		s.rehash(max(1024, 2*len(s.slots)), all)
	}
	mask := uint64(len(s.slots) - 1)
	tag := h &^ 0xffffffff
	for i := h & mask; ; i = (i + 1) & mask {
		v := s.slots[i]
		if v == 0 {
			s.slots[i] = tag | uint64(idx+1)
			s.n++
			return 0, false
		}
		if v&^0xffffffff == tag && all[uint32(v)-1] == id {
			return int(uint32(v) - 1), true
		}
	}
}
