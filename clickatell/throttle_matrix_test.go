package clickatell

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

// runCfg is one apply run in virtual time: messages cancelled by workers
// through a RetryPolicy-like loop against an API answering 429 above rate
// (a GCRA bucket with the simulator's default burst, rate/10, at least 2),
// with Retry-After retryAfter on its 429s (0: none).
type runCfg struct {
	rate       float64
	retryAfter time.Duration
	workers    int
	latency    time.Duration
	messages   int
	cap        float64 // -rate (0: none)
	seed       uint64
}

type runResult struct {
	elapsed time.Duration // first call to last answer
	// sustained is the rate of successes up to the last success of a
	// message never answered 429: the run's rate before its tail of
	// messages waiting out a Retry-After.
	sustained float64
	calls     int
	throttled int
	overspent int // messages whose 429s outlasted the retry budget
	maxTries  int // most attempts any message made
	cuts      int64
	final     float64
	trace     []string
}

// target is the rate the run can reach: the API's, or the workers' when
// they cannot send that many (workers / latency).
func (c runCfg) target() float64 {
	return math.Min(c.rate, float64(c.workers)/(c.latency+c.latency/40).Seconds())
}

// simulateRun is a discrete-event simulation of apply: each worker takes
// the next message, waits for the Throttle, sends; the answer arrives
// latency later (plus up to 5% jitter); pacing sleeps end on the
// poller's tick (sleepEnds); a 429'd message waits
// max(Retry-After, full-jitter backoff) as RetryPolicy.Do does, and is
// given up after 1+maxRetriesSim attempts.
func simulateRun(c runCfg) runResult {
	th := NewThrottle(c.cap)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	th.now = func() time.Time { panic("the simulation passes its clock") }
	rng := rand.New(rand.NewPCG(c.seed, c.seed+1))
	burst := max(2, int(math.Ceil(c.rate/10)))
	api := newGCRA(c.rate, burst)

	var q eventQueue
	seq := 0
	var gen int64
	msgs := map[int]int{} // seq of a queued event -> message
	tries := map[int]int{}
	push := func(at time.Duration, w int, kind uint8, ok bool, sent time.Duration, msg int) {
		seq++
		msgs[seq] = msg
		heap.Push(&q, event{at: at, worker: w, kind: kind, ok: ok, seq: seq, sent: sent, gen: gen})
	}
	nextMsg := 0
	// A worker with no message takes the next, if any.
	take := func(at time.Duration, w int) {
		if nextMsg < c.messages {
			push(at, w, 0, false, 0, nextMsg)
			nextMsg++
		}
	}
	for w := 0; w < c.workers; w++ {
		take(0, w)
	}
	var r runResult
	var last, bulkEnd time.Duration
	var okAt []time.Duration
	hit := map[int]bool{}
	sec, secOK, secThr := time.Duration(0), 0, 0
	for q.Len() > 0 {
		e := heap.Pop(&q).(event)
		msg := msgs[e.seq]
		delete(msgs, e.seq)
		now := start.Add(e.at)
		if e.at >= sec+time.Second {
			r.trace = append(r.trace, fmt.Sprintf("%v: limit %.0f, %d ok, %d 429", sec, th.Limit(), secOK, secThr))
			sec, secOK, secThr = e.at.Truncate(time.Second), 0, 0
		}
		switch e.kind {
		case 0, 1:
			// A kind-1 event's sent is when its slot is due; the worker
			// looks at it again every maxSleep, as acquire does.
			goes, next, due, g := wakeUp(th, start, e)
			if !goes {
				gen = g
				push(next, e.worker, 1, false, due, msg)
				continue
			}
			r.calls++
			tries[msg]++
			r.maxTries = max(r.maxTries, tries[msg])
			jit := time.Duration(rng.Int64N(int64(c.latency)/20 + 1))
			push(e.at+c.latency+jit, e.worker, 2, api.allow(e.at), e.at, msg)
		case 2:
			last = e.at
			th.answered(start.Add(e.sent), now, e.ok)
			if e.ok {
				secOK++
				okAt = append(okAt, e.at)
				if !hit[msg] {
					bulkEnd = e.at
				}
				take(e.at, e.worker)
				continue
			}
			secThr++
			hit[msg] = true
			r.throttled++
			if tries[msg] > maxRetriesSim {
				r.overspent++
				take(e.at, e.worker)
				continue
			}
			ceil := backoffCeil(DefaultBaseDelay, DefaultMaxDelay, tries[msg])
			wait := max(c.retryAfter, time.Duration(rng.Int64N(int64(ceil)+1)))
			// The message waits with its worker, as Do's sleep does.
			push(e.at+wait, e.worker, 0, false, 0, msg)
		}
	}
	r.elapsed = last
	n := 0
	for _, at := range okAt {
		if at <= bulkEnd {
			n++
		}
	}
	r.sustained = float64(n) / bulkEnd.Seconds()
	st := th.Stats()
	r.cuts, r.final = st.Cuts, st.Limit
	return r
}

// TestThrottle_AtTheCap is issue 10's matrix: against an API answering 429
// above R (R unknown to the Throttle), with and without Retry-After, at
// 10 to 256 workers, 3,000 messages at 20 ms latency: at least 95% of the
// reachable rate sustained (up to the last message never answered 429),
// and end to end (first call to last answer) unless the API asks for 5 s
// of Retry-After, at most 2% of calls answered 429 (1% asserted), and no
// message over its retry budget. The reachable rate is R, or the workers'
// own bound (workers / latency) when lower: 10 workers at 20 ms send at
// most 488/s.
func TestThrottle_AtTheCap(t *testing.T) {
	matrix(t, func(float64) int { return 3000 }, goals{sustained: 0.95, endToEnd: 0.95, endToEndUpTo: time.Second, share429: 0.01})
}

// TestThrottle_AtTheCap_15s is the same matrix on runs of R × 15 s
// messages, the size of the cap table's other rows in the benchmark
// (go run ./bench -sections cap): 750 at 50/s, where finding the rate
// costs a larger share of a shorter run, to 15,000 at 1,000/s. The
// issue's goals hold: at most 2% of calls answered 429.
func TestThrottle_AtTheCap_15s(t *testing.T) {
	matrix(t, func(r float64) int { return int(r * 15) }, goals{sustained: 0.95, endToEnd: 0.95, endToEndUpTo: time.Second, share429: 0.02})
}

// TestThrottle_AtTheCap_Short is the same matrix on runs of 1,000
// messages (1 s at 1,000/s, 20 s at 50/s), where the goals do not
// all hold; it keeps what does. Finding the rate costs about the same
// number of 429s whatever the run's length (the calls sent above R in the
// round trips before the rate comes down, 10-25 of them), so on a short
// run they are a larger share: up to 2.5% of calls. Against 1,000/s the
// slow start (0.2 s from 400/s) is a larger share of a 1 s run. End to
// end is asserted without Retry-After only: a message answered 429 in
// the first second with 1 s of Retry-After ends a 1 s run a second late.
func TestThrottle_AtTheCap_Short(t *testing.T) {
	matrix(t, func(float64) int { return 1000 }, goals{sustained: 0.95, endToEnd: 0.95, endToEndUpTo: 0, share429: 0.025})
}

// goals are what a matrix asserts in every cell.
type goals struct {
	sustained, endToEnd float64
	// endToEndUpTo is the longest Retry-After end to end is asserted at.
	endToEndUpTo time.Duration
	share429     float64
}

// matrix runs the cells of issue 10's table, each with messages(R)
// messages.
func matrix(t *testing.T, messages func(rate float64) int, g goals) {
	for _, rate := range []float64{50, 100, 400, 1000} {
		for _, ra := range []time.Duration{0, time.Second, 5 * time.Second} {
			for _, workers := range []int{10, 64, 256} {
				c := runCfg{rate: rate, retryAfter: ra, workers: workers, latency: 20 * time.Millisecond, messages: messages(rate), seed: 1}
				t.Run(fmt.Sprintf("R=%v/Retry-After=%v/p=%d", rate, ra, workers), func(t *testing.T) {
					t.Parallel()
					checkRun(t, c, g)
				})
			}
		}
	}
}

func checkRun(t *testing.T, c runCfg, g goals) {
	t.Helper()
	r := simulateRun(c)
	got := float64(c.messages-r.overspent) / r.elapsed.Seconds()
	endToEnd := got / c.target()
	share := r.sustained / c.target()
	share429 := float64(r.throttled) / float64(r.calls)
	t.Logf("%s: sustained %.1f%%, end to end %.1f%% (%v) of %.0f/s; %d of %d calls 429 (%.2f%%); %d cuts, final limit %.0f/s, most attempts %d",
		t.Name(), 100*share, 100*endToEnd, r.elapsed.Round(time.Millisecond), c.target(), r.throttled, r.calls, 100*share429, r.cuts, r.final, r.maxTries)
	if os.Getenv("THROTTLE_TRACE") != "" {
		for _, l := range r.trace {
			t.Log(l)
		}
	}
	if share < g.sustained {
		t.Errorf("sustained %.1f%% of the rate, want >= %.0f%%", 100*share, 100*g.sustained)
	}
	// A message answered 429 waits its Retry-After before its retry: with
	// 5 s of it, a run of a few seconds ends that much later, whatever the
	// rate. Without it, or with 1 s on a long enough run, the run ends at
	// the rate.
	if c.retryAfter <= g.endToEndUpTo && endToEnd < g.endToEnd {
		t.Errorf("end to end %.1f%% of the rate, want >= %.0f%%", 100*endToEnd, 100*g.endToEnd)
	}
	if share429 > g.share429 {
		t.Errorf("%.2f%% of calls answered 429, want <= %.1f%%", 100*share429, 100*g.share429)
	}
	if r.overspent > 0 {
		t.Errorf("%d messages spent their retry budget", r.overspent)
	}
}
