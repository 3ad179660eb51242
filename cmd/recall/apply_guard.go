package main

import (
	"errors"
	"fmt"

	"github.com/recallhq/recall/reconcile"
)

// withUnknownIDsAdvice adds what to do to the wrong-account guard's error
// (the engine's error says what happened; the advice names apply's flag).
func withUnknownIDsAdvice(err error) error {
	var ue *reconcile.UnknownIDsError
	if !errors.As(err, &ue) {
		return err
	}
	return fmt.Errorf("%w\n\nThe IDs are unknown to the Clickatell account whose token is in use. Either CLICKATELL_TOKEN is another account's token, "+
		"or the IDs come from another system, or the messages are older than Clickatell keeps (about six days after submission). "+
		"Check the token and the manifest's IDs, then run apply again. If you know the messages are gone and want them recorded as not found, "+
		"run apply again with -allow-unknown-ids.", err)
}
