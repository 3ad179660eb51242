package reconcile

import "time"

// EarlyDelivery is how long before its scheduled time Clickatell may
// deliver a scheduled message ("the actual delivery time of scheduled
// messages may be up to five minutes earlier than the scheduled time").
// A cancellation is only safe before scheduled_at less EarlyDelivery.
const EarlyDelivery = 5 * time.Minute

// Deadline is the last moment a message scheduled for scheduledAt can
// safely be cancelled: scheduledAt less EarlyDelivery. Every deadline
// recall reasons about (plan warnings, the order apply sends in) is this
// one, never scheduled_at itself.
func Deadline(scheduledAt time.Time) time.Time {
	return scheduledAt.Add(-EarlyDelivery)
}

// CompareDeadlines orders two scheduled_at times by their Deadline, as
// apply sends them: earliest first, nil (no scheduled_at) last.
func CompareDeadlines(x, y *time.Time) int {
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return 1
	case y == nil:
		return -1
	}
	return Deadline(*x).Compare(Deadline(*y))
}
