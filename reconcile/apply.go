package reconcile

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/hashicorp/go-multierror"
	"golang.org/x/sync/errgroup"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/internal/intern"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
)

// Defaults for ApplyOptions, and for the apply command's flags.
const (
	DefaultParallelism        = 10
	DefaultMaxRetries         = 5
	DefaultCheckpointInterval = time.Second
	DefaultProgressInterval   = time.Second
	DefaultStopGrace          = 2 * time.Second
)

// MaxMessageErrors bounds ApplyResult.Errors, so that a run where every
// one of a million calls fails does not hold a million errors.
const MaxMessageErrors = 1000

// Stopper stops one scheduled message. *clickatell.Client satisfies it.
type Stopper interface {
	StopMessage(ctx context.Context, id string) (*clickatell.Result, error)
}

// ApplyOptions tunes Apply. The zero value is usable, except that
// MaxRetries is taken as given (0: no retries): callers wanting the
// default retry budget set DefaultMaxRetries.
type ApplyOptions struct {
	// Parallelism is the most calls in flight at once (default
	// DefaultParallelism).
	Parallelism int
	// Rate caps requests per second, retries included; 0: no cap.
	// Sustained throttling by the API lowers the rate below it either way.
	Rate float64
	// MaxRetries is how many retries may follow a message's first call.
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay tune the backoff between retries
	// (0: the clickatell.RetryPolicy defaults).
	RetryBaseDelay, RetryMaxDelay time.Duration

	// State is the state the plan was made from, as last returned by the
	// backend's Read under the caller's lock; nil makes Apply read it.
	State *state.State

	// CheckpointInterval is the longest time settled results wait before
	// they are written to state (default DefaultCheckpointInterval). When
	// a write takes longer than half of it, checkpoints are spaced further
	// apart so that writing never takes more than half the time.
	CheckpointInterval time.Duration
	// ProgressInterval is how often progress events are emitted (default
	// DefaultProgressInterval).
	ProgressInterval time.Duration

	// Interrupt, when closed, stops the run gracefully: no new calls, the
	// calls in flight are waited for, and state is saved. Cancelling the
	// context passed to Apply stops at once: calls in flight are abandoned
	// (their messages stay unsettled), and state writes get StopGrace more
	// to finish; one that has not (a backend that stopped answering) is
	// abandoned, and the state comes back in a *SaveError.
	Interrupt <-chan struct{}
	// StopGrace is how long state writes may still take once the context
	// is cancelled (default DefaultStopGrace).
	StopGrace time.Duration

	// RefreshOnly, when set, makes the run a refresh (see Refresh): each
	// message's status is read with it, and no stop call is sent.
	RefreshOnly StatusReader

	// OnEvent receives events, one at a time, from one goroutine. It should
	// return quickly: it runs on the goroutine that collects results.
	OnEvent func(Event)

	// Now is the clock for records and events (default time.Now).
	Now func() time.Time

	// AllowUnknownIDs turns off the wrong-account guard: answers that a
	// message is unknown are recorded not_found even when every answer of
	// the run says so (see UnknownIDsError).
	AllowUnknownIDs bool
}

// ApplyResult is what a run did.
type ApplyResult struct {
	Counts
	// Interrupted is set when the caller stopped the run early.
	Interrupted bool
	// Failures are the failed messages grouped by cause, largest first.
	Failures []FailureGroup
	// Errors holds one *MessageError per failed message, for the first
	// MaxMessageErrors failures (nil if none); Failures and Failed count
	// them all.
	Errors *multierror.Error
	// State is the state as last written (or as read, if nothing was).
	State StateRef
	// Elapsed is the run's duration, from its first call to its final
	// state write.
	Elapsed time.Duration
	// Refresh is what a refresh found; nil for an apply.
	Refresh *RefreshResult
	// Late counts, per group, the messages settled after the group's
	// deadline; nil if none (and for a refresh).
	Late []LateGroup
}

// Complete reports whether every message of the plan ended cancelled.
func (r *ApplyResult) Complete() bool {
	return r != nil && r.Cancelled == r.Total && !r.Interrupted
}

// MessageError is the failure of one message for this run.
type MessageError struct {
	// ID is the message.
	ID msgid.ID
	// Group is the manifest group that listed it.
	Group string
	// Attempts is how many calls were sent for it.
	Attempts int
	// Cause is the failure group it is counted in (FailureGroup.Cause).
	Cause string
	// Err is the last call's error.
	Err error
}

func (e *MessageError) Error() string {
	return fmt.Sprintf("message %s (group %s): %v (after %d %s)", e.ID, e.Group, e.Err, e.Attempts, plural(e.Attempts, "call", "calls"))
}

func (e *MessageError) Unwrap() error { return e.Err }

// FatalError is an answer that stops the whole run (a revoked token, a
// locked-down account): no further calls are sent.
type FatalError struct {
	// Err is the API's answer.
	Err error
	// Remaining is how many messages were left unsettled.
	Remaining int
}

func (e *FatalError) Error() string {
	msg := fmt.Sprintf("Clickatell refused the call, so the run stopped with no further calls: %v", e.Err)
	if e.Remaining > 0 {
		msg += fmt.Sprintf(". %s not yet cancelled; run apply again once this is fixed", countMessages(e.Remaining))
	}
	return msg + "."
}

func (e *FatalError) Unwrap() error { return e.Err }

// GaveUpError is returned when so many messages failed in a row, none
// settling in between, that the API or the network is taken to be down:
// the run stops instead of spending every message's retries on it.
type GaveUpError struct {
	// Failed is how many messages failed in a row.
	Failed int
	// Cause is the last one's cause.
	Cause string
	// Err is the last one's error.
	Err error
	// Remaining is how many messages were left unsettled.
	Remaining int
}

func (e *GaveUpError) Error() string {
	return fmt.Sprintf("the last %s messages all failed, none settling in between (the last: %s), so the run stopped rather than work through the rest. %s not yet cancelled.",
		FormatCount(e.Failed), e.Cause, countMessages(e.Remaining))
}

func (e *GaveUpError) Unwrap() error { return e.Err }

// giveUpAfter is how many messages failing in a row stop the run: more
// than the calls in flight at once, so that one bad moment does not.
func (r *run) giveUpAfter() int { return max(25, 2*r.opts.Parallelism) }

// WriteFailure is a state write that failed: where, why, and how many
// messages the run left unsettled because it stopped there (0 when it did
// not stop early). SaveError and CheckpointError carry one.
type WriteFailure struct {
	// Location is the backend's String().
	Location string
	// Err is the write's error.
	Err error
	// Remaining is how many messages were left unsettled.
	Remaining int
}

func (w WriteFailure) Unwrap() error { return w.Err }

// located is the error after the location it happened at, said once: some
// backend errors begin with their location already (state.Located).
func (w WriteFailure) located() string {
	if l, ok := w.Err.(state.Located); ok && l.LocationFirst() {
		return w.Err.Error()
	}
	return w.Location + ": " + w.Err.Error()
}

// SaveError is returned when the final state write failed, when a
// checkpoint failed and so did the final write after it, or when the
// state's lock was lost during the run (Err wraps state.ErrLockLost). In
// the last two cases the run stopped at that checkpoint, sending no
// further calls, and Remaining says how many messages it left. State is
// the whole state that should have been written (lineage kept, serial one
// past the last write that succeeded), for the caller to save elsewhere.
type SaveError struct {
	WriteFailure
	// State is the unsaved state.
	State *state.State
}

func (e *SaveError) Error() string {
	msg := "failed to save state to " + e.located()
	if e.Remaining > 0 {
		msg += fmt.Sprintf(". The run stopped there, with no further calls: %s not yet cancelled", countMessages(e.Remaining))
	}
	return msg
}

// CheckpointError is returned when a checkpoint could not be written, so
// the run stopped sending calls, but the final write after it succeeded:
// every answer received is in the state.
type CheckpointError struct {
	WriteFailure
}

func (e *CheckpointError) Error() string {
	return fmt.Sprintf("a state checkpoint could not be written (%s), so the run stopped with no further calls; the final write then succeeded, so every answer received is saved. %s not yet cancelled: run apply again",
		e.located(), countMessages(e.Remaining))
}

// errNotSent marks an attempt skipped because the run is stopping.
var errNotSent = errors.New("not sent: the run is stopping")

// settled is one worker's answer about one message.
type settled struct {
	idx   int32
	res   *clickatell.Result // nil on failure
	err   error
	calls int
	// unsettled: neither settled nor failed; the run stopped first.
	unsettled bool
	// fatal is an answer that stops the whole run (clickatell.Stop).
	fatal error
}

// Apply sends the plan's cancellations through stopper and records every
// settled message in backend as results arrive. The caller holds the
// state's lock for the whole call.
//
// It returns an error, with nothing sent, for a stale plan
// (*StaleError, from Plan.CheckStale) or a state that cannot be read; with the run stopped
// early, for a fatal API answer (*FatalError) or a run whose first answers
// all said the messages are unknown (*UnknownIDsError); and, after the run, for a
// final state write that failed (*SaveError, carrying the unsaved state).
// A checkpoint that finds the state's lock lost (state.ErrLockLost) stops
// the run like a fatal answer, and Apply returns a *SaveError wrapping it.
// Failed messages are not errors of Apply: they are in the result.
func Apply(ctx context.Context, plan *Plan, backend state.Backend, stopper Stopper, opts ApplyOptions) (*ApplyResult, error) {
	if opts.RefreshOnly != nil {
		return Refresh(ctx, plan, backend, opts.RefreshOnly, RefreshOptions{ApplyOptions: opts})
	}
	return apply(ctx, plan, backend, stopper, opts, nil)
}

// apply is Apply, or with rf a refresh (see Refresh).
func apply(ctx context.Context, plan *Plan, backend state.Backend, stopper Stopper, opts ApplyOptions, rf *refreshRun) (*ApplyResult, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = DefaultParallelism
	}
	if opts.MaxRetries < 0 {
		return nil, fmt.Errorf("max retries must be 0 or more, got %d", opts.MaxRetries)
	}
	if opts.Rate < 0 {
		return nil, fmt.Errorf("rate must be 0 (no cap) or more, got %g", opts.Rate)
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = DefaultCheckpointInterval
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = DefaultProgressInterval
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OnEvent == nil {
		opts.OnEvent = func(Event) {}
	}

	st := opts.State
	if st == nil {
		var err error
		if st, err = backend.Read(ctx); err != nil {
			return nil, err
		}
	}
	if err := plan.CheckStale(st); err != nil {
		return nil, err
	}

	r := &run{
		plan:    plan,
		backend: backend,
		stopper: stopper,
		refresh: rf,
		opts:    opts,
		st:      st,
		serial:  st.Serial,
		interns: intern.Table{},
		groups:  map[string]*FailureGroup{},
	}
	r.counts.Total = len(plan.Changes)
	r.guardOn = !opts.AllowUnknownIDs && r.counts.Total >= r.unknownWindow()
	if rf == nil {
		r.initClock()
	}
	return r.run(ctx)
}

// run is one Apply in progress.
type run struct {
	plan    *Plan
	backend state.Backend
	stopper Stopper
	opts    ApplyOptions
	// refresh is set for a refresh: status queries instead of stop calls.
	refresh *refreshRun

	// fatal is the first answer that stopped the run: the error of the
	// workers' group, set once they are all done and read by the
	// collector after that.
	fatal error

	// Owned by the collector.
	st        *state.State
	serial    uint64 // serial after the last successful write
	counts    Counts
	start     time.Time
	interns   intern.Table
	groups    map[string]*FailureGroup
	groupSeq  []string // causes in first-seen order
	errs      *multierror.Error
	pending   []state.Change // settled, not yet handed to the writer
	unwritten []state.Change // handed to a write that failed; retried
	samples   []sample       // recent progress samples, for the rate
	// saveFailed is the first checkpoint error (other than a lost lock):
	// the run stops (through stop) rather than let unsaved answers pile up.
	saveFailed error
	// failStreak counts messages failed in a row; at giveUpAfter the run
	// stops (gaveUp) through stop, which ends new calls.
	failStreak int
	gaveUp     *GaveUpError
	stop       context.CancelFunc
	// lockLost is the checkpoint error that said the state's lock was
	// taken away: the run stops (through stop) and writes no more.
	lockLost error
	// The wrong-account guard (apply_guard.go).
	guard
	// clock follows the groups against their deadlines (apply_clock.go);
	// unset for a refresh.
	clock runClock
}

type sample struct {
	at   time.Time
	done int
}

func (r *run) emit(ev Event) {
	ev.Time = r.opts.Now()
	r.opts.OnEvent(ev)
}

func (r *run) ref() StateRef {
	if r.serial == 0 {
		return StateRef{}
	}
	return StateRef{Lineage: r.st.Lineage, Serial: r.serial}
}

// inOrder yields the indexes of the plan's changes in order's order
// without sorting them one by one: a plan's changes come in runs that
// share a group's ScheduledAt, so it sorts the runs (stably, as order
// sorts the changes) and yields each run's indexes in turn. The first
// call can then leave before a million indexes are sorted.
func inOrder(changes []Change) iter.Seq[int] {
	type span struct{ from, to int }
	var spans []span
	for i := range changes {
		if len(spans) > 0 && changes[i].ScheduledAt == changes[i-1].ScheduledAt {
			spans[len(spans)-1].to = i + 1
			continue
		}
		spans = append(spans, span{i, i + 1})
	}
	slices.SortStableFunc(spans, func(a, b span) int {
		return CompareDeadlines(changes[a.from].ScheduledAt, changes[b.from].ScheduledAt)
	})
	return func(yield func(int) bool) {
		for _, sp := range spans {
			for i := sp.from; i < sp.to; i++ {
				if !yield(i) {
					return
				}
			}
		}
	}
}

func (r *run) run(ctx context.Context) (*ApplyResult, error) {
	p := r.opts.Parallelism
	r.emit(Event{Type: EventApplyStart, Start: &StartEvent{
		Total:       r.counts.Total,
		Parallelism: p,
		Rate:        r.opts.Rate,
		MaxRetries:  r.opts.MaxRetries,
		State:       r.ref(),
		RefreshOnly: r.refresh != nil,
	}})

	policy := clickatell.RetryPolicy{
		MaxRetries: r.opts.MaxRetries,
		BaseDelay:  r.opts.RetryBaseDelay,
		MaxDelay:   r.opts.RetryMaxDelay,
		Throttle:   clickatell.NewThrottle(r.opts.Rate),
	}

	// The group runs the p workers, so at most p calls at once, and
	// carries the first fatal answer: the worker that got it returns it,
	// which cancels callCtx. callCtx ends calls in flight: a hard stop
	// (ctx) or a fatal answer. stopCtx ends new calls: all of that, or an
	// interrupt (which lets the calls in flight finish). The workers live
	// for the whole run, not one a message: a goroutine a message grew a
	// fresh stack for every answer it decoded (a tenth of apply's CPU over
	// a million messages).
	g, callCtx := errgroup.WithContext(ctx)
	stopCtx, stop := context.WithCancel(callCtx)
	defer stop()
	r.stop = stop
	if r.opts.Interrupt != nil {
		go func() {
			select {
			case <-r.opts.Interrupt:
				stop()
			case <-stopCtx.Done():
			}
		}()
	}

	next := make(chan int32)
	go func() {
		defer close(next)
		for i := range inOrder(r.plan.Changes) {
			if r.stopping(stopCtx) {
				return
			}
			select {
			case next <- int32(i):
			case <-stopCtx.Done():
				return
			}
		}
	}()
	results := make(chan settled, 4*p)
	for range p {
		g.Go(func() error {
			for i := range next {
				s, ok := r.cancelOne(callCtx, stopCtx, policy, i)
				if ok {
					results <- s
				}
				if s.fatal != nil {
					return s.fatal
				}
			}
			return nil
		})
	}
	go func() {
		// The first fatal answer, if any; written before results is
		// closed, so the collector sees it.
		r.fatal = g.Wait()
		close(results)
	}()

	r.start = r.opts.Now()
	saveErr := r.collect(ctx, results)

	res := &ApplyResult{
		Counts:      r.counts,
		Interrupted: r.interrupted(ctx) && r.fatal == nil && r.gaveUp == nil && r.lockLost == nil && r.unknownIDs == nil && r.saveFailed == nil && r.counts.Done() < r.counts.Total,
		Failures:    r.failureGroups(),
		Errors:      r.errs,
		State:       r.ref(),
		Elapsed:     r.opts.Now().Sub(r.start),
		Late:        r.lateGroups(),
	}
	sum := &SummaryEvent{
		Counts:      res.Counts,
		Elapsed:     Seconds(res.Elapsed),
		Interrupted: res.Interrupted,
		Failures:    res.Failures,
		State:       res.State,
		Late:        res.Late,
	}
	var err error
	switch {
	case r.fatal != nil:
		err = &FatalError{Err: r.fatal, Remaining: res.Remaining()}
		sum.Stopped = err.Error()
	case r.gaveUp != nil:
		r.gaveUp.Remaining = res.Remaining()
		err = r.gaveUp
		sum.Stopped = err.Error()
	case r.unknownIDs != nil:
		r.unknownIDs.Remaining = res.Remaining()
		err = r.unknownIDs
		sum.Stopped = err.Error()
	case r.lockLost != nil:
		sum.Stopped = fmt.Sprintf("the state lock was lost, so the run stopped with no further calls: %s not yet cancelled", countMessages(res.Remaining()))
	case r.saveFailed != nil:
		sum.Stopped = fmt.Sprintf("a state checkpoint could not be written, so the run stopped with no further calls: %s not yet cancelled", countMessages(res.Remaining()))
		if saveErr == nil {
			err = &CheckpointError{WriteFailure{Location: r.backend.String(), Err: r.saveFailed, Remaining: res.Remaining()}}
		}
	}
	var se *SaveError
	if (r.lockLost != nil || r.saveFailed != nil) && errors.As(saveErr, &se) {
		se.Remaining = res.Remaining()
	}
	if saveErr != nil {
		// The run's own outcome is less urgent than an unsaved state.
		err = saveErr
	}
	if r.refresh != nil {
		r.refreshDone(res, sum)
	}
	r.emit(Event{Type: EventSummary, Summary: sum})
	return res, err
}

// cancelOne sends the calls for change i. The result's unsettled flag is
// set when the message was not settled for a reason of the run's, not its
// own (the run stopped, or a fatal answer): it stays unsettled without
// being a failure. ok is false when no call was sent.
func (r *run) cancelOne(callCtx, stopCtx context.Context, policy clickatell.RetryPolicy, i int32) (s settled, ok bool) {
	if r.stopping(stopCtx) {
		return s, false
	}
	id := r.plan.Changes[i].ID.String()
	calls := 0
	var res *clickatell.Result
	_, err := policy.Do(stopCtx, func(context.Context) error {
		// The attempt's context is not used for the call: an interrupt
		// stops new calls but lets the ones in flight finish.
		if r.stopping(stopCtx) {
			return errNotSent
		}
		calls++
		var err error
		res, err = r.send(callCtx, id)
		return err
	})
	s = settled{idx: i, calls: calls}
	switch {
	case calls == 0:
		return s, false
	case err == nil && res != nil:
		s.res = res
		r.judge(res)
	case err == nil:
		s.err = errors.New("no answer")
	case clickatell.Classify(err) == clickatell.Stop:
		s.fatal = err // returned to the group, which ends the calls in flight
		s.unsettled = true
	case r.stopping(stopCtx) && (errors.Is(err, context.Canceled) || errors.Is(err, errNotSent) || clickatell.Classify(err) == clickatell.Retry):
		// Cut short by the stop: it would have been tried again.
		s.unsettled = true
	default:
		s.err = err
	}
	return s, true
}

// interrupted reports whether the caller stopped the run: an interrupt, or
// a hard stop (ctx). The group's own context cannot tell: it ends when the
// workers are done.
func (r *run) interrupted(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	select {
	case <-r.opts.Interrupt:
		return true
	default:
		return false
	}
}

// stopping reports whether new calls must not be sent. The interrupt is
// checked here as well as through stopCtx: the goroutine that turns it into
// a cancelled stopCtx may not have run yet, and no call may start once the
// caller has closed it.
// The test is interrupted's, on the stop context instead of the caller's.
func (r *run) stopping(stopCtx context.Context) bool { return r.interrupted(stopCtx) }

// collect receives results until the workers are done, checkpointing as it
// goes, and writes the final state. It returns a *SaveError if that fails.
func (r *run) collect(ctx context.Context, results <-chan settled) error {
	// Writes outlive a hard stop (ctx) by StopGrace, then are abandoned.
	wctx, cancelWrites := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWrites()
	defer context.AfterFunc(ctx, func() {
		t := time.NewTimer(r.opts.StopGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cancelWrites()
		case <-wctx.Done():
		}
	})()
	w := newWriter(wctx, r.backend)
	defer w.close()

	progress := time.NewTicker(r.opts.ProgressInterval)
	defer progress.Stop()
	checkpoint := time.NewTimer(r.opts.CheckpointInterval)
	defer checkpoint.Stop()
	due := false // a checkpoint is due once the writer is free
	var lastWrite time.Duration

	for {
		select {
		case s, ok := <-results:
			if !ok {
				return r.finish(ctx, w)
			}
			r.settle(s)
		case <-progress.C:
			r.emitProgress()
		case <-checkpoint.C:
			due = true
		case res := <-w.done:
			w.busy = false
			lastWrite = res.took
			r.written(res)
			next := r.opts.CheckpointInterval
			if 2*lastWrite > next {
				next = 2 * lastWrite
			}
			next -= lastWrite
			checkpoint.Reset(next)
		}
		if due && !w.busy && r.lockLost == nil && r.saveFailed == nil && (len(r.pending) > 0 || len(r.unwritten) > 0) {
			due = false
			w.start(r.takeBatch())
		} else if due && !w.busy {
			due = false
			checkpoint.Reset(r.opts.CheckpointInterval)
		}
	}
}

// takeBatch hands pending changes (and any a failed write left behind) to
// the writer.
func (r *run) takeBatch() []state.Change {
	batch := r.pending
	if len(r.unwritten) > 0 {
		batch = append(r.unwritten, batch...)
		r.unwritten = nil
	}
	r.pending = nil
	return batch
}

// written handles a finished write.
func (r *run) written(res writeResult) {
	if res.err != nil {
		// Keep the changes for the next write: Commit applies them as
		// idempotent updates, so sending them again is harmless.
		r.unwritten = res.batch
		if errors.Is(res.err, state.ErrLockLost) {
			// Nothing more can be written: stop as for a fatal answer
			// (no new calls; those in flight are waited for), and let
			// finish hand the whole state back in a *SaveError.
			if r.lockLost == nil {
				r.lockLost = res.err
				r.stop()
			}
			return
		}
		if r.saveFailed == nil && r.lockLost == nil {
			// Answers that cannot be saved must not pile up: no new
			// calls; those in flight are waited for, and finish tries
			// one final write.
			r.saveFailed = res.err
			r.stop()
			r.emit(Event{Type: EventDiagnostic, Diagnostic: &DiagnosticEvent{
				Severity: SeverityError,
				Summary:  "Could not write a state checkpoint, so no new calls are sent; waiting for the calls in flight, then trying once more to save the state",
				Detail:   res.err.Error(),
			}})
		}
		return
	}
	r.serial = r.st.Serial
}

// finish writes what is left and returns a *SaveError if that fails.
// After a hard stop (ctx cancelled), a write that has not finished within
// StopGrace is abandoned.
func (r *run) finish(ctx context.Context, w *writer) error {
	if w.busy {
		r.written(w.wait())
	}
	r.endGuard()
	batch := r.takeBatch()
	err := r.lockLost
	if err == nil {
		if len(batch) == 0 {
			return nil
		}
		w.start(batch)
		res := w.wait()
		r.written(res)
		if res.err == nil {
			return nil
		}
		err = res.err
	}
	if ctx.Err() != nil && w.ctx.Err() != nil {
		err = fmt.Errorf("the run was stopped at once and the write did not finish within %s: %w", r.opts.StopGrace, err)
	}
	// Build the whole state as it should have been written, on a copy: the
	// backend owns r.st and may be used again. Its copy may or may not hold
	// some of the batch; applying it again is harmless.
	st := r.st.Clone()
	st.Apply(batch)
	st.Serial = r.serial + 1
	return &SaveError{WriteFailure: WriteFailure{Location: r.backend.String(), Err: err}, State: st}
}

// intern returns one shared copy of s: a million records share a handful
// of statuses and descriptions.
func (r *run) intern(s string) string { return r.interns.String(s) }

func (r *run) settle(s settled) {
	c := &r.plan.Changes[s.idx]
	r.counts.Calls += s.calls
	if r.refresh != nil && s.err == nil && s.res != nil && s.res.Outcome == outcome.Scheduled {
		r.refreshScheduled(s)
		return
	}
	if s.unsettled {
		return
	}
	if s.res != nil && !s.res.Outcome.Valid() {
		// A client that settles with an outcome we do not know is a bug;
		// count it as a failure rather than record nonsense.
		s.res, s.err = nil, fmt.Errorf("unexpected outcome %v", s.res.Outcome)
	}
	ev := &MessageEvent{ID: c.ID.String(), Group: c.Group, Attempts: s.calls}
	if s.err != nil {
		r.counts.Failed++
		cause := r.addFailure(c.ID, s.err)
		if r.errs == nil || r.errs.Len() < MaxMessageErrors {
			r.errs = multierror.Append(r.errs, &MessageError{ID: c.ID, Group: c.Group, Attempts: s.calls, Cause: cause, Err: s.err})
		}
		ev.Outcome, ev.Cause, ev.Error = "failed", cause, s.err.Error()
		r.finished(c)
		r.emit(Event{Type: EventMessage, Message: ev})
		if r.failStreak++; r.failStreak >= r.giveUpAfter() && r.gaveUp == nil {
			r.gaveUp = &GaveUpError{Failed: r.failStreak, Cause: cause, Err: s.err}
			r.stop()
		}
		return
	}
	r.failStreak = 0
	if r.hold(s, ev) {
		return
	}
	r.record(s, ev)
}

// record counts an answer that settled its message, queues its record for
// the next checkpoint and reports it.
func (r *run) record(s settled, ev *MessageEvent) {
	c := &r.plan.Changes[s.idx]
	out := s.res.Outcome
	switch out {
	case outcome.Cancelled:
		r.counts.Cancelled++
	case outcome.TooLate:
		r.counts.TooLate++
	case outcome.NotFound:
		r.counts.NotFound++
	case outcome.NotDelivered:
		r.counts.NotDelivered++
	}
	at := r.opts.Now()
	rec := &state.Record{
		Outcome:     out,
		Status:      r.intern(s.res.Status),
		Description: r.intern(s.res.Description),
		Group:       c.Group,
		At:          at.UTC().Truncate(time.Second),
	}
	if r.refresh != nil && !r.refreshRecord(s.idx, rec, ev) {
		return
	}
	r.settledAt(c, at, out == outcome.TooLate)
	r.pending = append(r.pending, state.Change{ID: c.ID, Record: rec})
	ev.Outcome, ev.Status, ev.Description = out.String(), rec.Status, rec.Description
	r.emit(Event{Type: EventMessage, Message: ev})
}

func (r *run) emitProgress() {
	now := r.opts.Now()
	done := r.counts.Done()
	r.samples = append(r.samples, sample{now, done})
	// Rate over roughly the last ten seconds.
	for len(r.samples) > 2 && now.Sub(r.samples[1].at) >= 10*time.Second {
		r.samples = r.samples[1:]
	}
	var rate float64
	from := sample{r.start, 0}
	if len(r.samples) > 1 && now.Sub(r.samples[0].at) > 0 {
		from = r.samples[0]
	}
	if dt := now.Sub(from.at).Seconds(); dt > 0 {
		rate = float64(done-from.done) / dt
	}
	var eta time.Duration
	if rate > 0 {
		eta = time.Duration(float64(r.counts.Total-done) / rate * float64(time.Second))
	}
	pace := rate // for the deadline: the rate measured, else the cap, else the default
	if pace <= 0 {
		pace = r.opts.Rate
	}
	r.emit(Event{Type: EventProgress, Progress: &ProgressEvent{
		Counts:       r.counts,
		Elapsed:      Seconds(now.Sub(r.start)),
		Rate:         rate,
		ETA:          Seconds(eta),
		NextDeadline: r.nextDeadline(now, pace),
	}})
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// countMessages formats n messages with thousands separators.
func countMessages(n int) string {
	return FormatCount(n) + " " + plural(n, "message", "messages")
}

// FormatCount formats n with comma thousands separators: 4,500.
func FormatCount(n int) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
