package main

import (
	"fmt"
	"io"
	"slices"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	c, err := parseConfig([]string{"-quick"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.runs != 1 || c.n != 300 || len(c.planSizes) != 2 || len(c.sections) != 5 {
		t.Errorf("-quick: %+v", c)
	}
	c, err = parseConfig([]string{"-sections", "plan", "-plan-sizes", "1000, 20000", "-runs", "5"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.runs != 5 || len(c.sections) != 1 || c.planSizes[1] != 20000 {
		t.Errorf("flags: %+v", c)
	}
	c, err = parseConfig([]string{"-sections", "cap", "-cap-rows", "1000/0/64/3000, 50/1/64"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := []capRow{{1000, 0, 64, 3000}, {50, 1, 64, 0}}; !slices.Equal(c.capRows, want) {
		t.Errorf("-cap-rows: %+v, want %+v", c.capRows, want)
	}
	for _, bad := range [][]string{
		{"-cap-rows", "1000/0"},
		{"-cap-rows", "1000/0/64/3000/1"},
		{"-cap-rows", "a/0/64"},
		{"-cap-rows", "1000/0/0"},
		{"-cap-rows", "1000/-1/64"},
		{"-cap-rows", "1000/0/64/5"},
		{"-sections", "apply,nope"},
		{"-plan-sizes", "10,abc"},
		{"-plan-sizes", "5"},
		{"-rate", "0"},
		{"extra"},
	} {
		if _, err := parseConfig(bad, io.Discard); err == nil {
			t.Errorf("parseConfig(%q) accepted", bad)
		}
	}
}

func TestNewIDs(t *testing.T) {
	ids := newIDs(1000)
	seen := map[string]bool{}
	for _, id := range ids {
		if len(id) != 32 || seen[id] {
			t.Fatalf("bad or repeated ID %q", id)
		}
		seen[id] = true
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1000000: "1,000,000"} {
		if got := count(in); got != want {
			t.Errorf("count(%d) = %q, want %q", in, got, want)
		}
	}
	if got := ratio(30, 2); got != "15×" {
		t.Errorf("ratio(30, 2) = %q", got)
	}
	if got := ratio(1, 0); got != "-" {
		t.Errorf("ratio(1, 0) = %q", got)
	}
	runs := []time.Duration{3 * time.Second, 1 * time.Second, 2 * time.Second}
	if got := median(runs, func(d time.Duration) time.Duration { return d }); got != 2*time.Second {
		t.Errorf("median = %v", got)
	}
}

func TestSteadyRate(t *testing.T) {
	// 100 messages: the first half over 10 s (a slow ramp-up), the second
	// half 10 ms apart: the steady rate is 100/s, whatever the ramp did.
	var out []byte
	start := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	at := start
	for i := 0; i < 100; i++ {
		if i < 50 {
			at = at.Add(200 * time.Millisecond)
		} else {
			at = at.Add(10 * time.Millisecond)
		}
		out = append(out, fmt.Sprintf(`{"type":"message","time":%q,"message":{"id":"x","outcome":"cancelled"}}`+"\n", at.Format(time.RFC3339Nano))...)
	}
	out = append(out, `{"type":"summary","time":"2026-11-27T10:00:20Z","summary":{}}`+"\n"...)
	if got := readTiming(out).steady(); got < 99 || got > 101 {
		t.Errorf("steady = %.1f, want 100", got)
	}
	if got := readTiming([]byte(`{"type":"progress"}`)).steady(); got != 0 {
		t.Errorf("no message events: steady = %v, want 0", got)
	}
}
