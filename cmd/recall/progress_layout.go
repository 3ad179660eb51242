package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/recallhq/recall/reconcile"
)

// Bar widths: the bar shrinks to fit the terminal, down to barMinWidth;
// below that it is left out.
const (
	barMaxWidth = 30
	barMinWidth = 10
	// defaultColumns is the width assumed when the terminal's is unknown.
	defaultColumns = 80
)

// stderrWidth is the width of the terminal on stderr; 0 if it is not one.
func stderrWidth() int {
	w, _, err := term.GetSize(int(os.Stderr.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// columns is the terminal's width: env's width func, else COLUMNS, else 0
// (unknown).
func (e *env) columns() int {
	if e.width != nil {
		if w := e.width(); w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(strings.TrimSpace(e.getenv("COLUMNS"))); err == nil && n > 0 {
		return n
	}
	return 0
}

// runeLen is how many columns s takes: recall's text is ASCII but for
// "…" and the group names' ASCII.
func runeLen(s string) int { return utf8.RuneCountInString(s) }

// cut shortens s to at most n columns, ending in "…" when cut.
func cut(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// rateText is a rate for people: "480", "1,200".
func rateText(r float64) string { return commas(int(math.Round(r))) }

// within formats a time left: "45s", "3m10s", "1h05m", "2d03h".
func within(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	}
	return fmt.Sprintf("%dd%02dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
}

// deadlineText says how the run stands against its next deadline:
// "next deadline black-friday in 3m10s, on track" or "... behind: ~1,200
// may go out first".
func deadlineText(d *reconcile.DeadlineStatus) string {
	s := fmt.Sprintf("next deadline %s in %s, ", d.Group, within(d.In.Duration()))
	if d.OnTrack {
		return s + "on track"
	}
	return s + fmt.Sprintf("behind: ~%s may go out first", commas(d.Behind))
}

// deadlineShort is deadlineText for a narrow terminal: "black-friday
// 3m10s ok", "black-friday 3m10s ~1,200 late", the group cut to n
// columns.
func deadlineShort(d *reconcile.DeadlineStatus, n int) string {
	s := cut(d.Group, n) + " " + within(d.In.Duration())
	if d.OnTrack {
		return s + " ok"
	}
	return s + " ~" + commas(d.Behind) + " late"
}

// deadlineTiny is deadlineShort without the group: "deadline 3m10s ok".
func deadlineTiny(d *reconcile.DeadlineStatus) string {
	s := "deadline " + within(d.In.Duration())
	if d.OnTrack {
		return s + " ok"
	}
	return s + " ~" + commas(d.Behind) + " late"
}

// barLine lays out the progress bar line in at most limit columns. It
// gives up, in turn, the long deadline text, the rate, the ETA, the word
// "Cancelling", the bar, the deadline's group and the counts but the
// percentage before it cuts the line: how far the run is, what failed and
// the deadline are what matter most when racing the clock.
func barLine(limit int, doing string, p *reconcile.ProgressEvent) string {
	done, total := p.Done(), p.Total
	pct := 100
	if total > 0 {
		pct = 100 * done / total
	}
	counts := fmt.Sprintf("%s/%s %3d%%", commas(done), commas(total), pct)
	rate := rateText(p.Rate) + "/s"
	eta := "ETA --m--s"
	if p.ETA > 0 {
		eta = "ETA " + clock(p.ETA.Duration())
	}
	failed := ""
	if p.Failed > 0 {
		failed = commas(p.Failed) + " failed"
	}
	var deadline [4]string // long, short with the whole group name, short, tiny
	if d := p.NextDeadline; d != nil {
		deadline = [4]string{deadlineText(d), deadlineShort(d, 64), deadlineShort(d, 16), deadlineTiny(d)}
	}
	type layout struct {
		doing, bar, rate, eta, pctOnly bool
		deadline                       int // index in deadline
	}
	layouts := []layout{
		{doing: true, bar: true, rate: true, eta: true, deadline: 0},
		{doing: true, bar: true, rate: true, eta: true, deadline: 1},
		{doing: true, bar: true, eta: true, deadline: 1},
		{doing: true, bar: true, rate: true, eta: true, deadline: 2},
		{doing: true, bar: true, eta: true, deadline: 2},
		{doing: true, bar: true, deadline: 2},
		{bar: true, deadline: 2},
		{deadline: 2},
		{deadline: 3},
		{pctOnly: true, deadline: 3},
	}
	var line string
	for _, l := range layouts {
		parts := []string{counts}
		if l.pctOnly {
			parts[0] = fmt.Sprintf("%d%%", pct)
		}
		if l.rate {
			parts = append(parts, rate)
		}
		if l.eta {
			parts = append(parts, eta)
		}
		if failed != "" {
			parts = append(parts, failed)
		}
		if d := deadline[l.deadline]; d != "" {
			parts = append(parts, d)
		}
		tail := strings.Join(parts, " | ")
		head := ""
		if l.doing {
			head = doing + " "
		}
		if l.bar {
			room := limit - runeLen(head+"[] "+tail)
			if room < barMinWidth {
				continue
			}
			return head + "[" + barDrawing(min(room, barMaxWidth), done, total) + "] " + tail
		}
		line = head + tail
		if runeLen(line) <= limit {
			return line
		}
	}
	return cut(line, limit)
}

// barDrawing is the bar itself, width columns: "=====>    ".
func barDrawing(width, done, total int) string {
	filled := width
	if total > 0 {
		filled = width * done / total
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return bar
}

// wrap breaks s at spaces into lines of at most width-1 columns, the
// lines after the first indented by indent; a word longer than a line is
// cut. width <= 0: s as it is.
func wrap(s string, width int, indent string) string {
	if width <= 0 {
		return s
	}
	limit := max(width-1, runeLen(indent)+10)
	var b strings.Builder
	n := 0
	var words []string
	for _, word := range strings.Fields(s) {
		// A word longer than a line (a long group name) is cut in pieces.
		for room := limit - runeLen(indent); runeLen(word) > room; {
			r := []rune(word)
			words = append(words, string(r[:room]))
			word = string(r[room:])
		}
		words = append(words, word)
	}
	for i, word := range words {
		w := runeLen(word)
		switch {
		case i == 0:
		case n+1+w > limit:
			b.WriteString("\n" + indent)
			n = runeLen(indent)
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += w
	}
	return b.String()
}
