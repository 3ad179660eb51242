package msgid

import (
	"strings"
	"testing"
)

// TestParseBytes_EveryByte checks the hex table against the definition:
// at each position, exactly 0-9, a-f and A-F parse, to their values.
func TestParseBytes_EveryByte(t *testing.T) {
	base := []byte(strings.Repeat("0", Len))
	for _, pos := range []int{0, 1, 17, Len - 1} {
		for c := 0; c < 256; c++ {
			b := append([]byte(nil), base...)
			b[pos] = byte(c)
			want, wantOK := byte(0), false
			switch {
			case '0' <= c && c <= '9':
				want, wantOK = byte(c-'0'), true
			case 'a' <= c && c <= 'f':
				want, wantOK = byte(c-'a'+10), true
			case 'A' <= c && c <= 'F':
				want, wantOK = byte(c-'A'+10), true
			}
			id, ok := ParseBytes(b)
			_, err := Parse(string(b))
			if ok != wantOK || (err == nil) != wantOK {
				t.Fatalf("byte %#x at %d: ParseBytes ok=%v, Parse err=%v; want ok=%v", c, pos, ok, err, wantOK)
			}
			if !ok {
				continue
			}
			got := id[pos/2] >> 4
			if pos%2 == 1 {
				got = id[pos/2] & 0xf
			}
			if got != want {
				t.Fatalf("byte %q at %d parsed as %d, want %d", rune(c), pos, got, want)
			}
		}
	}
	if id, ok := ParseBytes([]byte("360586640FE9846954897DFFE6C13DFC")); !ok || id.String() != "360586640fe9846954897dffe6c13dfc" {
		t.Errorf("upper case: %v %v", id, ok)
	}
}
