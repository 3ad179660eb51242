package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/hashicorp/go-multierror"

	"github.com/recallhq/recall/reconcile"
)

// maxCauseLines is how many causes a failure listing shows; the rest are
// summed up in one line.
const maxCauseLines = 10

// failuresError is a run's failed messages as one error: a
// *multierror.Error of its *reconcile.FailureGroup's, largest first, that
// prints as the listing grouped by cause (failureFormat) under header
// ("%s failed and will be tried again by the next apply:", the count
// written in). nil when nothing failed.
func failuresError(header string, groups []reconcile.FailureGroup) *multierror.Error {
	if len(groups) == 0 {
		return nil
	}
	me := &multierror.Error{ErrorFormat: func(errs []error) string { return failureFormat(header, errs) }}
	for i := range groups {
		me.Errors = append(me.Errors, &groups[i])
	}
	return me
}

// printFailures writes a run's failures, grouped by cause under header
// (see failuresError), then what to do about them, each piece of advice
// once; nothing when nothing failed.
func printFailures(w io.Writer, header string, groups []reconcile.FailureGroup) {
	if len(groups) == 0 {
		return
	}
	fmt.Fprint(w, "\n"+failuresError(header, groups).Error())
	for _, a := range failureAdvice(groups) {
		fmt.Fprintln(w, "\n"+a)
	}
}

// failureFormat, with a header, is a multierror.ErrorFormatFunc: it lists
// failures grouped by cause, largest first, each with its count and a few example IDs, and
// at most maxCauseLines causes: never one line per message. It takes
// *reconcile.FailureGroup's (ApplyResult.Failures, which count every
// failure) and *reconcile.MessageError's (ApplyResult.Errors, one per
// message); any other error counts as one failure, under its own text.
func failureFormat(header string, errs []error) string {
	type group struct {
		cause    string
		count    int
		examples []string
	}
	var groups []*group
	byCause := map[string]*group{}
	total := 0
	for _, err := range errs {
		var (
			fg       *reconcile.FailureGroup
			me       *reconcile.MessageError
			cause    = err.Error()
			count    = 1
			examples []string
		)
		switch {
		case errors.As(err, &fg):
			cause, count, examples = fg.Cause, fg.Count, fg.Examples
		case errors.As(err, &me):
			cause, examples = me.Cause, []string{me.ID.String()}
		}
		g := byCause[cause]
		if g == nil {
			g = &group{cause: cause}
			byCause[cause] = g
			groups = append(groups, g)
		}
		g.count += count
		for _, id := range examples {
			if len(g.examples) < 3 {
				g.examples = append(g.examples, id)
			}
		}
		total += count
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return b.count - a.count })

	var b strings.Builder
	fmt.Fprintf(&b, header+"\n", messages(total))
	for i, g := range groups {
		if i == maxCauseLines {
			rest := 0
			for _, g := range groups[i:] {
				rest += g.count
			}
			fmt.Fprintf(&b, "  ... and %s in %s more causes\n", messages(rest), commas(len(groups)-i))
			break
		}
		fmt.Fprintf(&b, "  %s: %s", g.cause, messages(g.count))
		if len(g.examples) > 0 {
			fmt.Fprintf(&b, " (e.g. %s)", strings.Join(g.examples, ", "))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
