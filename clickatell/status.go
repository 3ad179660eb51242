package clickatell

import (
	"context"
	"errors"
	"net/http"
)

// Scheduled is MessageStatus's outcome for status 011 "Message scheduled
// for later delivery": the message is still to go out. It settles nothing
// (a message is never recorded on it), and it is not a failure either: the
// message is still to cancel. StopMessage never returns it.
//
// Its value is kept apart from the settled outcomes, so that a range check
// for a settled outcome never includes it.
const Scheduled Outcome = 64

// StatusScheduled is Clickatell's messageStatus for a message scheduled for
// later delivery.
const StatusScheduled = "011"

// MessageStatus sends GET /rest/message/{id}: it reads a message's status
// without changing it. Its answer is decoded by the same table as
// StopMessage's, so that a status means the same outcome for both calls
// (006 Cancelled, 004 TooLate, a 404 with error 161 NotFound, …), with one
// difference: status 011 is a Result with Outcome Scheduled, not an error.
// After a stop call 011 means the stop did not take; asked for a status, it
// is a plain answer: the message is still scheduled.
func (c *Client) MessageStatus(ctx context.Context, id string) (*Result, error) {
	res, err := c.do(ctx, http.MethodGet, id)
	return asStatus(id, res, err)
}

// statusAnswer is implemented by an error about a 2xx answer whose data
// held a message status that settles nothing (011 after a stop call, a code
// recall does not know), so that MessageStatus can still read 011.
type statusAnswer interface {
	// AnswerStatus returns the answer's HTTP status, messageStatus and
	// description.
	AnswerStatus() (httpStatus int, status, description string)
}

// asStatus turns decode's answer for status 011, whatever decode makes of
// it for a stop call (a Result, or an error that is a statusAnswer), into a
// Result with Outcome Scheduled.
func asStatus(id string, res *Result, err error) (*Result, error) {
	if err == nil && res != nil && res.Status == StatusScheduled && res.HTTPStatus >= 200 && res.HTTPStatus < 300 {
		r := *res
		r.Outcome = Scheduled
		return &r, nil
	}
	var sa statusAnswer
	if err != nil && errors.As(err, &sa) {
		if hs, st, desc := sa.AnswerStatus(); st == StatusScheduled && hs >= 200 && hs < 300 {
			return &Result{ID: id, Outcome: Scheduled, Status: st, Description: desc, HTTPStatus: hs}, nil
		}
	}
	return res, err
}
