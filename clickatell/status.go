package clickatell

import (
	"context"
	"errors"
	"net/http"

	"github.com/recallhq/recall/outcome"
)

// statusScheduled is Clickatell's messageStatus for a message scheduled
// for later delivery.
const statusScheduled = "011"

// scheduledDescription is Clickatell's documented description of 011, for
// an answer whose own description is not at hand.
const scheduledDescription = "Message scheduled for later delivery"

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

// scheduledAnswer is implemented by the decode table's error for a 2xx
// answer whose messageStatus settles nothing (011 after a stop call: the
// stop did not take; or a code recall does not know): Scheduled reports
// whether the status was 011, so that MessageStatus can read it as an
// answer. statusAnswer, when the error has it too, gives the answer itself.
type scheduledAnswer interface {
	Scheduled() bool
}

type statusAnswer interface {
	// AnswerStatus returns the answer's HTTP status, messageStatus and
	// description.
	AnswerStatus() (httpStatus int, status, description string)
}

// asStatus turns decode's answer for status 011, whatever decode makes of
// it for a stop call (a Result, or an error that is a scheduledAnswer),
// into a Result with Outcome Scheduled.
func asStatus(id string, res *Result, err error) (*Result, error) {
	if err == nil && res != nil && res.Status == statusScheduled && res.HTTPStatus >= 200 && res.HTTPStatus < 300 {
		r := *res
		r.Outcome = outcome.Scheduled
		return &r, nil
	}
	var sa scheduledAnswer
	if err == nil || !errors.As(err, &sa) || !sa.Scheduled() {
		return res, err
	}
	r := &Result{ID: id, Outcome: outcome.Scheduled, Status: statusScheduled, Description: scheduledDescription, HTTPStatus: http.StatusOK}
	var st statusAnswer
	if errors.As(err, &st) {
		hs, status, desc := st.AnswerStatus()
		if status != statusScheduled || hs < 200 || hs >= 300 {
			return res, err
		}
		r.HTTPStatus, r.Description = hs, desc
	}
	return r, nil
}
