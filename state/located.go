package state

// Located is implemented by a backend's errors that can say whether their
// text begins with the state's location (Backend.String()) and ": ", as
// "postgres://db/recall: the lock was lost ..." does, so that whoever
// reports such an error after the location does not say it twice.
type Located interface {
	error
	// LocationFirst reports whether the text begins with the location.
	LocationFirst() bool
}
