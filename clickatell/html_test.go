package clickatell

import "testing"

// TestHTMLTitle: an HTML page is quoted by its title, or failing that by
// its first text (no tags, scripts, styles or comments), short and safe.
func TestHTMLTitle(t *testing.T) {
	tests := []struct{ page, want string }{
		{"<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1></body></html>", "502 Bad Gateway"},
		{"<!DOCTYPE html><html><head><style>h1{color:red}</style><script>var x = '<b>';</script></head><body><!-- note --><h1>Welcome to nginx!</h1></body></html>", "Welcome to nginx!"},
		{"<html><body><p>Access&nbsp;denied &amp; logged\x07</p>", "Access denied & logged?"},
		{"<html><body><p>Bearer " + testToken + "</p>", "Bearer [REDACTED]"},
		{"<html><body>" + string(make([]byte, 0)) + "<p>" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</p>", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa…"},
		{"<html><body></body></html>", "<html><body></body></html>"},
	}
	for _, tt := range tests {
		if got := htmlTitle([]byte(tt.page), testToken); got != tt.want {
			t.Errorf("htmlTitle(%.40q) = %q, want %q", tt.page, got, tt.want)
		}
	}
}
