package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/state"
)

// lockingBackend is a memBackend with a lock that counts its holders.
type lockingBackend struct {
	*memBackend
	lockErr  error
	locked   atomic.Int64
	unlocked atomic.Int64
}

type countingLock struct{ b *lockingBackend }

func (l countingLock) Unlock() error        { l.b.unlocked.Add(1); return nil }
func (l countingLock) Info() state.LockInfo { return state.LockInfo{} }

func (b *lockingBackend) Lock(context.Context, state.LockRequest) (state.Lock, error) {
	if b.lockErr != nil {
		return nil, b.lockErr
	}
	b.locked.Add(1)
	return countingLock{b}, nil
}

func TestApplyOperation_Confirm(t *testing.T) {
	errNo := errors.New("Apply cancelled.")
	errRead := errors.New("reading the answer: EOF")
	tests := []struct {
		name    string
		confirm func(*Plan) error
		wantErr error
		sent    int
	}{
		{name: "yes", confirm: func(*Plan) error { return nil }, sent: 3},
		{name: "no", confirm: func(*Plan) error { return errNo }, wantErr: errNo},
		{name: "error", confirm: func(*Plan) error { return errRead }, wantErr: errRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &lockingBackend{memBackend: newMemBackend()}
			var sent atomic.Int64
			stopper := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
				sent.Add(1)
				return cancelled(id), nil
			})
			var steps []string
			started := false
			res, err := ApplyOperation(context.Background(), stopper, Operation{
				Backend: b,
				NewPlan: func(st *state.State) (*Plan, error) {
					if b.locked.Load() != 1 {
						t.Error("planned without the lock")
					}
					steps = append(steps, "plan")
					return testPlan(3), nil
				},
				NoChanges: func(*Plan) { t.Error("NoChanges called for a plan with changes") },
				ShowPlan:  func(*Plan) error { steps = append(steps, "show"); return nil },
				Confirm: func(p *Plan) error {
					steps = append(steps, "confirm")
					if sent.Load() != 0 {
						t.Error("calls sent before confirmation")
					}
					return tt.confirm(p)
				},
				Started: func(ctx context.Context, st *state.State, p *Plan) (context.Context, <-chan struct{}, func()) {
					started = true
					return ctx, nil, func() {}
				},
				Options: fastOpts(),
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got := strings.Join(steps, ","); got != "plan,show,confirm" {
				t.Errorf("steps = %s, want plan,show,confirm", got)
			}
			if int(sent.Load()) != tt.sent {
				t.Errorf("sent %d calls, want %d", sent.Load(), tt.sent)
			}
			if started != (tt.sent > 0) {
				t.Errorf("started = %v", started)
			}
			if got := b.st.Len(); got != tt.sent {
				t.Errorf("state holds %d messages, want %d", got, tt.sent)
			}
			if tt.wantErr == nil && (res == nil || res.Cancelled != 3 || !res.Complete()) {
				t.Errorf("result = %+v", res)
			}
			if b.locked.Load() != 1 || b.unlocked.Load() != 1 {
				t.Errorf("locked %d, unlocked %d; want 1, 1", b.locked.Load(), b.unlocked.Load())
			}
		})
	}
}

func TestApplyOperation_NoChanges(t *testing.T) {
	b := &lockingBackend{memBackend: newMemBackend()}
	var shown *Plan
	res, err := ApplyOperation(context.Background(), nil, Operation{
		Backend:   b,
		NewPlan:   func(*state.State) (*Plan, error) { return testPlan(0), nil },
		NoChanges: func(p *Plan) { shown = p },
		Confirm:   func(*Plan) error { t.Error("asked to confirm nothing"); return nil },
	})
	if res != nil || err != nil || shown == nil {
		t.Errorf("res %v, err %v, NoChanges called: %v", res, err, shown != nil)
	}
	if b.unlocked.Load() != 1 {
		t.Error("lock not released")
	}
}

// A saved plan is checked against the state read under the lock, and is
// not confirmed again.
func TestApplyOperation_SavedPlan(t *testing.T) {
	b := &lockingBackend{memBackend: newMemBackend()}
	b.st.Lineage, b.st.Serial = "l", 4
	p := testPlan(2)
	p.State = StateRef{Lineage: "l", Serial: 3}
	noConfirm := func(*Plan) error { t.Error("a saved plan was confirmed"); return nil }
	_, err := ApplyOperation(context.Background(), nil, Operation{Backend: b, Plan: p, Confirm: noConfirm})
	var se *StaleError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *StaleError", err)
	}

	p.State.Serial = 4
	var sent atomic.Int64
	stopper := stopperFunc(func(ctx context.Context, id string) (*clickatell.Result, error) {
		sent.Add(1)
		return cancelled(id), nil
	})
	res, err := ApplyOperation(context.Background(), stopper, Operation{Backend: b, Plan: p, Confirm: noConfirm, Options: fastOpts()})
	if err != nil || res.Cancelled != 2 || sent.Load() != 2 {
		t.Fatalf("res %+v, err %v, sent %d", res, err, sent.Load())
	}
}

func TestApplyOperation_LockFailed(t *testing.T) {
	held := &state.LockError{}
	b := &lockingBackend{memBackend: newMemBackend(), lockErr: held}
	_, err := ApplyOperation(context.Background(), nil, Operation{
		Backend: b,
		NewPlan: func(*state.State) (*Plan, error) { t.Error("planned without the lock"); return nil, nil },
	})
	var lf *LockFailedError
	if !errors.As(err, &lf) || !errors.Is(err, held) {
		t.Fatalf("err = %v, want a *LockFailedError wrapping the backend's", err)
	}
}
