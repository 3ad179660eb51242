package pg

import "testing"

func TestStripPassword(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://recall:s3cret@db.example.com:5432/recall?sslmode=require", "postgres://recall@db.example.com:5432/recall?sslmode=require"},
		{"postgresql://recall@db/recall", "postgresql://recall@db/recall"},
		{"postgres://db/recall?password=s3cret&sslmode=disable&sslpassword=x", "postgres://db/recall?sslmode=disable"},
		{"postgres://:s3cret@db/recall", "postgres://@db/recall"},
	} {
		got, err := StripPassword(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("StripPassword(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
		if HasPassword(got) {
			t.Errorf("HasPassword(%q) = true", got)
		}
	}
	if !HasPassword("postgres://u:p@db/x") || HasPassword("postgres://u@db/x") {
		t.Error("HasPassword wrong")
	}
	if _, err := StripPassword("mysql://u:p@db/x"); err == nil {
		t.Error("StripPassword took a mysql:// URL")
	}
}

func TestSameState(t *testing.T) {
	base := "postgres://recall@db.example.com/recall?sslmode=disable"
	for _, tc := range []struct {
		other string
		same  bool
	}{
		{base, true},
		{"postgresql://recall@db.example.com/recall?sslmode=disable", true},
		{"POSTGRES://recall:s3cret@DB.example.com:5432/recall", true},
		{"postgres://other:pw@db.example.com/recall?connect_timeout=5&sslmode=disable", true},
		{"postgres://recall@db.example.com/recall?schema=recall", true},
		{"postgres://recall@db.example.com/recall?schema=recall_eu", false},
		{"postgres://recall@db.example.com/other", false},
		{"postgres://recall@db.example.com:5433/recall", false},
		{"postgres://recall@db2.example.com/recall", false},
		{"recall.state.json", false},
	} {
		if got := SameState(base, tc.other); got != tc.same {
			t.Errorf("SameState(%q, %q) = %v, want %v", base, tc.other, got, tc.same)
		}
	}
}
