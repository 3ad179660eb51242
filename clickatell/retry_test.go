package clickatell

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

// sleeps records the waits a RetryPolicy asks for, without waiting.
type sleeps struct {
	got    []time.Duration
	before func(n int) // called before each wait returns (n from 1)
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.got = append(s.got, d)
	if s.before != nil {
		s.before(len(s.got))
	}
	return ctx.Err()
}

var (
	err503 = &APIError{HTTPStatus: 503, Code: "901", Description: "Internal error, please retry"}
	err429 = &APIError{HTTPStatus: 429}
	err401 = &APIError{HTTPStatus: 401, Code: "001", Description: "Authentication failed"}
	err400 = &APIError{HTTPStatus: 400, Code: "101", Description: "Invalid or missing parameters"}
)

func TestRetryPolicy_Do_Budget(t *testing.T) {
	for _, maxRetries := range []int{-1, 0, 1, 5} {
		t.Run(fmt.Sprint(maxRetries), func(t *testing.T) {
			var s sleeps
			p := RetryPolicy{MaxRetries: maxRetries, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second, Sleep: s.sleep}
			calls := 0
			attempts, err := p.Do(context.Background(), func(context.Context) error { calls++; return err503 })
			want := 1 + max(0, maxRetries)
			if attempts != want || calls != want {
				t.Errorf("attempts %d, calls %d, want %d", attempts, calls, want)
			}
			if err != err503 {
				t.Errorf("err = %v, want the last error", err)
			}
			if len(s.got) != want-1 {
				t.Errorf("%d waits, want %d", len(s.got), want-1)
			}
			for i, d := range s.got {
				ceil := min(time.Second, 100*time.Millisecond<<i)
				if d < 0 || d > ceil {
					t.Errorf("wait %d = %v, want within [0, %v]", i+1, d, ceil)
				}
			}
		})
	}
}

func TestRetryPolicy_Do_OnlyRetries(t *testing.T) {
	tests := []struct {
		name      string
		errs      []error
		attempts  int
		wantFinal error
	}{
		{"success first", []error{nil}, 1, nil},
		{"success after 429 and 503", []error{err429, err503, nil}, 3, nil},
		{"give up at once", []error{err400, nil}, 1, err400},
		{"stop at once", []error{err503, err401, nil}, 2, err401},
		{"unknown error", []error{errors.New("boom"), nil}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sleeps
			p := RetryPolicy{MaxRetries: 5, Sleep: s.sleep}
			i := 0
			attempts, err := p.Do(context.Background(), func(context.Context) error { e := tt.errs[i]; i++; return e })
			if attempts != tt.attempts {
				t.Errorf("attempts = %d, want %d", attempts, tt.attempts)
			}
			if tt.wantFinal != nil && err != tt.wantFinal {
				t.Errorf("err = %v, want %v", err, tt.wantFinal)
			}
			if (err == nil) != (tt.errs[attempts-1] == nil) {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestRetryPolicy_Do_RetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		want       time.Duration
	}{
		{"honoured", 2 * time.Second, 2 * time.Second},
		{"capped at MaxDelay", time.Hour, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sleeps
			p := RetryPolicy{MaxRetries: 1, Sleep: s.sleep}
			n := 0
			_, err := p.Do(context.Background(), func(context.Context) error {
				n++
				if n == 1 {
					return &APIError{HTTPStatus: 429, RetryAfter: tt.retryAfter}
				}
				return nil
			})
			if err != nil || len(s.got) != 1 || s.got[0] != tt.want {
				t.Fatalf("err %v, waits %v; want one wait of %v", err, s.got, tt.want)
			}
		})
	}
}

func TestRetryPolicy_Do_ContextEnds(t *testing.T) {
	t.Run("during a wait", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := sleeps{before: func(n int) {
			if n == 2 {
				cancel()
			}
		}}
		p := RetryPolicy{MaxRetries: 10, Sleep: s.sleep}
		attempts, err := p.Do(ctx, func(context.Context) error { return err429 })
		if attempts != 2 {
			t.Errorf("attempts = %d, want 2", attempts)
		}
		var ae *APIError
		if !errors.Is(err, context.Canceled) || !errors.As(err, &ae) {
			t.Errorf("err = %v, want the last answer and context.Canceled", err)
		}
		if Classify(err) != GiveUp {
			t.Errorf("Classify = %v, want give_up", Classify(err))
		}
	})
	t.Run("before the first attempt", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, th := range []*Throttle{nil, NewThrottle(10)} {
			attempts, err := RetryPolicy{MaxRetries: 3, Throttle: th}.Do(ctx, func(context.Context) error {
				t.Error("called with an ended context")
				return nil
			})
			if attempts != 0 || !errors.Is(err, context.Canceled) {
				t.Errorf("attempts %d, err %v", attempts, err)
			}
		}
	})
	t.Run("in the throttle's pause", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		th := NewThrottle(0)
		th.Pause(time.Hour)
		attempts, err := RetryPolicy{MaxRetries: 3, Throttle: th}.Do(ctx, func(context.Context) error { return nil })
		if attempts != 0 || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("attempts %d, err %v", attempts, err)
		}
	})
}

func TestRetryPolicy_Do_ReportsToThrottle(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th := NewThrottle(0)
	th.now = func() time.Time { return clock }
	th.sleep = func(ctx context.Context, d time.Duration) error { clock = clock.Add(d); return nil }
	var s sleeps
	p := RetryPolicy{MaxRetries: 5, Throttle: th, Sleep: s.sleep}
	errs := []error{
		&APIError{HTTPStatus: 429, RetryAfter: 3 * time.Second},
		&APIError{HTTPStatus: 503, Code: "901", RetryAfter: 90 * time.Second},
		nil,
	}
	i := 0
	var at503 time.Time
	if _, err := p.Do(context.Background(), func(context.Context) error {
		if i == 1 {
			at503 = clock
		}
		e := errs[i]
		i++
		return e
	}); err != nil {
		t.Fatal(err)
	}
	if th.throttled != 1 {
		t.Errorf("throttle saw %d 429s, want 1", th.throttled)
	}
	// The 503's Retry-After, capped at MaxDelay, paused everyone.
	if want := at503.Add(30 * time.Second); !th.pausedUntil.Equal(want) || clock.Before(want) {
		t.Errorf("paused until %v, last call at %v; want a pause until %v, and the call after it", th.pausedUntil, clock, want)
	}
	if th.answers.n != 2 {
		t.Errorf("the throttle was told of %d answers, want 2 (the 429 and the success; the 503 pauses)", th.answers.n)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want Disposition
	}{
		{nil, 0},
		{&APIError{HTTPStatus: 401}, Stop},
		{&APIError{HTTPStatus: 402}, Stop},
		{&APIError{HTTPStatus: 400, Code: "001"}, Stop},
		{&APIError{HTTPStatus: 403, Code: "007"}, Stop},
		{&APIError{HTTPStatus: 400, Code: "165"}, Stop},
		{&APIError{HTTPStatus: 400, Code: "166"}, Stop},
		{&APIError{HTTPStatus: 400, Code: "167"}, Stop},
		{&APIError{HTTPStatus: 400, Code: "301"}, Stop},
		{&APIError{HTTPStatus: 503, Code: "001"}, Stop},
		{&APIError{HTTPStatus: 429}, Retry},
		{&APIError{HTTPStatus: 429, Code: "429"}, Retry},
		{&APIError{HTTPStatus: 408}, Retry},
		{&APIError{HTTPStatus: 500}, Retry},
		{&APIError{HTTPStatus: 502}, Retry},
		{&APIError{HTTPStatus: 503, Code: "901"}, Retry},
		{&APIError{HTTPStatus: 504}, Retry},
		{&APIError{HTTPStatus: 200, Code: "901"}, Retry},
		{&APIError{HTTPStatus: 501}, GiveUp},
		{&APIError{HTTPStatus: 505}, GiveUp},
		{&APIError{HTTPStatus: 400, Code: "101"}, GiveUp},
		{&APIError{HTTPStatus: 403}, GiveUp},
		{&APIError{HTTPStatus: 405, Code: "160"}, GiveUp},
		{&APIError{HTTPStatus: 410}, GiveUp},
		{&APIError{HTTPStatus: 301}, GiveUp},
		{&APIError{HTTPStatus: 502, Err: &DecodeError{HTTPStatus: 502, HTML: true}}, Retry},
		{&DecodeError{HTTPStatus: 200}, GiveUp},
		{&TransportError{Err: io.ErrUnexpectedEOF}, Retry},
		{&TransportError{Err: io.EOF}, Retry},
		{&TransportError{Err: syscall.ECONNRESET}, Retry},
		{&TransportError{Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, Retry},
		{&TransportError{Timeout: true, Err: context.DeadlineExceeded}, Retry},
		{&TransportError{Err: x509.UnknownAuthorityError{}}, GiveUp},
		{&TransportError{Err: errors.New("http: server gave HTTP response to HTTPS client")}, GiveUp},
		{fmt.Errorf("wrapped: %w", &APIError{HTTPStatus: 401}), Stop},
		{fmt.Errorf("wrapped: %w", err503), Retry},
		{&redactedError{msg: "x", err: syscall.ECONNRESET}, Retry},
		{io.ErrUnexpectedEOF, Retry},
		{syscall.EPIPE, Retry},
		{&url.Error{Op: "Delete", URL: "u", Err: timeoutErr{}}, Retry},
		{context.DeadlineExceeded, Retry},
		{context.Canceled, GiveUp},
		{fmt.Errorf("%w (retries stopped: %w)", err503, context.Canceled), GiveUp},
		{errors.New("not sent: the run is stopping"), GiveUp},
	}
	for _, tt := range tests {
		if got := Classify(tt.err); got != tt.want {
			t.Errorf("Classify(%#v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
