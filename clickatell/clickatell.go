// Package clickatell is a client for Clickatell's legacy REST API, limited to
// what recall needs: stopping a scheduled message and reading its status.
//
// Skeleton: the exported API below is the contract other packages build on;
// the implementation lands with the client issue.
package clickatell

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Outcome classifies an answer about one message.
type Outcome uint8

const (
	// Cancelled: 200 with messageStatus 006.
	Cancelled Outcome = iota + 1
	// TooLate: 200 with any other status; it can no longer be stopped.
	TooLate
	// NotFound: HTTP 404, or 200 with status 001 "Message unknown".
	NotFound
)

func (o Outcome) String() string {
	switch o {
	case Cancelled:
		return "cancelled"
	case TooLate:
		return "too_late"
	case NotFound:
		return "not_found"
	}
	return fmt.Sprintf("Outcome(%d)", uint8(o))
}

// Result is a settled answer about one message.
type Result struct {
	// ID is the apiMessageId asked about.
	ID string
	// Outcome classifies the answer.
	Outcome Outcome
	// Status is Clickatell's messageStatus ("006"); empty for a 404.
	Status string
	// Description is Clickatell's description of Status or of the error.
	Description string
	// HTTPStatus is the answer's HTTP status code.
	HTTPStatus int
}

// Format is the representation asked of the API.
type Format uint8

const (
	JSON Format = iota
	XML
)

// Disposition tells a caller what to do after an error.
type Disposition uint8

const (
	// Retry: a transient failure (429, 5xx, timeout, dropped connection).
	Retry Disposition = iota + 1
	// GiveUp: this message cannot be settled in this run (other 4xx,
	// malformed answer); try it again next run.
	GiveUp
	// Stop: the whole run must stop (401; errors 001, 007, 165, 166).
	Stop
)

// APIError is an error answer from the API.
type APIError struct {
	// HTTPStatus is the answer's status code.
	HTTPStatus int
	// Code is Clickatell's error code ("001"), if the body had one.
	Code string
	// Description is Clickatell's description, if any.
	Description string
	// RetryAfter is the Retry-After header's delay; 0 if absent.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	return fmt.Sprintf("clickatell: HTTP %d, error %s: %s", e.HTTPStatus, e.Code, e.Description)
}

// Option configures a Client.
type Option func(*Client) error

// Client talks to the API. It is safe for concurrent use.
type Client struct {
	baseURL    string
	token      string
	httpClient *http.Client
	userAgent  string
	format     Format
	timeout    time.Duration
}

// New returns a Client; options are validated.
func New(opts ...Option) (*Client, error) {
	return nil, errors.New("clickatell: not implemented")
}

// StopMessage sends DELETE /rest/message/{id}.
func (c *Client) StopMessage(ctx context.Context, id string) (*Result, error) {
	return nil, errors.New("clickatell: not implemented")
}

// MessageStatus sends GET /rest/message/{id}.
func (c *Client) MessageStatus(ctx context.Context, id string) (*Result, error) {
	return nil, errors.New("clickatell: not implemented")
}
