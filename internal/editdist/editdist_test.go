package editdist

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "plan", 4},
		{"plan", "", 4},
		{"plan", "plan", 0},
		{"pln", "plan", 1},
		{"plam", "plan", 1},
		{"pnal", "plan", 2},
		{"palm", "plan", 2},
		{"lpan", "plan", 1},
		{"aplpy", "apply", 1},
		{"kitten", "sitting", 3},
		{"ids_form", "ids_from", 1},
		{"versoin", "version", 1},
		{"ca", "abc", 3},
		{"naïve", "naive", 1},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
		}
	}
}
