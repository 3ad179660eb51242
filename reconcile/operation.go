package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/recallhq/recall/state"
)

// Operation is one 'recall apply' from the state lock to the last write:
// what the engine does itself (lock, read, stale check, run, save) and the
// callbacks for what only its caller knows (how to show a plan, how to ask
// for confirmation, what to do with signals). Run it with ApplyOperation.
type Operation struct {
	// Backend is the state to lock, read and write.
	Backend state.Backend
	// LockTimeout is how long to wait for a lock held by someone else.
	LockTimeout time.Duration

	// Plan is a saved plan, applied if the state read under the lock has
	// not changed since it was made (Plan.CheckStale). Without it, NewPlan
	// makes one from that state.
	Plan    *Plan
	NewPlan func(st *state.State) (*Plan, error)

	// NoChanges is called, instead of a run, for a plan with nothing to do.
	NoChanges func(p *Plan)
	// ShowPlan renders a plan made by NewPlan before Confirm is asked.
	ShowPlan func(p *Plan) error
	// Confirm is asked for a plan made by NewPlan (not a saved plan, not a
	// refresh) before anything is sent; an error stops the operation with
	// nothing sent. Nil: no confirmation.
	Confirm func(p *Plan) error

	// ConfirmRefresh, for a refresh (Options.RefreshOnly set) that is to
	// be confirmed: every status is asked first with nothing written,
	// then ConfirmRefresh sees what was found; nil from it records
	// exactly that, an error stops with nothing recorded (the operation
	// returns that result and the error). Nil: the refresh records as
	// answers arrive, like an apply.
	ConfirmRefresh func(p *Plan, found *ApplyResult) error

	// Started is called once the plan is confirmed, right before the run
	// sends its first call, with the state and plan it runs. It returns
	// the run's context (its cancellation is a hard stop), its interrupt
	// (closed: no new calls, those in flight finish) and a func called
	// when the run returns. Nil: ctx, no interrupt.
	Started func(ctx context.Context, st *state.State, p *Plan) (runCtx context.Context, interrupt <-chan struct{}, done func())
	// HardStopped reports whether the run was stopped at once: the lock
	// is then released within Options.StopGrace, or left to the backend.
	HardStopped func() bool
	// Warn is told what went wrong after the outcome was decided: a lock
	// that could not be released.
	Warn func(err error)

	// Options are the run's; their State and Interrupt are set by the
	// operation.
	Options ApplyOptions
}

// LockFailedError is the error of an operation that could not take the
// state's lock.
type LockFailedError struct{ Err error }

func (e *LockFailedError) Error() string { return e.Err.Error() }
func (e *LockFailedError) Unwrap() error { return e.Err }

// ApplyOperation runs op: it locks the state, reads it, plans (or checks
// the saved plan is not stale), confirms, runs the plan through stopper
// (Apply, or a refresh), saves, and releases the lock. It returns nil and
// no error when there was nothing to do (after op.NoChanges), and Apply's
// result and errors otherwise; a state that could not be saved is a
// *SaveError carrying it, for the caller to put elsewhere.
func ApplyOperation(ctx context.Context, stopper Stopper, op Operation) (res *ApplyResult, err error) {
	lock, err := state.LockWithContext(ctx, op.Backend, state.LockRequest{Operation: "apply", Timeout: op.LockTimeout})
	if err != nil {
		return nil, &LockFailedError{Err: err}
	}
	defer func() {
		hard := op.HardStopped != nil && op.HardStopped()
		// A lock already lost has been reported with the failed save.
		if err := unlockWithin(lock, hard, op.stopGrace()); err != nil && !errors.Is(err, state.ErrLockLost) && op.Warn != nil {
			op.Warn(err)
		}
	}()

	st, err := op.Backend.Read(ctx)
	if err != nil {
		return nil, err
	}
	plan, fresh := op.Plan, false
	if plan == nil {
		if plan, err = op.NewPlan(st); err != nil {
			return nil, err
		}
		fresh = op.Options.RefreshOnly == nil
	}
	if op.Options.RefreshOnly != nil && op.ConfirmRefresh != nil {
		return op.confirmedRefresh(ctx, plan, st)
	}
	if !fresh {
		if err := plan.CheckStale(st); err != nil {
			return nil, err
		}
	}
	if !plan.HasChanges() {
		if op.NoChanges != nil {
			op.NoChanges(plan)
		}
		return nil, nil
	}
	if fresh {
		if op.ShowPlan != nil {
			if err := op.ShowPlan(plan); err != nil {
				return nil, err
			}
		}
		if op.Confirm != nil {
			if err := op.Confirm(plan); err != nil {
				return nil, err
			}
		}
	}

	opts := op.Options
	opts.State = st
	runCtx := ctx
	if op.Started != nil {
		var done func()
		runCtx, opts.Interrupt, done = op.Started(ctx, st, plan)
		defer done()
	}
	return Apply(runCtx, plan, op.Backend, stopper, opts)
}

// confirmedRefresh asks every status with nothing written, lets
// ConfirmRefresh see what was found, and records exactly that.
func (op *Operation) confirmedRefresh(ctx context.Context, plan *Plan, st *state.State) (*ApplyResult, error) {
	opts := op.Options
	opts.State = st
	found, err := Refresh(ctx, plan, op.Backend, opts.RefreshOnly, RefreshOptions{DryRun: true, ApplyOptions: opts})
	if err != nil {
		return found, err
	}
	if err := op.ConfirmRefresh(plan, found); err != nil {
		return found, err
	}
	start := time.Now()
	changes := found.Refresh.Changes
	if err := op.Backend.Commit(ctx, changes); err != nil {
		full := st.Clone()
		full.Apply(changes)
		full.Serial = st.Serial + 1
		return found, &SaveError{WriteFailure: WriteFailure{Location: op.Backend.String(), Err: err}, State: full}
	}
	found.Elapsed += time.Since(start)
	return found, nil
}

func (op *Operation) stopGrace() time.Duration {
	if op.Options.StopGrace > 0 {
		return op.Options.StopGrace
	}
	return DefaultStopGrace
}

// unlockWithin releases the lock; after a hard stop it waits at most
// grace, so that a backend that stopped answering cannot hold the exit
// (the server drops the lock with the connection).
func unlockWithin(lock state.Lock, hardStopped bool, grace time.Duration) error {
	if !hardStopped {
		return lock.Unlock()
	}
	done := make(chan error, 1)
	go func() { done <- lock.Unlock() }()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("the backend did not answer within %s; it releases the lock when the connection ends", grace)
	}
}
