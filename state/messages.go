package state

import (
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
)

// messages is a State's settled messages, stored compactly: a state of a
// million messages is most of what a large plan or apply keeps in memory,
// and its records repeat a handful of outcomes, statuses, descriptions and
// groups. Each message keeps its time, in Unix seconds (a Record's At is
// kept to the second, in UTC), and the index of its kind: the distinct
// (outcome, status, description, group) of the state, each stored once.
//
// A message is 16 bytes of map value instead of a Record's 80, and holds
// no pointer, so the garbage collector never scans the map: a million
// messages take 86 MB of heap instead of 200 MB (a heap profile of apply
// cancelling 1,000,000 messages into a fresh state). That assumes few
// kinds, as Clickatell's answers give: a state whose every record is of
// its own kind (a description that differs per message) costs more than
// the map of Records did (268 MB against 207 MB for a million).
//
// A State copied by value shares its messages with the original, as the
// map it replaced did: both the map and the kinds are behind pointers.
type messages struct {
	byID  map[msgid.ID]entry
	kinds *kinds
}

// entry is one message: when it was recorded and its kind.
type entry struct {
	at   int64 // Unix seconds
	kind uint32
}

// kind is what records share.
type kind struct {
	outcome                    outcome.Outcome
	status, description, group string
}

// kinds is the table of a state's kinds, which only grows.
type kinds struct {
	list  []kind
	index map[kind]uint32
	// last is the kind added or found last: records come in runs of one
	// kind (one group, one answer), so most Sets find it without hashing.
	last uint32
}

// Len is how many messages the state holds.
func (m *messages) Len() int { return len(m.byID) }

// Get returns the record of message id; the zero Record if the state does
// not hold it.
func (m *messages) Get(id msgid.ID) Record {
	r, _ := m.Lookup(id)
	return r
}

// Lookup returns the record of message id, and whether the state holds it.
func (m *messages) Lookup(id msgid.ID) (Record, bool) {
	e, ok := m.byID[id]
	if !ok {
		return Record{}, false
	}
	return m.record(e), true
}

// Set records message id as r, replacing what the state held for it.
// r.At is kept to the second, in UTC.
func (m *messages) Set(id msgid.ID, r Record) {
	m.Reserve(0)
	m.byID[id] = entry{at: r.At.Unix(), kind: m.kinds.of(kind{r.Outcome, r.Status, r.Description, r.Group})}
}

// Delete forgets message id; forgetting one the state does not hold does
// nothing.
func (m *messages) Delete(id msgid.ID) { delete(m.byID, id) }

// All yields every message and its record, in no particular order. The
// state must not be changed while it runs.
func (m *messages) All() iter.Seq2[msgid.ID, Record] {
	return func(yield func(msgid.ID, Record) bool) {
		for id, e := range m.byID {
			if !yield(id, m.record(e)) {
				return
			}
		}
	}
}

// IDs returns the IDs of the state's messages, in order.
func (m *messages) IDs() []msgid.ID {
	ids := make([]msgid.ID, 0, len(m.byID))
	for id := range m.byID {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, msgid.Compare)
	return ids
}

// Reserve makes room for n messages in a state that holds none yet, for
// readers that know how many are coming.
func (m *messages) Reserve(n int) {
	if m.kinds == nil {
		m.kinds = &kinds{}
	}
	if m.byID == nil || (len(m.byID) == 0 && n > 0) {
		m.byID = make(map[msgid.ID]entry, n)
	}
}

func (m *messages) record(e entry) Record {
	k := m.kinds.list[e.kind]
	return Record{Outcome: k.outcome, Status: k.status, Description: k.description, Group: k.group, At: time.Unix(e.at, 0).UTC()}
}

// clone returns a copy that shares nothing with m.
func (m *messages) clone() messages {
	c := messages{byID: maps.Clone(m.byID)}
	if m.kinds != nil {
		c.kinds = &kinds{list: slices.Clone(m.kinds.list), index: maps.Clone(m.kinds.index), last: m.kinds.last}
	}
	return c
}

// of returns k's index, adding it if it is new.
func (t *kinds) of(k kind) uint32 {
	if int(t.last) < len(t.list) && t.list[t.last] == k {
		return t.last
	}
	i, ok := t.index[k]
	if !ok {
		if t.index == nil {
			t.index = map[kind]uint32{}
		}
		i = uint32(len(t.list))
		t.list = append(t.list, k)
		t.index[k] = i
	}
	t.last = i
	return i
}
