package reconcile

import (
	"fmt"
	"sync"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/outcome"
)

// The wrong-account guard. A token of another Clickatell account makes
// every message ID unknown to the API, and each answer, on its own, reads
// like a message that is really gone: recorded not_found, a whole run of
// live messages would never be tried again. So, until the first
// unknownWindow answers of a run have come in, answers that a message is
// unknown are held back (not counted, not reported, not written at
// checkpoints) for as long as every answer so far says so:
//
//   - one answer that is not "unknown" (cancelled, too late, any other
//     settled outcome) shows that the token sees the account's messages:
//     the held answers are recorded as they would have been, and the guard
//     is off for the rest of the run;
//   - unknownWindow answers in a row, all "unknown", stop the run (no new
//     calls; those in flight finish) with an *UnknownIDsError, and none of
//     them is recorded: the messages stay unsettled, and a rerun with the
//     right token tries them again. Unknown answers from the calls still in
//     flight are not recorded either; other settled answers are.
//
// A failed call is not an answer about its message (the API or the network
// failed, not the ID), so it neither trips nor clears the guard.
//
// A run of fewer messages than unknownWindow cannot tell a wrong token
// from messages that are really unknown: its answers are recorded, and a
// warning says so when every one of them was "unknown". ApplyOptions.
// AllowUnknownIDs turns the guard and that warning off.
type guard struct {
	// guardOn is set, before any call, when the run is large enough for
	// the guard and AllowUnknownIDs is not.
	guardOn bool

	// The verdict is reached by the workers, as each answer comes in, so
	// that the trip stops new calls at once (the collector may be some
	// results behind): the worker whose answer trips the guard stops the
	// run before it hands the answer on.
	guardMu sync.Mutex
	// guardVerdict is undecided until an answer that is not "unknown" clears
	// the guard, or unknownWindow "unknown" ones trip it.
	guardVerdict verdict
	// unknownSeen counts the unknown answers judged while undecided.
	unknownSeen int

	// Owned by the collector. held are the unknown answers held back, in arrival order.
	held []heldAnswer
	// answered and answeredUnknown count the answers of the run
	// (failures are not answers) and how many said the message is unknown.
	answered, answeredUnknown int
	// unknownIDs is set when the guard tripped and stopped the run.
	unknownIDs *UnknownIDsError
}

// verdict is the guard's decision for the run.
type verdict uint8

const (
	undecided verdict = iota
	cleared
	tripped
)

// heldAnswer is an unknown answer held back by the guard.
type heldAnswer struct {
	s  settled
	ev *MessageEvent
}

// UnknownIDsError is returned when every one of the first answers of a run
// said that the message ID is unknown to Clickatell: the run stopped, and
// none of those answers was recorded. The likely causes are another
// account's token, IDs from another system, or messages older than
// Clickatell keeps; ApplyOptions.AllowUnknownIDs records such answers
// anyway.
type UnknownIDsError struct {
	// Answers is how many answers in a row said "unknown" before the run
	// stopped: the guard's window, max(25, 2 × Parallelism).
	Answers int
	// Parallelism is the run's, which sets the window.
	Parallelism int
	// Remaining is how many messages were left unsettled.
	Remaining int
}

func (e *UnknownIDsError) Error() string {
	return fmt.Sprintf("the first %d answers all said the message ID is unknown to Clickatell, so the run stopped with none of them recorded: %s not yet cancelled.",
		e.Answers, countMessages(e.Remaining))
}

// UnknownIDsWarning is what the warning is about when every answer of a
// run too small for the guard's window said the message ID is unknown:
// the answers were recorded not_found, and may be wrong for the same
// reasons as an UnknownIDsError's.
type UnknownIDsWarning struct {
	// Recorded is how many messages were recorded not_found.
	Recorded int
}

func (e *UnknownIDsWarning) Error() string {
	return fmt.Sprintf("every answer of this run said the message ID is unknown to Clickatell (%s recorded not found)", countMessages(e.Recorded))
}

// unknownWindow is how many answers, all "unknown", stop the run: more than
// the calls in flight at once, as for giveUpAfter.
func (r *run) unknownWindow() int { return max(25, 2*r.opts.Parallelism) }

// judge counts an answer towards the guard's verdict; workers call it
// before handing the answer to the collector.
func (r *run) judge(res *clickatell.Result) {
	if !r.guardOn {
		return
	}
	r.guardMu.Lock()
	defer r.guardMu.Unlock()
	switch {
	case r.guardVerdict != undecided:
	case res.Outcome != outcome.NotFound:
		r.guardVerdict = cleared
	default:
		if r.unknownSeen++; r.unknownSeen >= r.unknownWindow() {
			r.guardVerdict = tripped
			r.stop()
		}
	}
}

func (r *run) decided() verdict {
	r.guardMu.Lock()
	defer r.guardMu.Unlock()
	return r.guardVerdict
}

// hold applies the guard to an answer (s.res set) in the collector and
// reports whether it was taken: held back, or dropped because the guard
// tripped. An answer not taken is for the caller to record.
func (r *run) hold(s settled, ev *MessageEvent) bool {
	unknown := s.res.Outcome == outcome.NotFound
	r.answered++
	if unknown {
		r.answeredUnknown++
	}
	if !r.guardOn {
		return false
	}
	switch r.decided() {
	case cleared:
		r.release()
		return false
	case tripped:
		// Neither the held answers nor an unknown answer from a call
		// that was still in flight is recorded: none is confirmed.
		r.trip()
		return unknown
	}
	// Undecided: every answer judged so far, this one included, was
	// unknown (an answer that is not clears the guard before it is
	// handed on).
	r.held = append(r.held, heldAnswer{s, ev})
	return true
}

// trip drops the held answers and sets the run's error.
func (r *run) trip() {
	r.held = nil
	if r.unknownIDs == nil {
		r.unknownIDs = &UnknownIDsError{Answers: r.unknownWindow(), Parallelism: r.opts.Parallelism}
	}
}

// release records the answers held back.
func (r *run) release() {
	for _, h := range r.held {
		r.record(h.s, h.ev)
	}
	r.held = nil
}

// endGuard settles the guard once every result is in, before the final
// write. Answers still held back (fewer than the window came in, every one
// "unknown") are recorded if every message of the run was tried, as for a
// run too small for the guard; if the run stopped early they are dropped:
// they stay unsettled, and the next run asks again.
func (r *run) endGuard() {
	switch r.decided() {
	case tripped:
		r.trip()
	case cleared:
		r.release()
	}
	if r.unknownIDs != nil || r.opts.AllowUnknownIDs || r.answered == 0 || r.answeredUnknown < r.answered {
		return
	}
	if len(r.held) > 0 {
		stoppedEarly := r.fatal != nil || r.gaveUp != nil || r.lockLost != nil ||
			r.counts.Done()+len(r.held) < r.counts.Total
		if stoppedEarly {
			n := len(r.held)
			r.held = nil
			r.emit(Event{Type: EventDiagnostic, Diagnostic: &DiagnosticEvent{
				Severity: SeverityWarning,
				Summary:  fmt.Sprintf("%s answered as unknown to Clickatell %s not recorded", countMessages(n), plural(n, "was", "were")),
				Detail: fmt.Sprintf("every answer of this run said the message ID is unknown, and the run stopped before %d answers had come in to tell another account's token from messages that are really gone; "+
					"they stay unsettled and the next apply asks again", r.unknownWindow()),
			}})
			return
		}
		r.release()
	}
	r.emit(Event{Type: EventDiagnostic, Diagnostic: &DiagnosticEvent{
		Severity: SeverityWarning,
		Summary:  fmt.Sprintf("Every answer of this run said the message ID is unknown to Clickatell (%s recorded not found)", countMessages(r.answeredUnknown)),
		Detail:   "the token may be another account's, the IDs may come from another system, or the messages may be older than Clickatell keeps (about six days after submission)",
		Err:      &UnknownIDsWarning{Recorded: r.answeredUnknown},
	}})
}
