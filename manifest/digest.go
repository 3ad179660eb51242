package manifest

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// digestMagic starts the canonical form, so that a future form can never
// collide with this one.
const digestMagic = "recall manifest digest v1\n"

// digest computes Manifest.Digest: "sha256:" and the hex SHA-256 of this
// canonical form:
//
//	"recall manifest digest v1\n"
//	then, for each group in manifest order (file order, then document order):
//	  name, reason, scheduled_at          each as uvarint(len) + bytes;
//	                                      scheduled_at is RFC 3339 in UTC with
//	                                      fractional seconds only if any, or
//	                                      "" when unset
//	  uvarint(number of IDs)
//	  the IDs, 16 bytes each, in group order (ids, then ids_from)
//
// So the digest ignores formatting, comments, key order, file names and
// whether an ID came from ids or ids_from, but it changes with anything a
// plan shows, including the order of groups and IDs, which plans follow.
func digest(groups []*Group) string {
	h := sha256.New()
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, digestMagic...)
	str := func(s string) {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	flush := func() {
		h.Write(buf)
		buf = buf[:0]
	}
	for _, g := range groups {
		str(g.Name)
		str(g.Reason)
		if g.ScheduledAt.IsZero() {
			str("")
		} else {
			str(g.ScheduledAt.UTC().Format(time.RFC3339Nano))
		}
		buf = binary.AppendUvarint(buf, uint64(len(g.IDs)))
		for _, id := range g.IDs {
			if len(buf)+len(id) > cap(buf) {
				flush()
			}
			buf = append(buf, id[:]...)
		}
		flush()
	}
	flush()
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
