package clickatell

import (
	"testing"
	"time"

	"github.com/recallhq/recall/outcome"
)

// TestInterpret_OnlyPlainSuccessSettles: a 2xx other than 200, 202 and
// 207 is not an answer Clickatell gives (203 is a transforming proxy's
// copy, 206 part of a body, 226 a delta): it settles nothing, as the
// package documentation's table says.
func TestInterpret_OnlyPlainSuccessSettles(t *testing.T) {
	for _, status := range []int{201, 203, 205, 206, 208, 226, 299} {
		for _, body := range []string{
			`{"data":{"messageStatus":"006"}}`,
			`{"data":{"messageStatus":"004"}}`,
			`{"error":{"code":"161"}}`,
		} {
			res, err := interpret(status, "application/json", "", time.Second, []byte(body), id1, testToken)
			if res != nil || err == nil {
				t.Errorf("HTTP %d %s: settled %+v", status, body, res)
			}
		}
	}
	for _, status := range []int{200, 202, 207} {
		res, err := interpret(status, "application/json", "", 0, []byte(`{"data":{"messageStatus":"006"}}`), id1, testToken)
		if err != nil || res.Outcome != outcome.Cancelled {
			t.Errorf("HTTP %d: %+v, %v; want cancelled", status, res, err)
		}
	}
}
