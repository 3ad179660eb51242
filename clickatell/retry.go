package clickatell

import (
	"context"
	"errors"
	"time"
)

// RetryPolicy retries transient failures with capped exponential backoff and
// full jitter, honouring Retry-After, bounded by MaxRetries and the context.
//
// Skeleton: implemented with the client issue.
type RetryPolicy struct {
	// MaxRetries is how many retries follow the first attempt.
	MaxRetries int
	// BaseDelay is the first backoff (default 100ms).
	BaseDelay time.Duration
	// MaxDelay caps any one backoff, Retry-After included (default 30s).
	MaxDelay time.Duration
	// Throttle, if set, is told about every throttled and every successful
	// call, and is waited on before every attempt.
	Throttle *Throttle
}

// Do calls fn until it succeeds, fails with an error whose Disposition is
// not Retry, the retries are spent, or ctx ends. It returns how many
// attempts were made and the last error.
func (p RetryPolicy) Do(ctx context.Context, fn func(context.Context) error) (attempts int, err error) {
	return 0, errors.New("clickatell: not implemented")
}

// Classify tells what to do after err from a Client call.
func Classify(err error) Disposition {
	return GiveUp
}

// Throttle is a request-rate limiter shared by all workers of a run: it
// enforces an optional hard cap, and lowers the rate when the API keeps
// answering 429 (and raises it again, slowly, when it stops), so that many
// workers do not all hammer a throttled API.
type Throttle struct{}

// NewThrottle returns a Throttle capped at limit requests per second
// (0: no cap until the API throttles).
func NewThrottle(limit float64) *Throttle { return &Throttle{} }

// Wait blocks until a request may be sent, or ctx ends.
func (t *Throttle) Wait(ctx context.Context) error { return nil }

// Throttled records a 429 answer (retryAfter 0 if none was sent).
func (t *Throttle) Throttled(retryAfter time.Duration) {}

// Succeeded records an answer that was not a 429.
func (t *Throttle) Succeeded() {}
