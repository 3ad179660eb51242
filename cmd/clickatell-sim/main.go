// Command clickatell-sim serves Clickatell's legacy REST stop-message API on
// loopback, for demos and for pipeline tests of recall (or of anything else
// that cancels Clickatell messages). It prints the URL it serves as the
// first line of its standard output, so that scripts can start it on port 0
// and read where it listens.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills at once.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintf(os.Stderr, "clickatell-sim: %v\n", err)
		os.Exit(1)
	}
}

const usage = `Usage: clickatell-sim [flags]

Serves Clickatell's REST stop-message API (DELETE /rest/message/{id}, and
GET for a message's status) for demos and pipeline tests. The URL it serves
is the first line of standard output; a summary of what it saw goes to
standard error when it stops (SIGINT or SIGTERM).

Answers: a scheduled ID is cancelled (200, status 006) and stays cancelled
(006 again on the next DELETE); a delivered ID answers 200 with status 004;
an unknown ID answers 404 with error 161; a wrong token 401 with error 001;
a missing "X-Version: 1" 400 with error 165. JSON or XML, by Accept.
GET /rest/message/{id} answers the message's current status without
changing it (200 with 011 scheduled, 006 cancelled, 004 delivered; 404 with
error 161 unknown), with the same checks, throttling and faults as DELETE;
the "stops" counter of GET /_sim/stats counts every DELETE.

ID files hold one 32-character hexadecimal ID a line; blank lines and lines
starting with # are ignored.

A -status file gives IDs other answers, one "ID ANSWER" a line (blank and #
lines ignored), for tests of what a client does with them. ANSWER is:
  001 … 014    the message has that status (011 scheduled, 010 expired, …)
  stuck        scheduled, but every stop answers 011: the stop did not take
  stuck:N      the first N stops answer 011, later ones cancel it (006)
  NNN          another three-digit status (015, 999), not in Clickatell's table
  404:161      404 with Clickatell's error 161 (also 404:103, 404:104)
  404:empty    404 with an empty body
  404:html     404 with a web server's HTML page
  404:text     404 with a plain-text page
  404:gateway  404 with a gateway's own JSON, {"error":{"code":"404"}}
  404:nocode   404 with an error object that has no code
  404:data     404 with a data body (status 001)

Admin endpoints (no token): GET /_sim/stats, GET /_sim/calls/{id}.

Examples:

  # Demo: every well-formed ID is scheduled, on a free port.
  clickatell-sim -listen 127.0.0.1:0 -any-scheduled

  # A pipeline test: known IDs, a slow and flaky API, throttled at 100/s.
  clickatell-sim -scheduled ids.txt -delivered sent.txt \
      -latency 20ms -jitter 10ms -rate 100 -retry-after 1 -fail-rate 0.02

  # Expired, stuck and gateway-404 messages beside scheduled ones, with
  # answers.txt holding lines such as
  #   360586640fe9846954897dffe6c13dfc 010
  #   b09e1b1bdb5a070c978f03b6836b955c stuck
  #   0c2a7f3e9b1d4c5a8e6f7a9b0c1d2e3f 404:gateway
  clickatell-sim -any-scheduled -status answers.txt

  # In a shell script: start it, read its URL, point recall at it.
  export CLICKATELL_TOKEN=sim-token
  clickatell-sim -listen 127.0.0.1:0 -any-scheduled > sim.out &
  sim=$!
  until [ -s sim.out ]; do sleep 0.1; done
  export CLICKATELL_ENDPOINT=$(head -n1 sim.out)
  recall apply -auto-approve
  curl -s "$CLICKATELL_ENDPOINT/_sim/stats"
  kill $sim
`

// options are the parsed command line.
type options struct {
	listen     string
	cfg        simulator.Config
	cancelled  []string // -cancelled files: IDs cancelled in the portal
	scheduled  []string
	delivered  []string
	statuses   []string
	statsEvery time.Duration
}

type filesFlag []string

func (f *filesFlag) String() string { return strings.Join(*f, ",") }
func (f *filesFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty file name")
	}
	*f = append(*f, v)
	return nil
}

// parseArgs parses the command line; getenv supplies CLICKATELL_TOKEN.
// With -h it prints the usage to stdout and returns flag.ErrHelp.
func parseArgs(args []string, getenv func(string) string, stdout io.Writer) (*options, error) {
	o := &options{}
	var canc filesFlag
	fs := flag.NewFlagSet("clickatell-sim", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var sched, deliv, stat filesFlag
	tokenDefault := "$CLICKATELL_TOKEN, else " + simulator.DefaultToken
	fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "`ADDR` to listen on; port 0 picks a free port")
	token := fs.String("token", "", "the accepted bearer `TOKEN` (default "+tokenDefault+")")
	fs.Var(&sched, "scheduled", "`FILE` of IDs that are scheduled (stoppable); repeatable")
	fs.Var(&canc, "cancelled", "`FILE` of IDs already cancelled (status 006), e.g. in Clickatell's portal; repeatable")
	fs.Var(&deliv, "delivered", "`FILE` of IDs that are already delivered (status 004); repeatable")
	fs.Var(&stat, "status", "`FILE` of \"ID ANSWER\" lines giving IDs other statuses and answers (see above); repeatable")
	fs.BoolVar(&o.cfg.AnyScheduled, "any-scheduled", false, "treat every well-formed ID not listed as scheduled")
	fs.DurationVar(&o.cfg.Latency, "latency", 0, "`DURATION` added to every answer")
	fs.DurationVar(&o.cfg.Jitter, "jitter", 0, "up to this random `DURATION` added to every answer, on top of -latency")
	fs.Float64Var(&o.cfg.Rate, "rate", 0, "answer 429 above `N` requests per second (0: never)")
	fs.IntVar(&o.cfg.Burst, "burst", 0, "`N` requests let through at once above -rate (default: rate/10, at least 2)")
	fs.IntVar(&o.cfg.RetryAfter, "retry-after", 0, "send Retry-After: `S` seconds with each 429 (0: no header)")
	fs.Float64Var(&o.cfg.FailRate, "fail-rate", 0, "share `F` (0 to 1) of calls answered 503 with error 901")
	fs.Float64Var(&o.cfg.DropRate, "drop-rate", 0, "share `F` (0 to 1) of calls cut without an answer, before acting")
	fs.Float64Var(&o.cfg.DropAfterRate, "drop-after-rate", 0, "share `F` (0 to 1) of calls cut without an answer after acting (the message is cancelled, the answer lost)")
	fs.Int64Var(&o.cfg.Seed, "seed", 0, "`SEED` for faults and jitter, for reproducible runs (0: random)")
	fs.DurationVar(&o.statsEvery, "stats-every", 0, "print the counters to stderr every `DURATION` (0: only when stopping)")

	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(stdout)
			fmt.Fprint(stdout, usage)
			fmt.Fprintln(stdout, "\nFlags:")
			fs.PrintDefaults()
			return nil, flag.ErrHelp
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%v; run 'clickatell-sim -h' for usage", err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: clickatell-sim takes only flags; run 'clickatell-sim -h' for usage", fs.Arg(0))
	}
	o.scheduled, o.delivered, o.statuses = sched, deliv, stat
	switch {
	case *token != "":
		o.cfg.Token = *token
	case getenv("CLICKATELL_TOKEN") != "":
		o.cfg.Token = getenv("CLICKATELL_TOKEN")
	default:
		o.cfg.Token = simulator.DefaultToken
	}
	o.cancelled = canc
	if o.statsEvery < 0 {
		return nil, errors.New("-stats-every must not be negative")
	}
	// Check the simulator's settings now, so that errors name the flags.
	checks := []struct {
		bad  bool
		flag string
		want string
	}{
		{o.cfg.Latency < 0, "-latency", "a duration ≥ 0, e.g. 20ms"},
		{o.cfg.Jitter < 0, "-jitter", "a duration ≥ 0, e.g. 10ms"},
		{!(o.cfg.Rate >= 0) || o.cfg.Rate > 1e9, "-rate", "requests per second ≥ 0 (0: no limit)"},
		{o.cfg.Burst < 0, "-burst", "a count ≥ 0"},
		{o.cfg.RetryAfter < 0, "-retry-after", "seconds ≥ 0"},
		{!(o.cfg.FailRate >= 0 && o.cfg.FailRate <= 1), "-fail-rate", "a share between 0 and 1, e.g. 0.05"},
		{!(o.cfg.DropRate >= 0 && o.cfg.DropRate <= 1), "-drop-rate", "a share between 0 and 1, e.g. 0.05"},
		{!(o.cfg.DropAfterRate >= 0 && o.cfg.DropAfterRate <= 1), "-drop-after-rate", "a share between 0 and 1, e.g. 0.05"},
	}
	for _, c := range checks {
		if c.bad {
			return nil, fmt.Errorf("%s: want %s", c.flag, c.want)
		}
	}
	if sum := o.cfg.FailRate + o.cfg.DropRate + o.cfg.DropAfterRate; sum > 1+1e-9 {
		return nil, fmt.Errorf("-fail-rate, -drop-rate and -drop-after-rate add up to %g: they must not exceed 1", sum)
	}
	if strings.ContainsAny(o.cfg.Token, " \t\r\n") {
		return nil, errors.New("the token must not contain spaces or line breaks (check -token or CLICKATELL_TOKEN)")
	}
	return o, nil
}

// run serves until ctx ends, then shuts down and prints the counters.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, os.Getenv, stdout)
	if err != nil {
		return err
	}
	sim, err := simulator.New(o.cfg)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	for _, l := range []struct {
		files  []string
		status string
	}{{o.scheduled, simulator.StatusScheduled}, {o.delivered, simulator.StatusDelivered}, {o.cancelled, simulator.StatusCancelled}} {
		for _, name := range l.files {
			n, err := loadIDs(sim, name, l.status)
			if err != nil {
				return err
			}
			counts[l.status] += n
		}
	}
	others := 0
	for _, name := range o.statuses {
		n, err := loadAnswers(sim, name)
		if err != nil {
			return err
		}
		others += n
	}

	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("-listen %s: %w", o.listen, err)
	}
	url := serveURL(ln.Addr().(*net.TCPAddr))
	srv := &http.Server{
		Handler:           sim,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if _, err := fmt.Fprintln(stdout, url); err != nil {
		ln.Close()
		return fmt.Errorf("printing the URL: %w", err)
	}
	what := fmt.Sprintf("%d scheduled, %d delivered IDs", counts[simulator.StatusScheduled], counts[simulator.StatusDelivered])
	if others > 0 {
		what += fmt.Sprintf(", %d with other answers", others)
	}
	if o.cfg.AnyScheduled {
		what += "; any other well-formed ID is scheduled"
	}
	if n := counts[simulator.StatusCancelled]; n > 0 {
		what += fmt.Sprintf("; %d cancelled", n)
	}
	fmt.Fprintf(stderr, "clickatell-sim: serving %s (%s)\n", url, what)
	if f := faults(o.cfg); f != "" {
		fmt.Fprintf(stderr, "clickatell-sim: injecting %s\n", f)
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		fmt.Fprintf(stderr, "clickatell-sim: warning: listening on %s, reachable from other machines\n", ln.Addr())
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	var tick <-chan time.Time
	if o.statsEvery > 0 {
		t := time.NewTicker(o.statsEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-served:
			return fmt.Errorf("serving: %w", err)
		case <-tick:
			fmt.Fprintf(stderr, "clickatell-sim: %s\n", sim.Stats())
		case <-ctx.Done():
			// Finish the answers in flight (latency included), then stop.
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := srv.Shutdown(sctx)
			cancel()
			if err != nil {
				srv.Close()
			}
			fmt.Fprintf(stderr, "clickatell-sim: stopped: %s\n", sim.Stats())
			return nil
		}
	}
}

// faults describes the faults cfg injects, "" for none.
func faults(cfg simulator.Config) string {
	var parts []string
	if cfg.Latency > 0 || cfg.Jitter > 0 {
		l := "latency " + cfg.Latency.String()
		if cfg.Jitter > 0 {
			l += " + up to " + cfg.Jitter.String()
		}
		parts = append(parts, l)
	}
	if cfg.Rate > 0 {
		r := fmt.Sprintf("429 above %g requests/s", cfg.Rate)
		if cfg.RetryAfter > 0 {
			r += fmt.Sprintf(" (Retry-After: %d)", cfg.RetryAfter)
		}
		parts = append(parts, r)
	}
	for _, f := range []struct {
		share float64
		what  string
	}{{cfg.FailRate, "answered 503"}, {cfg.DropRate, "dropped"}, {cfg.DropAfterRate, "dropped after acting"}} {
		if f.share > 0 {
			parts = append(parts, fmt.Sprintf("%g%% %s", f.share*100, f.what))
		}
	}
	return strings.Join(parts, ", ")
}

// serveURL is the URL clients use for addr: an unspecified address (":8080",
// "0.0.0.0") is reached on loopback.
func serveURL(addr *net.TCPAddr) string {
	ip := addr.IP
	if ip == nil || ip.IsUnspecified() {
		if ip != nil && ip.To4() == nil {
			ip = net.IPv6loopback
		} else {
			ip = net.IPv4(127, 0, 0, 1)
		}
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(addr.Port))
}

// loadIDs reads an ID file into sim with status, and returns how many IDs
// it added (an ID listed twice counts once). An ID already given another
// status by an earlier file is an error, as is a malformed line (shown up
// to 40 characters).
func loadIDs(sim *simulator.Simulator, name, status string) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	err = readIDs(f, name, func(id msgid.ID) error {
		added, err := sim.AddStatus(id, status)
		if added {
			n++
		}
		return err
	})
	return n, err
}

// loadAnswers reads a -status file ("ID ANSWER" lines) into sim, and
// returns how many IDs it added. Errors are name:line: message.
func loadAnswers(sim *simulator.Simulator, name string) (int, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	err = eachLine(f, name, "want an ID and an answer a line", func(text string) error {
		fields := strings.Fields(text)
		if len(fields) != 2 {
			return fmt.Errorf("%q: want an ID and an answer, e.g. 360586640fe9846954897dffe6c13dfc 010", clip(text))
		}
		id, err := msgid.Parse(fields[0])
		if err != nil {
			return fmt.Errorf("%q is not a message ID: want 32 hexadecimal characters", clip(fields[0]))
		}
		added, err := sim.AddAnswer(id, fields[1])
		var ae *simulator.AnswerError
		if errors.As(err, &ae) {
			return errors.New(ae.Reason())
		} else if err != nil {
			return err
		}
		if added {
			n++
		}
		return nil
	})
	return n, err
}

// readIDs calls fn for each ID in r, reporting errors as name:line: message.
func readIDs(r io.Reader, name string, fn func(msgid.ID) error) error {
	return eachLine(r, name, "want one ID a line", func(text string) error {
		id, err := msgid.Parse(text)
		if err != nil {
			return fmt.Errorf("%q is not a message ID: want 32 hexadecimal characters", clip(text))
		}
		return fn(id)
	})
}

// eachLine calls fn with each line of r that is neither blank nor a #
// comment, trimmed (and without a byte order mark on the first), and
// reports its errors as name:line: message; a line longer than 1 MiB is an
// error that says tooLong.
func eachLine(r io.Reader, name, tooLong string, fn func(text string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := fn(text); err != nil {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("%s:%d: line too long: %s", name, line+1, tooLong)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// clip shortens s to 40 characters for an error message.
func clip(s string) string {
	r := []rune(s)
	if len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}
