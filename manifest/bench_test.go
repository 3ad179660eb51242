package manifest

import (
	"bufio"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeIDs writes n distinct pseudo-random IDs, one a line, to path.
func writeIDs(tb testing.TB, path string, n int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(1, 2))
	var id [16]byte
	line := make([]byte, 33)
	line[32] = '\n'
	for i := 0; i < n; i++ {
		for j := 0; j < 16; j += 8 {
			v := r.Uint64()
			for k := 0; k < 8; k++ {
				id[j+k] = byte(v >> (8 * k))
			}
		}
		hex.Encode(line, id[:])
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkLoadIDsFrom1M loads a manifest whose one group reads 1,000,000
// IDs (33 MB) from an ids_from file.
func BenchmarkLoadIDsFrom1M(b *testing.B) {
	dir := b.TempDir()
	writeIDs(b, filepath.Join(dir, "ids.txt"), 1_000_000)
	path := filepath.Join(dir, "recall.yaml")
	if err := os.WriteFile(path, []byte("version: 1\ncancel:\n  - name: big\n    ids_from: ids.txt\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		m, err := Load(path)
		if err != nil {
			b.Fatal(err)
		}
		if n := len(m.Groups[0].IDs); n != 1_000_000 {
			b.Fatalf("got %d IDs", n)
		}
	}
}

// BenchmarkParseInline10k parses 10,000 IDs written in the YAML itself,
// for comparison with ids_from: YAML costs far more per ID.
func BenchmarkParseInline10k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\ncancel:\n  - name: big\n    ids:\n")
	path := filepath.Join(b.TempDir(), "ids.txt")
	writeIDs(b, path, 10_000)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		sb.WriteString("      - " + line + "\n")
	}
	manifest := sb.String()
	b.ReportAllocs()
	for b.Loop() {
		m, err := Parse(strings.NewReader(manifest), "recall.yaml")
		if err != nil {
			b.Fatal(err)
		}
		if n := len(m.Groups[0].IDs); n != 10_000 {
			b.Fatalf("got %d IDs", n)
		}
	}
}
