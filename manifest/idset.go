package manifest

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"

	"github.com/recallhq/recall/msgid"
)

// idSet finds duplicate IDs among millions without a map: an
// open-addressing table of indexes into the loader's ID slice (4 bytes a
// slot, at most half full), where a map[msgid.ID]T would cost 20+ bytes an
// entry and an allocation per growth of each of its tables. The IDs
// themselves live once, in the slice the groups are cut from.
type idSet struct {
	slots  []uint32 // index+1 into the ID slice; 0 is empty
	n      int
	k0, k1 uint64 // per-load hash keys, so no input is slow every time
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
	s.slots = make([]uint32, size)
	mask := uint64(size - 1)
	for _, v := range old {
		if v == 0 {
			continue
		}
		i := s.hash(&all[v-1]) & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = v
	}
}

// insert adds id, which the caller then stores at all[idx]. If id is
// already present it returns the index of the earlier copy and true.
func (s *idSet) insert(all []msgid.ID, id msgid.ID, idx int) (int, bool) {
	if 2*(s.n+1) > len(s.slots) {
		s.rehash(max(1024, 2*len(s.slots)), all)
	}
	mask := uint64(len(s.slots) - 1)
	i := s.hash(&id) & mask
	for {
		v := s.slots[i]
		if v == 0 {
			s.slots[i] = uint32(idx + 1)
			s.n++
			return 0, false
		}
		if all[v-1] == id {
			return int(v - 1), true
		}
		i = (i + 1) & mask
	}
}
