package clickatell

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Defaults for RetryPolicy's zero fields.
const (
	DefaultBaseDelay = 100 * time.Millisecond
	DefaultMaxDelay  = 30 * time.Second
)

// RetryPolicy retries transient failures with capped exponential backoff and
// full jitter, honouring Retry-After, bounded by MaxRetries and the context.
// The zero value makes one attempt and no retries.
type RetryPolicy struct {
	// MaxRetries is how many retries follow the first attempt.
	MaxRetries int
	// BaseDelay is the first backoff (default 100ms).
	BaseDelay time.Duration
	// MaxDelay caps any one backoff, Retry-After included (default 30s).
	MaxDelay time.Duration
	// Throttle, if set, is waited on before every attempt and told about
	// every answer: 429s lower its rate, other answers let it rise.
	Throttle *Throttle
	// Sleep waits d or until ctx ends, returning ctx's error then (nil: a
	// timer). Tests replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Do calls fn until it succeeds, fails with an error whose Disposition is
// not Retry, the retries are spent, or ctx ends. It returns how many
// attempts were made (at most 1+MaxRetries; 0 when ctx ended first) and the
// last error. When ctx ends between attempts, the error wraps both the last
// attempt's error and ctx's.
//
// The wait before retry n (n = 1, 2, …) is drawn uniformly from
// [0, min(MaxDelay, BaseDelay·2ⁿ⁻¹)] ("full jitter", which spreads retries
// of many workers apart), and is at least the answer's Retry-After, capped
// at MaxDelay.
func (p RetryPolicy) Do(ctx context.Context, fn func(context.Context) error) (attempts int, err error) {
	base, maxDelay := p.delays()
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	for {
		var sent time.Time
		if t := p.Throttle; t != nil {
			var werr error
			if sent, werr = t.acquire(ctx); werr != nil {
				return attempts, stopped(err, werr)
			}
		} else if cerr := ctx.Err(); cerr != nil {
			return attempts, stopped(err, cerr)
		}
		attempts++
		err = fn(ctx)
		ra := p.report(sent, err, maxDelay)
		if err == nil || attempts > p.MaxRetries || Classify(err) != Retry {
			return attempts, err
		}
		d := backoff(base, maxDelay, attempts)
		if ra > d {
			d = ra
		}
		if serr := sleep(ctx, d); serr != nil {
			return attempts, stopped(err, serr)
		}
	}
}

func (p RetryPolicy) delays() (base, maxDelay time.Duration) {
	base, maxDelay = p.BaseDelay, p.MaxDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if maxDelay <= 0 {
		maxDelay = DefaultMaxDelay
	}
	return base, max(base, maxDelay)
}

// backoff is the full-jitter wait before retry n.
func backoff(base, maxDelay time.Duration, n int) time.Duration {
	return time.Duration(rand.Int64N(int64(backoffCeil(base, maxDelay, n)) + 1))
}

// backoffCeil is the longest backoff before retry n: base·2ⁿ⁻¹, capped.
func backoffCeil(base, maxDelay time.Duration, n int) time.Duration {
	ceil := maxDelay
	if n <= 62 {
		if d := base << (n - 1); d > 0 && d < maxDelay && d>>(n-1) == base {
			ceil = d
		}
	}
	return ceil
}

// report tells the Throttle about the answer to an attempt sent at sent,
// and returns its Retry-After capped at maxDelay. A 429's Retry-After is
// waited by its own call only (Do's sleep): the Throttle lowers the rate
// for the others instead of stopping them.
func (p RetryPolicy) report(sent time.Time, err error, maxDelay time.Duration) time.Duration {
	var ra time.Duration
	var ae *APIError
	isAPI := err != nil && errors.As(err, &ae)
	if isAPI {
		ra = min(ae.RetryAfter, maxDelay)
	}
	t := p.Throttle
	if t == nil {
		return ra
	}
	var (
		de *DecodeError
		se *StatusError
	)
	now := t.now()
	switch {
	case err == nil, errors.As(err, &se):
		t.answered(sent, now, true)
	case isAPI && ae.HTTPStatus == 429:
		t.answered(sent, now, false)
	case isAPI && ae.HTTPStatus >= 500:
		// Not a sign of the rate, but an overloaded server asking for a
		// pause is asking every worker.
		if ra > 0 {
			t.Pause(ra)
		}
	case isAPI, errors.As(err, &de):
		t.answered(sent, now, true)
	}
	return ra
}

// stopped is the error when ctx ended before an attempt or a retry.
func stopped(last, ctxErr error) error {
	if last == nil {
		return fmt.Errorf("not sent: %w", ctxErr)
	}
	return fmt.Errorf("%w (retries stopped: %w)", last, ctxErr)
}

// sleepCtx waits d, or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
