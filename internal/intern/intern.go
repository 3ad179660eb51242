// Package intern keeps one copy of strings that repeat: a million records
// share a handful of statuses, descriptions and groups, and the state
// reader and apply both hold that many.
package intern

// Max bounds a Table, for inputs whose strings are all different.
const Max = 1 << 14

// Table maps a string to its shared copy. The zero value is not usable:
// make one with Table{}.
type Table map[string]string

// String returns the shared copy of s, making s the copy if there is none
// yet (and the table is not full).
func (t Table) String(s string) string {
	if v, ok := t[s]; ok {
		return v
	}
	if len(t) < Max {
		t[s] = s
	}
	return s
}

// Bytes is String for bytes; it allocates only for a string not seen.
func (t Table) Bytes(b []byte) string {
	if v, ok := t[string(b)]; ok {
		return v
	}
	return t.String(string(b))
}
