package reconcile

import (
	"encoding/json"
	"math"
	"time"
)

// EventType names an apply event. The names are those of `apply -format
// json`, one JSON object per line.
type EventType string

const (
	// EventApplyStart opens a run: what will be sent, and how.
	EventApplyStart EventType = "apply_start"
	// EventMessage reports one message that settled or failed in this run.
	EventMessage EventType = "message"
	// EventProgress reports the counts so far, periodically.
	EventProgress EventType = "progress"
	// EventSummary closes a run.
	EventSummary EventType = "summary"
	// EventDiagnostic is a warning or error worth a human's attention
	// (a checkpoint that could not be written, a fatal API answer).
	EventDiagnostic EventType = "diagnostic"
)

// Event is one thing that happened during Apply. Exactly one of the
// pointer fields is set, matching Type. Events are delivered one at a time,
// from a single goroutine, in the order they happened.
type Event struct {
	// Type says which of the fields below is set.
	Type EventType `json:"type"`
	// Time is when the event happened.
	Time time.Time `json:"time"`

	Start      *StartEvent      `json:"apply_start,omitempty"`
	Message    *MessageEvent    `json:"message,omitempty"`
	Progress   *ProgressEvent   `json:"progress,omitempty"`
	Summary    *SummaryEvent    `json:"summary,omitempty"`
	Diagnostic *DiagnosticEvent `json:"diagnostic,omitempty"`
}

// StartEvent describes a run about to send calls.
type StartEvent struct {
	// Total is how many messages the run will try to cancel.
	Total int `json:"total"`
	// Parallelism is the most calls in flight at once.
	Parallelism int `json:"parallelism"`
	// Rate is the request-rate cap per second; 0 means none.
	Rate float64 `json:"rate"`
	// MaxRetries is how many retries may follow a message's first call.
	MaxRetries int `json:"max_retries"`
	// State is the state the run starts from.
	State StateRef `json:"state"`
	// RefreshOnly is set for a refresh (apply -refresh-only): status
	// queries, no stop calls.
	RefreshOnly bool `json:"refresh_only,omitempty"`
}

// MessageEvent reports one message that settled, or failed for this run.
type MessageEvent struct {
	// ID is the message's apiMessageId.
	ID string `json:"id"`
	// Group is the manifest group that listed it.
	Group string `json:"group"`
	// Outcome is cancelled, too_late, not_found, or failed.
	Outcome string `json:"outcome"`
	// Status is Clickatell's messageStatus, when it sent one.
	Status string `json:"status,omitempty"`
	// Description is Clickatell's description of Status.
	Description string `json:"description,omitempty"`
	// Attempts is how many calls were sent for the message.
	Attempts int `json:"attempts"`
	// Cause groups the failure with others of its kind ("HTTP 503, error
	// 901"); set only for failures.
	Cause string `json:"cause,omitempty"`
	// Error is the failure's full text; set only for failures.
	Error string `json:"error,omitempty"`
	// Refresh is what a refresh made of the answer (a RefreshKind:
	// record, update, scheduled, unchanged, drift); refresh only. Outcome
	// is then what Clickatell reports ("scheduled" for 011).
	Refresh string `json:"refresh,omitempty"`
	// Recorded is the outcome the state held before; refresh only.
	Recorded string `json:"recorded,omitempty"`
}

// Counts tallies what a run did.
type Counts struct {
	// Total is how many messages the run set out to cancel.
	Total int `json:"total"`
	// Cancelled, TooLate, NotFound and NotDelivered settled in this run.
	Cancelled    int `json:"cancelled"`
	TooLate      int `json:"too_late"`
	NotFound     int `json:"not_found"`
	NotDelivered int `json:"not_delivered"`
	// Failed could not be settled in this run; the next run tries again.
	Failed int `json:"failed"`
	// Scheduled were reported still scheduled (011) by a refresh's status
	// query: answered, not settled.
	Scheduled int `json:"scheduled,omitempty"`
	// Calls is how many calls were sent, retries included.
	Calls int `json:"calls"`
}

// Done is how many messages are finished with for this run.
func (c Counts) Done() int { return c.Settled() + c.Failed + c.Scheduled }

// Settled is how many messages settled (and are recorded in state).
func (c Counts) Settled() int { return c.Cancelled + c.TooLate + c.NotFound + c.NotDelivered }

// Remaining is how many messages are not settled: failed, or never tried
// because the run stopped early. The next apply tries them again.
func (c Counts) Remaining() int { return c.Total - c.Settled() }

// ProgressEvent reports the counts so far.
type ProgressEvent struct {
	Counts
	// Elapsed is the time since the first call.
	Elapsed Seconds `json:"elapsed_seconds"`
	// Rate is messages finished per second, over the last few seconds.
	Rate float64 `json:"rate"`
	// ETA estimates the time left at Rate; 0 when unknown.
	ETA Seconds `json:"eta_seconds"`
	// NextDeadline is how the run stands against the next deadline; nil
	// when no group with messages left has one still ahead.
	NextDeadline *DeadlineStatus `json:"next_deadline,omitempty"`
}

// MarshalJSON writes the event with its rate and seconds rounded to a
// tenth: progress is an estimate, and 59.97674803439178 messages a second
// says no more than 60.0.
func (p ProgressEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Counts
		Elapsed      float64         `json:"elapsed_seconds"`
		Rate         float64         `json:"rate"`
		ETA          float64         `json:"eta_seconds"`
		NextDeadline *DeadlineStatus `json:"next_deadline,omitempty"`
	}{p.Counts, tenth(p.Elapsed.Duration().Seconds()), tenth(p.Rate), tenth(p.ETA.Duration().Seconds()), p.NextDeadline})
}

// tenth rounds f to one decimal place.
func tenth(f float64) float64 { return math.Round(f*10) / 10 }

// FailureGroup is the failures of one cause.
type FailureGroup struct {
	// Cause describes the failure ("HTTP 429 (throttled)", "timeout").
	Cause string `json:"cause"`
	// HTTPStatus and Code are the API's answer, when there was one.
	HTTPStatus int    `json:"http_status,omitempty"`
	Code       string `json:"code,omitempty"`
	// Count is how many messages failed this way.
	Count int `json:"count"`
	// Examples are a few of their IDs, in the order they failed.
	Examples []string `json:"examples"`
	// Err is the first of these failures' errors, for a caller to look
	// into with errors.As (a *clickatell.TransportError's fields).
	Err error `json:"-"`
}

// SummaryEvent closes a run.
type SummaryEvent struct {
	Counts
	// Elapsed is the run's duration, final state write included.
	Elapsed Seconds `json:"elapsed_seconds"`
	// Interrupted is set when the run was stopped by the caller before
	// every message was tried.
	Interrupted bool `json:"interrupted"`
	// Stopped says why the run stopped early of its own accord (an answer
	// no call can get past, or message after message failing), if it did.
	Stopped string `json:"stopped,omitempty"`
	// Failures are the failed messages grouped by cause, largest first.
	Failures []FailureGroup `json:"failures"`
	// State is the state as last written.
	State StateRef `json:"state"`
	// Refresh is a refresh's tallies, groups and drift; refresh only.
	Refresh *RefreshResult `json:"refresh,omitempty"`
	// Late counts, per group, the messages settled after the group's
	// deadline (scheduled_at less EarlyDelivery), in apply's order;
	// omitted when none were.
	Late []LateGroup `json:"late,omitempty"`
}

// Severity ranks a diagnostic.
type Severity string

const (
	SeverityWarning Severity = "warning"
	SeverityError   Severity = "error"
)

// DiagnosticEvent is a warning or error for a human.
type DiagnosticEvent struct {
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	// Err, when set, is what the diagnostic is about as a typed error
	// (an *UnknownIDsWarning), for a caller to add its advice to with
	// errors.As; Summary and Detail state the facts.
	Err error `json:"-"`
}

// Seconds is a duration written to JSON as (fractional) seconds.
type Seconds time.Duration

// MarshalJSON writes s as seconds with millisecond precision.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Duration(s).Milliseconds()) / 1000)
}

// UnmarshalJSON reads seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(f * float64(time.Second))
	return nil
}

// Duration returns s as a time.Duration.
func (s Seconds) Duration() time.Duration { return time.Duration(s) }
