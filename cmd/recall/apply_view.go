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
)

// applyView renders an apply's events and closing lines: applyHuman (a
// progress bar on a terminal, "Still cancelling..." lines otherwise, a
// summary) or applyJSON (one JSON object per line). Its methods may be
// called from the engine's goroutine and from the signal handler at once.
type applyView interface {
	// progressInterval is how often the engine should report progress.
	progressInterval() time.Duration
	// event renders one engine event.
	event(ev reconcile.Event)
	// finish ends the run's live output (the bar); the summary follows.
	finish()
	// interrupting and stoppingNow say what the first and second
	// interrupt do.
	interrupting()
	stoppingNow()
	// interrupted closes an interrupted apply, remaining messages not yet
	// cancelled; refreshInterrupted an interrupted refresh, left not asked.
	interrupted(remaining int)
	refreshInterrupted(left int)
	// noChanges says there is nothing to send.
	noChanges(p *reconcile.Plan)
	// showPlan renders the plan about to be applied.
	showPlan(p *reconcile.Plan) error
	// summary prints the closing lines; saved says whether the state was
	// saved.
	summary(r *reconcile.ApplyResult, saved bool)
	// jsonError reports an error in the output stream, for a program
	// reading it (the error is printed on stderr as well, by Main).
	jsonError(err error)
}

// newApplyView returns apply's view for its -format.
func newApplyView(e *env, a *applyArgs) applyView {
	if a.format == "json" {
		bw := bufio.NewWriterSize(e.stdout, 64<<10)
		return &applyJSON{e: e, bw: bw, enc: json.NewEncoder(bw)}
	}
	return &applyHuman{
		e:       e,
		color:   a.common.useColor(e),
		refresh: a.refreshOnly,
		bar:     isTerminal(e.stderr) && e.getenv("TERM") != "dumb",
	}
}

// applyHuman renders an apply for people.
type applyHuman struct {
	mu    sync.Mutex
	e     *env
	color bool
	// bar is set when a progress bar is drawn on stderr.
	bar   bool
	drawn bool // a bar line is on screen
	// refresh is set for apply -refresh-only.
	refresh bool
}

// applyJSON renders an apply as one JSON event per line.
type applyJSON struct {
	mu sync.Mutex
	e  *env
	// enc writes JSON events to bw, which is flushed after every event
	// but the per-message ones (a million of those make a million writes
	// otherwise), and at the end.
	enc *json.Encoder
	bw  *bufio.Writer
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (v *applyHuman) progressInterval() time.Duration {
	if v.bar {
		return barInterval
	}
	return lineInterval
}

func (v *applyJSON) progressInterval() time.Duration { return jsonInterval }

func (v *applyJSON) event(ev reconcile.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
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
}

func (v *applyHuman) event(ev reconcile.Event) {
	v.mu.Lock()
	defer v.mu.Unlock()
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
		line := fmt.Sprintf("Still %s... %s/%s (%s/s, %s elapsed)", strings.ToLower(v.doing()), commas(p.Done()), commas(p.Total), rateText(p.Rate), clock(p.Elapsed.Duration()))
		if d := p.NextDeadline; d != nil {
			line += "; " + deadlineText(d)
		}
		fmt.Fprintln(v.e.stdout, wrap(line, v.outWidth(), "  "))
	case reconcile.EventDiagnostic:
		v.clearBar()
		fmt.Fprintln(v.e.stderr, v.fit(diagnosticLine(ev.Diagnostic)))
	}
}

// outWidth is the width lines on stdout wrap at: the terminal's, when
// stdout is one; 0 (no wrapping) otherwise.
func (v *applyHuman) outWidth() int {
	if !v.e.stdoutTTY {
		return 0
	}
	return v.e.columns()
}

// fit wraps a line for stderr at word boundaries when the bar is on (a
// terminal, whose own wrapping breaks words); off a terminal, lines stay
// whole for logs and grep.
func (v *applyHuman) fit(line string) string {
	if !v.bar {
		return line
	}
	w := v.e.columns()
	if w <= 0 {
		w = defaultColumns
	}
	return wrap(line, w, "  ")
}

// drawBar redraws the progress bar in place. The line is at most the
// terminal's width less one column: a line that fills or overflows it
// wraps, and "\r" then redraws only its last part, so that every redraw
// leaves a line behind and floods the screen.
func (v *applyHuman) drawBar(p *reconcile.ProgressEvent) {
	w := v.e.columns()
	if w <= 0 {
		w = defaultColumns
	}
	fmt.Fprint(v.e.stderr, "\r\x1b[K"+barLine(w-1, v.doing(), p))
	v.drawn = true
}

func (v *applyHuman) clearBar() {
	if v.drawn {
		fmt.Fprint(v.e.stderr, "\r\x1b[K")
		v.drawn = false
	}
}

func (v *applyHuman) finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
}

func (v *applyJSON) finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.bw.Flush()
}

// The interrupt lines go to stderr in both outputs.
const (
	interruptingLine = "Interrupt received: no new calls will be sent. Waiting for the calls in flight, then saving the state (interrupt again to stop at once)..."
	stoppingNowLine  = "Second interrupt: abandoning the calls in flight; saving the state, or, if that does not finish within 2s, writing it to " + erroredStateFile + " (interrupt again to quit without saving)..."
)

func (v *applyHuman) interrupting() { v.stderrLine(interruptingLine) }
func (v *applyHuman) stoppingNow()  { v.stderrLine(stoppingNowLine) }
func (v *applyJSON) interrupting()  { v.stderrLine(interruptingLine) }
func (v *applyJSON) stoppingNow()   { v.stderrLine(stoppingNowLine) }

func (v *applyJSON) stderrLine(msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.e.stderr, msg)
}

// stderrLine writes a line to stderr, past the bar.
func (v *applyHuman) stderrLine(msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.clearBar()
	fmt.Fprintln(v.e.stderr, v.fit(msg))
}

func interruptedLine(remaining int) string {
	return fmt.Sprintf("Interrupted: %s not yet cancelled; run apply again to finish.", messages(remaining))
}

func refreshInterruptedLine(left int) string {
	return fmt.Sprintf("Interrupted: %s not refreshed; what was answered is recorded. Run apply -refresh-only again to finish.", messages(left))
}

func (v *applyHuman) interrupted(remaining int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.e.stderr, interruptedLine(remaining))
}

func (v *applyHuman) refreshInterrupted(left int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintln(v.e.stderr, refreshInterruptedLine(left))
}

func (v *applyJSON) interrupted(remaining int) { v.closingError(interruptedLine(remaining)) }

func (v *applyJSON) refreshInterrupted(left int) { v.closingError(refreshInterruptedLine(left)) }

// closingError is an error diagnostic event, and the same line on stderr.
func (v *applyJSON) closingError(msg string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.enc.Encode(reconcile.Event{Type: reconcile.EventDiagnostic, Time: time.Now(), Diagnostic: &reconcile.DiagnosticEvent{
		Severity: reconcile.SeverityError,
		Summary:  msg,
	}})
	v.bw.Flush()
	fmt.Fprintln(v.e.stderr, msg)
}

func (v *applyHuman) noChanges(p *reconcile.Plan) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err := renderHumanPlan(v.e, p, v.color); err != nil {
		fmt.Fprintln(v.e.stdout, planSummaryLine(p.Summary))
	}
}

func (v *applyJSON) noChanges(p *reconcile.Plan) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.enc.Encode(reconcile.Event{Type: reconcile.EventSummary, Time: time.Now(), Summary: &reconcile.SummaryEvent{
		Failures: []reconcile.FailureGroup{},
		State:    p.State,
	}})
	v.bw.Flush()
}

func (v *applyHuman) showPlan(p *reconcile.Plan) error { return renderHumanPlan(v.e, p, v.color) }

// showPlan: in JSON the apply_start event says what will be sent, and the
// plan's warnings (past scheduled_at, -target) are diagnostic events, as
// they are lines on stderr in human output.
func (v *applyJSON) showPlan(p *reconcile.Plan) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	warn := func(msg, detail string) {
		v.enc.Encode(reconcile.Event{Type: reconcile.EventDiagnostic, Time: time.Now(), Diagnostic: &reconcile.DiagnosticEvent{
			Severity: reconcile.SeverityWarning,
			Summary:  msg,
			Detail:   detail,
		}})
	}
	for _, w := range p.Warnings {
		warn(oneLine(w.Message, 1000), w.Detail)
	}
	if len(p.Targets) > 0 {
		warn(targetWarning(p), "")
	}
	return v.bw.Flush()
}

// summary: in JSON, the engine's summary event has said it all.
func (v *applyJSON) summary(*reconcile.ApplyResult, bool) {}

func (v *applyHuman) summary(r *reconcile.ApplyResult, saved bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r == nil {
		return
	}
	if r.Refresh != nil {
		v.refreshSummary(r, saved)
		return
	}
	w := v.e.stdout
	head := applyHeadline(r, saved)
	// Wrapped as plain text (on a terminal), then the headline coloured.
	line := wrap(fmt.Sprintf("%s Messages: %s cancelled, %s too late, %s not found%s, %s failed.", head,
		commas(r.Cancelled), commas(r.TooLate), commas(r.NotFound), notDelivered(r.NotDelivered), commas(r.Failed)), v.outWidth(), "")
	if v.color && strings.HasPrefix(line, head) {
		color := "\x1b[1;32m"
		if !r.Complete() || !saved {
			color = "\x1b[1;33m"
		}
		line = color + head + "\x1b[0m" + line[len(head):]
	}
	fmt.Fprintf(w, "\n%s\n", line)
	if line := notCancelledLine(r); line != "" {
		fmt.Fprintf(w, "\n%s\n", line)
	}
	v.lateLines(r.Late)
	printFailures(w, "%s failed and will be tried again by the next apply:", r.Failures)
}

// jsonError: in human output, Main prints the error; nothing to add.
func (v *applyHuman) jsonError(error) {}

// jsonError reports an error as a diagnostic event, so that a consumer of
// -format json sees it in the stream as well as on stderr.
func (v *applyJSON) jsonError(err error) {
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

// lateLines say, per group, how many messages settled after the group's
// deadline: Clickatell may have delivered some of them first.
func (v *applyHuman) lateLines(late []reconcile.LateGroup) {
	if len(late) == 0 {
		return
	}
	n := 0
	for _, g := range late {
		n += g.Count
	}
	w := v.e.stdout
	width := v.outWidth()
	head := fmt.Sprintf("%s settled after %s deadline (scheduled_at less 5 minutes), when Clickatell may already deliver:",
		plural(n, "message", "messages"), map[bool]string{true: "its group's", false: "their group's"}[n == 1])
	fmt.Fprintf(w, "\n%s\n", wrap(head, width, ""))
	const maxGroups = 10
	for i, g := range late {
		if i == maxGroups {
			fmt.Fprintf(w, "  ... and %s\n", plural(len(late)-i, "more group", "more groups"))
			break
		}
		// Indented by two: wrapped two columns short, continued by four.
		fmt.Fprintf(w, "  %s\n", wrap(fmt.Sprintf("%s: %s (%s too late; deadline %s)", g.Group, commas(g.Count), commas(g.TooLate), g.Deadline.UTC().Format(time.RFC3339)), width-2, "    "))
	}
}
