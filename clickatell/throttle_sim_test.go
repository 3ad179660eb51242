package clickatell

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// gcra is the API's throttle in the simulations below: a token bucket of
// burst requests refilled at rate per second, kept as the theoretical
// arrival time of the next request (the simulator package's algorithm).
type gcra struct {
	interval, tolerance time.Duration
	tat                 time.Duration
}

func newGCRA(rate float64, burst int) *gcra {
	iv := time.Duration(float64(time.Second) / rate)
	return &gcra{interval: iv, tolerance: time.Duration(burst-1) * iv}
}

func (g *gcra) allow(t time.Duration) bool {
	next := max(g.tat, t)
	if next-t > g.tolerance {
		return false
	}
	g.tat = next + g.interval
	return true
}

// window is a throttle answering 429 past n requests in each whole second.
type window struct {
	n     int
	sec   time.Duration
	count int
}

func (w *window) allow(t time.Duration) bool {
	if s := t.Truncate(time.Second); s != w.sec {
		w.sec, w.count = s, 0
	}
	w.count++
	return w.count <= w.n
}

type event struct {
	at     time.Duration
	worker int
	kind   uint8 // 0: wants to send, 1: sends, 2: answer arrives
	ok     bool
	seq    int
	sent   time.Duration // when the call answered was sent (kind 2), when its slot is due (kind 1)
	gen    int64         // the Throttle's generation at booking (kind 1)
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// sleepEnds is when a pacing sleep of d begun at at ends with Go's timers
// on Linux: they fire when the runtime's poller wakes, and the poller,
// idle, waits in whole milliseconds and a little more (on the 2-CPU
// development machine time.Sleep(100µs) and time.Sleep(1ms) both take
// 1.09 ms at the median, 1.5 ms 2.17 ms). So the timers of many waiting
// workers fire together, on the poller's ticks, about 1.09 ms apart: at
// 1,000/s, where a pacer's slots are 1 ms apart, some ticks find two
// slots due, and a pacer that made the second wait half an interval
// would have it wait a whole tick.
func sleepEnds(at, d time.Duration) time.Duration {
	const tick = time.Millisecond + 90*time.Microsecond
	return (at + d + tick - 1) / tick * tick
}

// wakeUp is a simulated worker's turn, as acquire's loop does it: at e.at
// (the clock is start+e.at) it books a slot (e.kind 0) or looks at the
// slot it holds (kind 1: due at e.sent, booked in generation e.gen). The
// call goes now (goes), or the worker sleeps until next and then looks at
// the slot due at due of generation gen.
func wakeUp(th *Throttle, start time.Time, e event) (goes bool, next, due time.Duration, gen int64) {
	now := start.Add(e.at)
	var p time.Duration
	if e.kind == 0 {
		p, gen = th.reserve(now)
	} else {
		p, gen = th.rebook(now, start.Add(e.sent), e.gen)
	}
	due = e.at + p
	if p == 0 {
		if p = th.send(now); p == 0 {
			return true, 0, 0, gen
		}
	}
	return false, sleepEnds(e.at, min(p, maxSleep)), due, gen
}

// maxRetriesSim is apply's default retry budget.
const maxRetriesSim = 5

type simResult struct {
	trace     []string // per second: limit, successes, 429s
	rate      float64  // successes per second after warm-up
	share429  float64  // 429s among all answers
	answers   int
	finalRate float64
}

// simulate runs workers against allow for d of virtual time, each worker
// sending a call as soon as the Throttle lets it, the answer arriving
// latency later; a 429'd call is retried after a full-jitter backoff, as
// RetryPolicy does. Successes are counted after warm.
func simulate(th *Throttle, workers int, latency time.Duration, allow func(time.Duration) bool, retryAfter time.Duration, d, warm time.Duration, seed uint64) simResult {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(seed, seed))
	var q eventQueue
	seq := 0
	push := func(e event) { seq++; e.seq = seq; heap.Push(&q, e) }
	tries := make([]int, workers)
	for w := 0; w < workers; w++ {
		push(event{at: 0, worker: w})
	}
	var ok, thr, okAfterWarm int
	var trace []string
	sec, secOK, secThr := time.Duration(0), 0, 0
	for q.Len() > 0 {
		e := heap.Pop(&q).(event)
		if e.at > d {
			break
		}
		if e.at >= sec+time.Second {
			trace = append(trace, fmt.Sprintf("%v: limit %.0f, %d ok, %d 429", sec, th.Limit(), secOK, secThr))
			sec, secOK, secThr = e.at.Truncate(time.Second), 0, 0
		}
		if e.kind == 2 {
			if e.ok {
				secOK++
			} else {
				secThr++
			}
		}
		now := start.Add(e.at)
		switch e.kind {
		case 0, 1:
			goes, next, due, g := wakeUp(th, start, e)
			if !goes {
				push(event{at: next, worker: e.worker, kind: 1, gen: g, sent: due})
				continue
			}
			jit := time.Duration(rng.Int64N(int64(latency)/5 + 1))
			push(event{at: e.at + latency + jit, worker: e.worker, kind: 2, ok: allow(e.at), sent: e.at})
		case 2:
			th.answered(start.Add(e.sent), now, e.ok)
			if e.ok {
				ok++
				if e.at >= warm {
					okAfterWarm++
				}
				tries[e.worker] = 0
				push(event{at: e.at, worker: e.worker})
				continue
			}
			thr++
			tries[e.worker]++
			if tries[e.worker] > maxRetriesSim {
				tries[e.worker] = 0 // the message failed; the worker takes the next
				push(event{at: e.at, worker: e.worker})
				continue
			}
			wait := max(retryAfter, backoff(DefaultBaseDelay, DefaultMaxDelay, tries[e.worker]))
			push(event{at: e.at + wait, worker: e.worker})
		}
	}
	return simResult{
		trace:     trace,
		rate:      float64(okAfterWarm) / (d - warm).Seconds(),
		share429:  float64(thr) / float64(ok+thr),
		answers:   ok + thr,
		finalRate: th.Limit(),
	}
}

func TestThrottle_ConvergesSimulated(t *testing.T) {
	const capacity = 800.0
	tests := []struct {
		name       string
		cap        float64
		latency    time.Duration
		allow      func() func(time.Duration) bool
		retryAfter time.Duration
		minShare   float64
	}{
		{"bucket burst 80, 2ms", 0, 2 * time.Millisecond, func() func(time.Duration) bool { return newGCRA(capacity, 80).allow }, 0, 0.85},
		{"bucket burst 2, 2ms", 0, 2 * time.Millisecond, func() func(time.Duration) bool { return newGCRA(capacity, 2).allow }, 0, 0.85},
		{"bucket burst 80, 40ms", 0, 40 * time.Millisecond, func() func(time.Duration) bool { return newGCRA(capacity, 80).allow }, 0, 0.85},
		{"fixed window, 5ms", 0, 5 * time.Millisecond, func() func(time.Duration) bool { return (&window{n: capacity}).allow }, 0, 0.85},
		{"cap above capacity", 2000, 2 * time.Millisecond, func() func(time.Duration) bool { return newGCRA(capacity, 80).allow }, 0, 0.85},
		{"Retry-After 1s", 0, 2 * time.Millisecond, func() func(time.Duration) bool { return newGCRA(capacity, 80).allow }, time.Second, 0.75},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := NewThrottle(tt.cap)
			r := simulate(th, 64, tt.latency, tt.allow(), tt.retryAfter, 30*time.Second, 3*time.Second, 1)
			t.Logf("%.0f calls/s (%.1f%% of %v), %.2f%% answered 429, %d answers, final limit %.0f/s, %d cuts",
				r.rate, 100*r.rate/capacity, capacity, 100*r.share429, r.answers, r.finalRate, th.cuts)
			if testing.Verbose() {
				for _, l := range r.trace {
					t.Log(l)
				}
			}
			if r.rate < tt.minShare*capacity {
				t.Errorf("throughput %.0f/s, want >= %.0f%% of %v/s", r.rate, 100*tt.minShare, capacity)
			}
			if r.share429 > 0.10 {
				t.Errorf("%.1f%% of answers were 429, want <= 10%%", 100*r.share429)
			}
		})
	}
}
