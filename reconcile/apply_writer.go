package reconcile

import (
	"context"
	"time"

	"github.com/recallhq/recall/state"
)

// writer is the run's single state writer: one goroutine that commits one
// batch of changes at a time, so that a slow write (a million-message file
// rewritten) never holds up the workers or the collector.
type writer struct {
	ctx     context.Context
	backend state.Backend
	in      chan []state.Change
	done    chan writeResult
	// busy is set while a batch is being written; owned by the collector.
	busy bool
}

type writeResult struct {
	batch []state.Change
	err   error
	took  time.Duration
}

func newWriter(ctx context.Context, b state.Backend) *writer {
	w := &writer{ctx: ctx, backend: b, in: make(chan []state.Change), done: make(chan writeResult, 1)}
	go w.loop()
	return w
}

func (w *writer) loop() {
	for batch := range w.in {
		t := time.Now()
		err := w.backend.Commit(w.ctx, batch)
		w.done <- writeResult{batch: batch, err: err, took: time.Since(t)}
	}
}

// start hands a batch to the writer; it must not be busy.
func (w *writer) start(batch []state.Change) {
	w.busy = true
	w.in <- batch
}

// wait returns the result of the batch being written.
func (w *writer) wait() writeResult {
	res := <-w.done
	w.busy = false
	return res
}

func (w *writer) close() { close(w.in) }
