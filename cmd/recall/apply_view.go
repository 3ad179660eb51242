package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/recallhq/recall/reconcile"
)

// Progress cadence by output: a bar is redrawn often, plain lines and JSON
// progress events are kept sparse.
const (
	barInterval  = 200 * time.Millisecond
	lineInterval = 10 * time.Second
	jsonInterval = time.Second
	barWidth     = 30
)

// applyView renders an apply's events: a progress bar on a terminal,
// "Still cancelling..." lines otherwise, or one JSON object per line.
// Its methods may be called from the engine's goroutine and from the
// signal handler at once.
type applyView struct {
	mu    sync.Mutex
	e     *env
	json  bool
	color bool
	// bar is set when a progress bar is drawn on stderr.
	bar   bool
	drawn bool // a bar line is on screen
	// enc writes JSON events to bw, which is flushed after every event
	// but the per-message ones (a million of those make a million writes
	// otherwise), and at the end.
	enc *json.Encoder
	bw  *bufio.Writer
	// refresh is set for apply -refresh-only.
	refresh bool
}

func newApplyView(e *env, a *applyArgs) *applyView {
	v := &applyView{e: e, json: a.format == "json", color: a.common.useColor(e), refresh: a.refreshOnly}
	if v.json {
		v.bw = bufio.NewWriterSize(e.stdout, 64<<10)
		v.enc = json.NewEncoder(v.bw)
	} else {
		v.bar = isTerminal(e.stderr) && e.getenv("TERM") != "dumb"
	}
	return v
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (v *applyView) progressInterval() time.Duration {
	switch {
	case v.json:
		return jsonInterval
	case v.bar:
		return barInterval
	}
	return lineInterval
}

// event renders one engine event.
func (v *applyView) event(ev reconcile.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json {
		if d := ev.Diagnostic; d != nil && d.Err != nil {
			// The CLI's advice goes in the detail, as on stderr.
			dd := *d
			dd.Detail = diagnosticDetail(d)
			ev.Diagnostic = &dd
		}
		v.enc.Encode(ev)
		if ev.Type != reconcile.EventMessage {
			v.bw.Flush()
		}
		return
	}
	switch ev.Type {
	case reconcile.EventApplyStart:
		s := ev.Start
		limits := fmt.Sprintf("at most %d at a time", s.Parallelism)
		if s.Rate > 0 {
			limits += fmt.Sprintf(", %g per second", s.Rate)
		}
		fmt.Fprintf(v.e.stdout, "%s %s (%s)...\n", v.doing(), messages(s.Total), limits)
	case reconcile.EventProgress:
		p := ev.Progress
		if v.bar {
			v.drawBar(p)
			return
		}
		fmt.Fprintf(v.e.stdout, "Still %s... %d/%d (%.0f/s, %s elapsed)\n", strings.ToLower(v.doing()), p.Done(), p.Total, p.Rate, clock(p.Elapsed.Duration()))
	case reconcile.EventDiagnostic:
		v.clearBar()
		fmt.Fprintln(v.e.stderr, diagnosticLine(ev.Diagnostic))
	}
}

// drawBar redraws the progress bar in place.
func (v *applyView) drawBar(p *reconcile.ProgressEvent) {
	done, total := p.Done(), p.Total
	filled := 0
	pct := 100
	if total > 0 {
		filled = barWidth * done / total
		pct = 100 * done / total
	}
	bar := strings.Repeat("=", filled)
	if filled < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-filled-1)
	}
	eta := "--m--s"
	if p.ETA > 0 {
		eta = clock(p.ETA.Duration())
	}
	line := fmt.Sprintf("%s [%s] %d/%d %3d%% | %.0f/s | ETA %s", v.doing(), bar, done, total, pct, p.Rate, eta)
	if p.Failed > 0 {
		line += fmt.Sprintf(" | %d failed", p.Failed)
	}
	fmt.Fprint(v.e.stderr, "\r\x1b[K"+line)
	v.drawn = true
}

func (v *applyView) clearBar() {
	if v.drawn {
		fmt.Fprint(v.e.stderr, "\r\x1b[K")
		v.drawn = false
	}
}

// finish removes the bar; the summary follows.
func (v *applyView) finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
	if v.bw != nil {
		v.bw.Flush()
	}
}

func (v *applyView) interrupting() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
	fmt.Fprintln(v.e.stderr, "Interrupt received: no new calls will be sent. Waiting for the calls in flight, then saving the state (interrupt again to stop at once)...")
}

func (v *applyView) stoppingNow() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
	fmt.Fprintln(v.e.stderr, "Second interrupt: abandoning the calls in flight; saving the state, or, if that does not finish within 2s, writing it to "+erroredStateFile+" (interrupt again to quit without saving)...")
}

// interrupted closes an interrupted run.
func (v *applyView) interrupted(remaining int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	msg := fmt.Sprintf("Interrupted: %s not yet cancelled; run apply again to finish.", messages(remaining))
	if v.json {
		v.enc.Encode(reconcile.Event{Type: reconcile.EventDiagnostic, Time: time.Now(), Diagnostic: &reconcile.DiagnosticEvent{
			Severity: reconcile.SeverityError,
			Summary:  msg,
		}})
		v.bw.Flush()
	}
	fmt.Fprintln(v.e.stderr, msg)
}

// noChanges says there is nothing to send.
func (v *applyView) noChanges(p *reconcile.Plan) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json {
		v.enc.Encode(reconcile.Event{Type: reconcile.EventSummary, Time: time.Now(), Summary: &reconcile.SummaryEvent{
			Failures: []reconcile.FailureGroup{},
			State:    p.State,
		}})
		v.bw.Flush()
		return
	}
	if err := renderHumanPlan(v.e, p, v.color); err != nil {
		fmt.Fprintln(v.e.stdout, planSummaryLine(p.Summary))
	}
}

// showPlan renders the plan about to be applied. In JSON the apply_start
// event says what will be sent, and the plan's warnings (past
// scheduled_at, -target) are diagnostic events, as they are lines on
// stderr in human output.
func (v *applyView) showPlan(p *reconcile.Plan) error {
	if !v.json {
		return renderHumanPlan(v.e, p, v.color)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	warn := func(msg string) {
		v.enc.Encode(reconcile.Event{Type: reconcile.EventDiagnostic, Time: time.Now(), Diagnostic: &reconcile.DiagnosticEvent{
			Severity: reconcile.SeverityWarning,
			Summary:  msg,
		}})
	}
	for _, w := range p.Warnings {
		warn(oneLine(w.Message, 1000))
	}
	if len(p.Targets) > 0 {
		warn(targetWarning(p))
	}
	return v.bw.Flush()
}

// summary prints the closing lines; saved says whether the state was
// saved. In JSON, the engine's summary event has said it all.
func (v *applyView) summary(r *reconcile.ApplyResult, saved bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.json || r == nil {
		return
	}
	if r.Refresh != nil {
		v.refreshSummary(r, saved)
		return
	}
	w := v.e.stdout
	head := applyHeadline(r, saved)
	if v.color {
		color := "\x1b[1;32m"
		if !r.Complete() || !saved {
			color = "\x1b[1;33m"
		}
		head = color + head + "\x1b[0m"
	}
	fmt.Fprintf(w, "\n%s Messages: %s cancelled, %s too late, %s not found%s, %s failed.\n", head,
		commas(r.Cancelled), commas(r.TooLate), commas(r.NotFound), notDelivered(r.NotDelivered), commas(r.Failed))
	if line := notCancelledLine(r); line != "" {
		fmt.Fprintf(w, "\n%s\n", line)
	}
	printFailures(w, "%s failed and will be tried again by the next apply:", r.Failures)
}

// jsonError reports an error as a diagnostic event, so that a consumer of
// -format json sees it in the stream as well as on stderr.
func (v *applyView) jsonError(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if ee, ok := err.(*exitError); ok {
		if ee.err == nil {
			return
		}
		err = ee.err
	}
	summary, detail := describe(err)
	v.enc.Encode(reconcile.Event{Type: reconcile.EventDiagnostic, Time: time.Now(), Diagnostic: &reconcile.DiagnosticEvent{
		Severity: reconcile.SeverityError,
		Summary:  summary,
		Detail:   detail,
	}})
	v.bw.Flush()
}

// clock formats d as 00m10s, or 1h02m10s past an hour.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	}
	return fmt.Sprintf("%02dm%02ds", m, s)
}

// messages says "1 message" or "4,500 messages".
func messages(n int) string { return plural(n, "message", "messages") }
