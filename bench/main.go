// Command bench measures recall against what its users do today, on one
// machine in one run, and prints the results as markdown tables:
//
//  1. apply against the documented way: the reference page's
//     `curl -X DELETE` once per message, one after another and 16 at a time
//     with `xargs -P 16`, against clickatell-sim with latency and a
//     throttle. Wall time, messages left scheduled, calls throttled, CPU.
//  2. plan at 10,000, 100,000 and 1,000,000 messages (ids_from and inline
//     YAML) against a naive standard-library program (bench/naive): wall
//     time and peak RSS.
//     Then (-sections start), on the largest plan fixture: the time
//     from apply's start to its first DELETE, against the naive floor's
//     read of the same files, and that apply's peak RSS.
//  3. apply throughput at several -parallelism settings against the ideal
//     (parallelism / latency) and against a throttle cap; then, against a
//     cap recall is not told (with and without Retry-After), the share of
//     the cap kept and the calls answered 429 (-sections cap: that table
//     alone).
//
// Usage, from the repository root:
//
//	go run ./bench           # the full suite, a few minutes
//	go run ./bench -quick    # smaller sizes, one run per row, about a minute
//
// It builds recall, clickatell-sim and the naive floor into a temporary
// directory, generates every fixture there, talks only to the simulator on
// loopback (no token, no network), and removes everything, child processes
// included, when it ends or is interrupted.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/outcome"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
)

const usage = `Usage: go run ./bench [flags]

Builds recall and clickatell-sim, then measures, on this machine and in this
run: recall apply against per-message curl calls (sequential and xargs -P 16)
under a throttling simulator; recall plan at 10k/100k/1M messages against a
naive standard-library program; and apply throughput against the ideal at
several -parallelism settings. Prints markdown tables on stdout; progress on
stderr.

Examples:

  go run ./bench                      # full suite
  go run ./bench -quick               # smaller sizes, one run per row
  go run ./bench -sections plan -plan-sizes 1000000
  go run ./bench -o docs/bench-output.md

Flags:
`

type config struct {
	quick     bool
	runs      int
	sections  []string
	planSizes []int
	n         int // messages per row of the curl comparison
	latency   time.Duration
	rate      int // throttle of the main comparison, requests per second
	lowRate   int // throttle of the second comparison
	keep      bool
	out       string
	capRows   []capRow // rows of the cap section to run instead of its table
}

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	c := &config{}
	var sections, sizes, capRows string
	fs.BoolVar(&c.quick, "quick", false, "smaller sizes and one run per row (about a minute)")
	fs.IntVar(&c.runs, "runs", 0, "runs per row; the median is reported (default 3, or 1 with -quick)")
	fs.StringVar(&sections, "sections", "apply,plan,start,state-read,throughput", "comma-separated `LIST` of sections to run")
	fs.StringVar(&sizes, "plan-sizes", "", "comma-separated message `COUNTS` for the plan section (default 10000,100000,1000000; -quick: 10000,100000)")
	fs.IntVar(&c.n, "n", 0, "`MESSAGES` per row of the curl comparison (default 1000; -quick: 300); the second table uses half")
	fs.DurationVar(&c.latency, "latency", 20*time.Millisecond, "simulated API `LATENCY`")
	fs.IntVar(&c.rate, "rate", 800, "simulator throttle for the main comparison, requests per `SECOND`")
	fs.IntVar(&c.lowRate, "low-rate", 100, "simulator throttle for the second comparison (Clickatell's guidance: about 100/s)")
	fs.BoolVar(&c.keep, "keep", false, "keep the temporary directory (fixtures, logs) and print its path")
	fs.StringVar(&c.out, "o", "", "also write the report to `FILE`")
	fs.StringVar(&capRows, "cap-rows", "", "comma-separated `ROWS` for the cap section to run instead of its table, each R/S/P[/N]: the API's cap, Retry-After in seconds (0: none), -parallelism, messages (default R × 15 s)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; run 'go run ./bench -h' for usage", fs.Arg(0))
	}
	if c.runs == 0 {
		c.runs = 3
		if c.quick {
			c.runs = 1
		}
	}
	if c.n == 0 {
		c.n = 1000
		if c.quick {
			c.n = 300
		}
	}
	if sizes == "" {
		sizes = "10000,100000,1000000"
		if c.quick {
			sizes = "10000,100000"
		}
	}
	for _, s := range strings.Split(sizes, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 10 {
			return nil, fmt.Errorf("-plan-sizes: %q is not a message count of at least 10", s)
		}
		c.planSizes = append(c.planSizes, v)
	}
	if capRows != "" {
		for _, s := range strings.Split(capRows, ",") {
			r, err := parseCapRow(strings.TrimSpace(s))
			if err != nil {
				return nil, err
			}
			c.capRows = append(c.capRows, r)
		}
	}
	known := []string{"apply", "plan", "start", "state-read", "throughput", "cap"}
	for _, s := range strings.Split(sections, ",") {
		s = strings.TrimSpace(s)
		if !slices.Contains(known, s) {
			return nil, fmt.Errorf("-sections: unknown section %q (known: %s)", s, strings.Join(known, ", "))
		}
		c.sections = append(c.sections, s)
	}
	if c.runs < 1 || c.n < 10 || c.latency <= 0 || c.rate <= 0 || c.lowRate <= 0 {
		return nil, errors.New("-runs, -n, -latency, -rate and -low-rate must be positive (and -n at least 10)")
	}
	return c, nil
}

// parseCapRow reads R/S/P[/N] (see the -cap-rows flag).
func parseCapRow(s string) (capRow, error) {
	parts := strings.Split(s, "/")
	var v []int
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			break
		}
		v = append(v, n)
	}
	if len(v) != len(parts) || len(v) < 3 || len(v) > 4 || v[0] <= 0 || v[1] < 0 || v[2] <= 0 || len(v) == 4 && v[3] < 10 {
		return capRow{}, fmt.Errorf("-cap-rows: %q is not R/S/P[/N] (a cap, Retry-After seconds, -parallelism, at least 10 messages)", s)
	}
	r := capRow{rate: v[0], retryAfter: v[1], p: v[2]}
	if len(v) == 4 {
		r.n = v[3]
	}
	return r, nil
}

// genCommand re-executes this program as the fixture generator.
const genCommand = "__generate-plan-fixtures"

func main() {
	if (len(os.Args) == 4 || len(os.Args) == 5 && os.Args[4] == layoutsArg) && os.Args[1] == genCommand {
		n, err := strconv.Atoi(os.Args[3])
		if err == nil {
			err = writePlanFixtures(os.Args[2], n)
		}
		if err == nil && len(os.Args) == 5 {
			err = writeStateLayouts(os.Args[2])
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench: generating fixtures:", err)
			os.Exit(1)
		}
		return
	}
	cfg, err := parseConfig(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	h := &harness{cfg: cfg, log: os.Stderr}
	err = h.run(ctx)
	interrupted := ctx.Err() != nil
	stop()
	h.cleanup()
	if err != nil {
		if interrupted {
			fmt.Fprintln(os.Stderr, "bench: interrupted; child processes stopped and temporary files removed")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// harness owns the temporary directory, the built binaries and every child
// process, so that cleanup can stop and remove all of them.
type harness struct {
	cfg    *config
	log    io.Writer
	tmp    string
	recall string
	sim    string
	naive  string
	curl   string // empty when curl is not installed

	// startDir and startNaive are the plan section's largest fixture
	// and the floor's read of it, kept for the start section.
	startDir   string
	startNaive *planRun

	mu       sync.Mutex
	children map[*exec.Cmd]bool
	report   strings.Builder
	seq      int
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "bench: "+format+"\n", args...)
}

func (h *harness) run(ctx context.Context) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	h.tmp, err = os.MkdirTemp("", "recall-bench-")
	if err != nil {
		return err
	}
	h.children = map[*exec.Cmd]bool{}
	if err := h.build(ctx, root); err != nil {
		return err
	}
	if err := h.preflight(ctx); err != nil {
		return err
	}
	h.header()
	for _, s := range h.cfg.sections {
		var err error
		switch s {
		case "apply":
			err = h.sectionApply(ctx)
		case "plan":
			err = h.sectionPlan(ctx)
		case "start":
			err = h.sectionStart(ctx)
		case "state-read":
			err = h.sectionStateRead(ctx)
		case "throughput":
			err = h.sectionThroughput(ctx)
		case "cap":
			err = h.throughputAtCap(ctx) // also part of throughput
		}
		if err != nil {
			return fmt.Errorf("%s section: %w", s, err)
		}
	}
	if h.cfg.out != "" {
		if err := os.WriteFile(h.cfg.out, []byte(h.report.String()), 0o644); err != nil {
			return err
		}
		h.logf("report written to %s", h.cfg.out)
	}
	return nil
}

// emit prints report text to stdout as it is produced and keeps it for -o.
func (h *harness) emit(s string) {
	fmt.Print(s)
	h.report.WriteString(s)
}

func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w (is the go command installed?)", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the recall module: run this from a clone of the repository (go run ./bench)")
	}
	return filepath.Dir(mod), nil
}

func (h *harness) build(ctx context.Context, root string) error {
	h.recall = filepath.Join(h.tmp, "bin", "recall")
	h.sim = filepath.Join(h.tmp, "bin", "clickatell-sim")
	h.naive = filepath.Join(h.tmp, "bin", "naive")
	for _, b := range []struct{ out, pkg string }{
		{h.recall, "./cmd/recall"},
		{h.sim, "./cmd/clickatell-sim"},
		{h.naive, "./bench/naive"},
	} {
		h.logf("building %s", b.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", b.pkg, err, out)
		}
	}
	if p, err := exec.LookPath("curl"); err == nil {
		h.curl = p
	}
	return nil
}

// preflight checks that this build of recall has the commands the suite
// drives, so that a missing piece fails here with one clear message.
func (h *harness) preflight(ctx context.Context) error {
	for _, c := range []struct{ cmd, section string }{{"plan", "plan"}, {"apply", "apply and throughput"}} {
		out, err := exec.CommandContext(ctx, h.recall, c.cmd, "-h").CombinedOutput()
		if err != nil {
			first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
			return fmt.Errorf("this build of recall cannot run `recall %s` (`recall %s -h`: %v: %s); the %s section needs it",
				c.cmd, c.cmd, err, first, c.section)
		}
	}
	if h.curl == "" && slices.Contains(h.cfg.sections, "apply") {
		h.logf("curl is not installed, so the curl rows are skipped; install it (Debian/Ubuntu: apt-get install curl) to compare against the documented way")
	}
	return nil
}

func (h *harness) header() {
	var b strings.Builder
	fmt.Fprintf(&b, "# recall benchmarks\n\n")
	fmt.Fprintf(&b, "Command: `go run ./bench %s`  \n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(&b, "Date: %s  \n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %d CPUs, %s, %s, Linux %s, load average at start %s  \n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), readTrim("/proc/sys/kernel/osrelease"), loadavg())
	if h.curl != "" {
		if out, err := exec.Command(h.curl, "--version").Output(); err == nil {
			first, _, _ := strings.Cut(string(out), "\n")
			f := strings.Fields(first)
			if len(f) >= 2 {
				fmt.Fprintf(&b, "curl: %s  \n", f[1])
			}
		}
	}
	fmt.Fprintf(&b, "Runs per row: %d (median shown)\n\n", h.cfg.runs)
	h.emit(b.String())
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func readTrim(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

func loadavg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ---------------------------------------------------------------- processes

// track registers a started child; untrack forgets a finished one.
func (h *harness) track(c *exec.Cmd) {
	h.mu.Lock()
	h.children[c] = true
	h.mu.Unlock()
}

func (h *harness) untrack(c *exec.Cmd) {
	h.mu.Lock()
	delete(h.children, c)
	h.mu.Unlock()
}

// command returns a command in its own process group, killed as a group
// when ctx ends, so that bash, xargs and every curl go together.
func (h *harness) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, name, args...)
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	c.WaitDelay = 5 * time.Second
	return c
}

// cleanup stops every child still running (its whole process group) and
// removes the temporary directory unless -keep.
func (h *harness) cleanup() {
	h.mu.Lock()
	cmds := make([]*exec.Cmd, 0, len(h.children))
	for c := range h.children {
		cmds = append(cmds, c)
	}
	h.mu.Unlock()
	for _, c := range cmds {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, c := range cmds {
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	if h.tmp == "" {
		return
	}
	if h.cfg.keep {
		h.logf("kept %s", h.tmp)
		return
	}
	_ = os.RemoveAll(h.tmp)
}

// result is one measured process.
type result struct {
	wall      time.Duration
	user, sys time.Duration
	maxRSS    int64 // bytes
	exit      int
}

func (r result) cpu() time.Duration { return r.user + r.sys }

// measure runs a command to completion and reports its wall time and the
// rusage of it and its waited-for descendants (wait4).
func (h *harness) measure(ctx context.Context, env []string, dir string, stdout io.Writer, logPath string, name string, args ...string) (result, error) {
	c := h.command(ctx, name, args...)
	c.Env = append(os.Environ(), env...)
	c.Dir = dir
	c.Stdout = stdout
	logf, err := os.Create(logPath)
	if err != nil {
		return result{}, err
	}
	defer logf.Close()
	if c.Stdout == nil {
		c.Stdout = logf
	}
	c.Stderr = logf
	start := time.Now()
	if err := c.Start(); err != nil {
		return result{}, err
	}
	h.track(c)
	err = c.Wait()
	wall := time.Since(start)
	h.untrack(c)
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return result{}, err
	}
	r := result{wall: wall, exit: c.ProcessState.ExitCode()}
	if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.user = time.Duration(ru.Utime.Nano())
		r.sys = time.Duration(ru.Stime.Nano())
		r.maxRSS = ru.Maxrss * 1024 // KiB on Linux
	}
	return r, nil
}

// tail returns the last lines of a log, for error messages.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ---------------------------------------------------------------- simulator

type sim struct {
	cmd    *exec.Cmd
	url    string
	client *http.Client
}

// simStats are the simulator's counters (GET /_sim/stats).
type simStats struct {
	Requests    int64 `json:"requests"`
	Cancelled   int64 `json:"cancelled"`
	Throttled   int64 `json:"throttled"`
	Failed      int64 `json:"failed"`
	MaxInFlight int64 `json:"max_in_flight"`
}

func (h *harness) startSim(ctx context.Context, args ...string) (*sim, error) {
	all := append([]string{"-listen", "127.0.0.1:0", "-any-scheduled", "-seed", "1"}, args...)
	c := h.command(ctx, h.sim, all...)
	c.Env = append(os.Environ(), "CLICKATELL_TOKEN=sim-token")
	out, err := c.StdoutPipe()
	if err != nil {
		return nil, err
	}
	h.seq++
	logPath := filepath.Join(h.tmp, fmt.Sprintf("sim-%d.log", h.seq))
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	c.Stderr = logf
	if err := c.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	logf.Close()
	h.track(c)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	s := &sim{cmd: c, client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}}
	select {
	case line, ok := <-lines:
		if !ok || !strings.HasPrefix(line, "http://") {
			h.stopSim(s)
			return nil, fmt.Errorf("clickatell-sim %s did not print its URL (got %q): %s", strings.Join(args, " "), line, tail(logPath, 5))
		}
		s.url = strings.TrimSpace(line)
	case <-time.After(10 * time.Second):
		h.stopSim(s)
		return nil, errors.New("clickatell-sim did not print its URL within 10s")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s, nil
}

func (h *harness) stopSim(s *sim) {
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	h.untrack(s.cmd)
}

func (s *sim) stats(ctx context.Context) (simStats, error) {
	var st simStats
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/_sim/stats", nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /_sim/stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// leftScheduled asks the simulator, ID by ID, how many of ids are still
// scheduled (status 011): the messages that would still go out.
func (s *sim) leftScheduled(ctx context.Context, ids []string) (int, error) {
	var (
		mu       sync.Mutex
		left     int
		firstErr error
		wg       sync.WaitGroup
	)
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for id := range work {
				st, err := s.status(ctx, id)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if st == "011" {
					left++
				}
				mu.Unlock()
			}
		})
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return left, firstErr
}

func (s *sim) status(ctx context.Context, id string) (string, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/_sim/calls/"+id, nil)
	resp, err := s.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var v struct {
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		return "", fmt.Errorf("GET /_sim/calls/%s: %w", id, err)
	}
	return v.Status, nil
}

// ---------------------------------------------------------------- fixtures

// newIDs returns n random, distinct message IDs.
func newIDs(n int) []string {
	ids := make([]string, 0, n)
	seen := make(map[[2]uint64]bool, n)
	for len(ids) < n {
		k := [2]uint64{rand.Uint64(), rand.Uint64()}
		if seen[k] {
			continue
		}
		seen[k] = true
		ids = append(ids, fmt.Sprintf("%016x%016x", k[0], k[1]))
	}
	return ids
}

func writeLines(path, header string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(header)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeManifest writes a one-group manifest whose IDs come from an ids_from
// file (idsFrom != "") or are inline.
func writeManifest(path, group, idsFrom string, inline []string) error {
	header := "version: 1\ncancel:\n  - name: " + group + "\n    reason: generated by recall's benchmark suite\n"
	if idsFrom != "" {
		return writeLines(path, header+"    ids_from: "+idsFrom+"\n", nil)
	}
	lines := make([]string, len(inline))
	for i, id := range inline {
		lines[i] = "      - " + id
	}
	return writeLines(path, header+"    ids:\n", lines)
}

// writeState writes a state holding ids as cancelled, with recall's own
// file backend, so that the file is exactly what recall would have written.
func writeState(path string, ids []string) error {
	st := state.New()
	st.Serial = 1
	st.RecallVersion = "bench"
	st.Reserve(len(ids))
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, s := range ids {
		id, err := msgid.Parse(s)
		if err != nil {
			return err
		}
		st.Set(id, state.Record{Outcome: outcome.Cancelled, Status: "006", Description: "User cancelled message delivery", Group: "bench", At: at})
	}
	return local.WriteFile(path, st)
}

// runDir makes a fresh directory for one measured run.
func (h *harness) runDir(prefix string) (string, error) {
	h.seq++
	dir := filepath.Join(h.tmp, fmt.Sprintf("%s-%03d", prefix, h.seq))
	return dir, os.MkdirAll(dir, 0o755)
}

// ---------------------------------------------------------------- formatting

type table struct {
	header []string
	rows   [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) String() string {
	width := make([]int, len(t.header))
	for i, h := range t.header {
		width[i] = len(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			width[i] = max(width[i], len(c))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			fmt.Fprintf(&b, " %-*s |", width[i], c)
		}
		b.WriteString("\n")
	}
	line(t.header)
	sep := make([]string, len(t.header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	return b.String() + "\n"
}

func fmtSecs(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s >= 100:
		return fmt.Sprintf("%.0f s", s)
	case s >= 10:
		return fmt.Sprintf("%.1f s", s)
	default:
		return fmt.Sprintf("%.2f s", s)
	}
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func count(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func pct(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f%%", 100*a/b)
}

// median returns the run with the median wall time.
func median[T any](runs []T, wall func(T) time.Duration) T {
	s := slices.Clone(runs)
	slices.SortFunc(s, func(a, b T) int { return int(wall(a) - wall(b)) })
	return s[len(s)/2]
}

var planLine = regexp.MustCompile(`Plan: ([0-9,]+) to cancel`)
