package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ---------------------------------------------------------------- start-up and memory (issue 10, points 4 and 6)

// firstCall is a reverse proxy in front of the simulator that notes when
// the first DELETE arrives: the time from recall's process start to its
// first cancellation leaving.
type firstCall struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	first time.Time
	seen  chan struct{}
}

func (f *firstCall) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodDelete {
		f.mu.Lock()
		if f.first.IsZero() {
			f.first = time.Now()
			close(f.seen)
		}
		f.mu.Unlock()
	}
	f.proxy.ServeHTTP(w, r)
}

func (f *firstCall) reset() {
	f.mu.Lock()
	f.first = time.Time{}
	f.seen = make(chan struct{})
	f.mu.Unlock()
}

// sectionStart measures, on the plan section's largest fixture (N IDs from
// ids_from against a state of N settled messages, N/10 of them to cancel):
// the time from `recall apply -auto-approve` starting to its first DELETE
// reaching the simulator, against the naive floor's time to read the same
// two files; and the peak RSS of the same apply run to its end.
func (h *harness) sectionStart(ctx context.Context) error {
	size := h.cfg.planSizes[len(h.cfg.planSizes)-1]
	dir := h.startDir
	if dir == "" {
		var err error
		if dir, err = h.runDir(fmt.Sprintf("start-%d", size)); err != nil {
			return err
		}
		h.logf("start: generating fixtures for %s messages", count(size))
		if err := h.genPlanFixtures(ctx, dir, size); err != nil {
			return err
		}
	}
	s, err := h.startSim(ctx)
	if err != nil {
		return err
	}
	defer h.stopSim(s)
	target, err := url.Parse(s.url)
	if err != nil {
		return err
	}
	fc := &firstCall{proxy: httputil.NewSingleHostReverseProxy(target)}
	fc.reset()
	srv := &http.Server{Handler: fc}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	proxyURL := "http://" + ln.Addr().String()

	env := []string{"CLICKATELL_TOKEN=sim-token", "CLICKATELL_ENDPOINT=" + proxyURL, "NO_COLOR=1"}
	args := []string{"apply", "-auto-approve", "-f", "from.yaml", "-state", "run.json"}
	var firsts []time.Duration
	for i := 0; i < h.cfg.runs; i++ {
		h.logf("start: first DELETE of %s messages (run %d/%d)", count(size), i+1, h.cfg.runs)
		if err := copyFile(filepath.Join(dir, "state.json"), filepath.Join(dir, "run.json")); err != nil {
			return err
		}
		_ = os.Remove(filepath.Join(dir, "run.json.lock"))
		fc.reset()
		d, err := h.untilFirstDelete(ctx, fc, env, dir, args)
		if err != nil {
			return err
		}
		firsts = append(firsts, d)
	}
	var nv planRun
	if h.startNaive != nil {
		nv = *h.startNaive // the plan section's, on the same files
	} else if nv, err = h.repeat(ctx, fmt.Sprintf("naive %s, ids_from", count(size)), func() (planRun, error) {
		return h.naivePlan(ctx, dir, "ids.txt")
	}); err != nil {
		return err
	}
	first := median(firsts, func(d time.Duration) time.Duration { return d })

	// Memory: the same apply, run to its end once.
	if err := copyFile(filepath.Join(dir, "state.json"), filepath.Join(dir, "run.json")); err != nil {
		return err
	}
	_ = os.Remove(filepath.Join(dir, "run.json.lock"))
	h.logf("start: apply of %s messages to its end (%s to cancel)", count(size), count(size/10))
	env[1] = "CLICKATELL_ENDPOINT=" + s.url
	full, err := h.measure(ctx, env, dir, io.Discard, filepath.Join(dir, "full.log"), h.recall, append(args, "-parallelism", "64")...)
	if err != nil {
		return err
	}
	if full.exit != 0 {
		return fmt.Errorf("recall apply of %s messages exited %d: %s", count(size), full.exit, tail(filepath.Join(dir, "full.log"), 5))
	}
	if !h.cfg.keep {
		_ = os.RemoveAll(dir)
	}

	h.emit("## 5. The first DELETE, and apply's memory (issue 10, points 4 and 6)\n\n")
	h.emit(fmt.Sprintf("The plan section's largest fixture: a manifest of %s IDs from `ids_from` against a state of %s settled messages, "+
		"90%% of them in the manifest (%s to cancel). *First DELETE*: from `recall apply -auto-approve` starting to its first DELETE "+
		"reaching the simulator (through a recording proxy in the harness; the run is then killed), median of %d; against `bench/naive` "+
		"reading the same two files. *Peak RSS*: wait4's ru_maxrss of the same apply run to its end (-parallelism 64, no latency). "+
		"Goals: first DELETE within 0.3× the floor's read; peak under 300 MB.\n\n",
		count(size), count(size), count(size/10), len(firsts)))
	t := &table{header: []string{"messages", "first DELETE", "naive read", "first DELETE vs naive", "apply to its end", "apply peak RSS", "naive peak RSS"}}
	t.add(count(size), fmtSecs(first), fmtSecs(nv.res.wall), ratio(first.Seconds(), nv.res.wall.Seconds()),
		fmtSecs(full.wall), fmt.Sprintf("%s (%.0f MB)", mib(full.maxRSS), float64(full.maxRSS)/1e6), mib(nv.res.maxRSS))
	h.emit(t.String())
	h.emit("\n")
	return nil
}

// untilFirstDelete starts recall, waits for the proxy's first DELETE, then
// kills recall (its process group) and returns the time from start to it.
func (h *harness) untilFirstDelete(ctx context.Context, fc *firstCall, env []string, dir string, args []string) (time.Duration, error) {
	c := h.command(ctx, h.recall, args...)
	c.Env = append(os.Environ(), env...)
	c.Dir = dir
	logf, err := os.Create(filepath.Join(dir, "first.log"))
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	c.Stdout, c.Stderr = logf, logf
	exited := make(chan error, 1)
	start := time.Now()
	if err := c.Start(); err != nil {
		return 0, err
	}
	h.track(c)
	defer h.untrack(c)
	go func() { exited <- c.Wait() }()
	fc.mu.Lock()
	seen := fc.seen
	fc.mu.Unlock()
	select {
	case <-seen:
		fc.mu.Lock()
		d := fc.first.Sub(start)
		fc.mu.Unlock()
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-exited
		return d, nil
	case err := <-exited:
		return 0, fmt.Errorf("recall apply ended (%v) before its first DELETE: %s", err, tail(filepath.Join(dir, "first.log"), 5))
	case <-time.After(2 * time.Minute):
		_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
		<-exited
		return 0, errors.New("recall apply sent no DELETE within 2 minutes")
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
