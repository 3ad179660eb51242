package clickatell

import "testing"

// TestInterpret_ContradictoryAnswersSettleNothing: an answer that says two
// things about a message (data and an error, a member or an element given
// twice) does not say what happened to it, so it settles nothing: the
// message is tried again, never recorded on a guess.
func TestInterpret_ContradictoryAnswersSettleNothing(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
	}{
		{"data 011 and error 161", 200, `{"data":{"messageStatus":"011"},"error":{"code":"161"}}`},
		{"error 161 and data 011 in a 404", 404, `{"error":{"code":"161"},"data":{"messageStatus":"011"}}`},
		{"XML error 161 and data 011", 200, `<response><error><code>161</code></error><data><messageStatus>011</messageStatus></data></response>`},
		{"messageStatus twice", 200, `{"data":{"messageStatus":"011","messageStatus":"006"}}`},
		{"messageStatus and a case twin", 200, `{"data":{"messageStatus":"011","MessageStatus":"006"}}`},
		{"messageStatus and a Unicode-folded twin", 200, `{"data":{"messageStatus":"011","meſſageStatus":"006"}}`},
		{"messageStatus and an escaped twin", 200, `{"data":{"message\u0053tatus":"011","messageStatus":"006"}}`},
		{"data twice", 200, `{"data":{"messageStatus":"011"},"data":{"messageStatus":"006"}}`},
		{"code twice", 404, `{"error":{"code":"404","code":"161"}}`},
		{"apiMessageId twice", 200, `{"data":{"messageStatus":"006","apiMessageId":"ffffffffffffffffffffffffffffffff","apiMessageId":"` + id1 + `"}}`},
		{"XML data twice", 200, `<response><data><messageStatus>011</messageStatus></data><data><messageStatus>006</messageStatus></data></response>`},
		{"XML messageStatus twice", 200, `<response><data><messageStatus>011</messageStatus><messageStatus>006</messageStatus></data></response>`},
		{"XML code twice", 404, `<response><error><code>404</code><code>161</code></error></response>`},
		{"XML apiMessageId twice", 200, `<response><data><messageStatus>006</messageStatus><apiMessageId>ffffffffffffffffffffffffffffffff</apiMessageId><apiMessageId>` + id1 + `</apiMessageId></data></response>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := interpret(tc.status, "application/json", "", 0, []byte(tc.body), id1, testToken)
			if res != nil || err == nil {
				t.Fatalf("settled %+v on %s", res, tc.body)
			}
			if d := Classify(err); d != GiveUp {
				t.Errorf("Classify(%v) = %v, want give_up", err, d)
			}
		})
	}
}
