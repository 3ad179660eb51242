package intern

import (
	"strconv"
	"testing"
	"unsafe"
)

func TestTable(t *testing.T) {
	tab := Table{}
	a := tab.Bytes([]byte("006"))
	b := tab.String(string([]byte("006")))
	if a != "006" || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Errorf("Bytes then String of equal text: %q, %q not one copy", a, b)
	}
	for i := range Max + 10 {
		tab.String(strconv.Itoa(i))
	}
	if len(tab) != Max {
		t.Errorf("table holds %d strings, want at most %d", len(tab), Max)
	}
	if got := tab.String("not kept"); got != "not kept" {
		t.Errorf("String on a full table = %q", got)
	}
}
