package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

// TestMain lets the tests run the command as a process: the test binary
// re-executed with CLICKATELL_SIM_MAIN=1 is clickatell-sim.
func TestMain(m *testing.M) {
	if os.Getenv("CLICKATELL_SIM_MAIN") == "1" {
		os.Args = append([]string{"clickatell-sim"}, os.Args[1:]...)
		main()
		return
	}
	os.Exit(m.Run())
}

const (
	idA = "360586640fe9846954897dffe6c13dfc"
	idB = "b09e1b1bdb5a070c978f03b6836b955c"
	idC = "0123456789abcdef0123456789abcdef"
)

func TestParseArgs(t *testing.T) {
	env := func(token string) func(string) string {
		return func(k string) string {
			if k == "CLICKATELL_TOKEN" {
				return token
			}
			return ""
		}
	}
	t.Run("defaults", func(t *testing.T) {
		o, err := parseArgs(nil, env(""), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if o.listen != "127.0.0.1:8080" || o.cfg.Token != simulator.DefaultToken || o.cfg.AnyScheduled || o.cfg.Rate != 0 {
			t.Errorf("defaults: %+v", o)
		}
	})
	t.Run("token from the environment", func(t *testing.T) {
		o, err := parseArgs(nil, env("from-env"), io.Discard)
		if err != nil || o.cfg.Token != "from-env" {
			t.Errorf("got %v, %v", o, err)
		}
		o, err = parseArgs([]string{"-token", "from-flag"}, env("from-env"), io.Discard)
		if err != nil || o.cfg.Token != "from-flag" {
			t.Errorf("-token should win over CLICKATELL_TOKEN: %v, %v", o, err)
		}
	})
	t.Run("every flag", func(t *testing.T) {
		o, err := parseArgs([]string{
			"-listen=127.0.0.1:0", "-scheduled", "a.txt", "--scheduled", "b.txt", "-delivered", "c.txt",
			"-any-scheduled", "-latency", "20ms", "-jitter", "5ms", "-rate", "100", "-burst", "7",
			"-retry-after", "3", "-fail-rate", "0.1", "-drop-rate", "0.2", "-drop-after-rate", "0.05",
			"-seed", "9", "-stats-every", "1s",
		}, env(""), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		want := simulator.Config{Token: simulator.DefaultToken, AnyScheduled: true, Latency: 20 * time.Millisecond,
			Jitter: 5 * time.Millisecond, Rate: 100, Burst: 7, RetryAfter: 3, FailRate: 0.1, DropRate: 0.2,
			DropAfterRate: 0.05, Seed: 9}
		if o.listen != "127.0.0.1:0" || strings.Join(o.scheduled, ",") != "a.txt,b.txt" ||
			strings.Join(o.delivered, ",") != "c.txt" || o.statsEvery != time.Second {
			t.Errorf("options: %+v", o)
		}
		got := o.cfg
		got.Now = nil
		if got.Token != want.Token || got.AnyScheduled != want.AnyScheduled || got.Latency != want.Latency ||
			got.Jitter != want.Jitter || got.Rate != want.Rate || got.Burst != want.Burst ||
			got.RetryAfter != want.RetryAfter || got.FailRate != want.FailRate || got.DropRate != want.DropRate ||
			got.DropAfterRate != want.DropAfterRate || got.Seed != want.Seed {
			t.Errorf("config:\n got %+v\nwant %+v", got, want)
		}
	})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope; run 'clickatell-sim -h' for usage"},
		{[]string{"-latency", "soon"}, `invalid value "soon" for flag -latency`},
		{[]string{"-latency", "-1s"}, "-latency: want a duration ≥ 0"},
		{[]string{"-rate", "-5"}, "-rate: want requests per second ≥ 0"},
		{[]string{"-rate", "NaN"}, "-rate: want requests per second ≥ 0"},
		{[]string{"-fail-rate", "5"}, "-fail-rate: want a share between 0 and 1"},
		{[]string{"-drop-rate", "-0.5"}, "-drop-rate: want a share between 0 and 1"},
		{[]string{"-fail-rate", "0.7", "-drop-rate", "0.7"}, "add up to 1.4: they must not exceed 1"},
		{[]string{"-retry-after", "-1"}, "-retry-after: want seconds ≥ 0"},
		{[]string{"-scheduled", ""}, "empty file name"},
		{[]string{"-token", "a b"}, "the token must not contain spaces"},
		{[]string{"serve"}, `unexpected argument "serve"`},
	} {
		_, err := parseArgs(tc.args, env(""), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseArgs(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	t.Run("help", func(t *testing.T) {
		var out bytes.Buffer
		_, err := parseArgs([]string{"-rate", "5", "-h"}, env(""), &out)
		if !errors.Is(err, flag.ErrHelp) {
			t.Fatalf("-h: %v", err)
		}
		for _, want := range []string{"Usage: clickatell-sim", "Examples:", "-any-scheduled", "-drop-after-rate", "/_sim/stats"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("help lacks %q", want)
			}
		}
	})
}

func TestReadIDs(t *testing.T) {
	var got []string
	collect := func(r io.Reader) error {
		got = got[:0]
		return readIDs(r, "ids.txt", func(id msgid.ID) error {
			got = append(got, id.String())
			return nil
		})
	}
	err := collect(strings.NewReader("\ufeff# exported 2026-11-27\n" + idA + "\n\n  " + strings.ToUpper(idB) + "  \r\n#" + idC + "\n"))
	if want := []string{idA, idB}; err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, tc := range []struct {
		in, want string
	}{
		{idA + "\nnot-an-id\n", `ids.txt:2: "not-an-id" is not a message ID: want 32 hexadecimal characters`},
		{"\n\n" + idA + "0\n", `ids.txt:3: "` + idA + `0" is not a message ID`},
		{strings.Repeat("x", 100) + "\n", `ids.txt:1: "` + strings.Repeat("x", 40) + `…" is not a message ID`},
		{idA + " " + idB + "\n", "ids.txt:1:"},
		{strings.Repeat("a", 2<<20), "ids.txt:1: line too long"},
	} {
		if err := collect(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("readIDs(%.50q) = %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

// call sends a stop call with the headers a correct client sends.
func call(t *testing.T, url, id, token string) (int, string) {
	t.Helper()
	return request(t, "DELETE", url, id, token)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	sched := testkit.WriteFile(t, dir, "scheduled.txt", "# to stop\n"+idA+"\n")
	deliv := testkit.WriteFile(t, dir, "delivered.txt", idB+"\n")
	const token = "secret-run-token"
	t.Setenv("CLICKATELL_TOKEN", token)
	url, r := serve(t, "-scheduled", sched, "-delivered", deliv)
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.HasSuffix(url, ":0") {
		t.Fatalf("first line %q, want the served URL", url)
	}
	for _, tc := range []struct {
		id, token string
		code      int
		body      string
	}{
		{idA, token, 200, `"messageStatus":"006"`},
		{idA, token, 200, `"messageStatus":"006"`},
		{idB, token, 200, `"messageStatus":"004"`},
		{idC, token, 404, `"code":"161"`},
		{idA, "sim-token", 401, `"code":"001"`},
	} {
		code, body := call(t, url, tc.id, tc.token)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("DELETE %s: %d %s, want %d with %s", tc.id, code, body, tc.code, tc.body)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if r.stdout.String() != url+"\n" {
		t.Errorf("stdout holds more than the URL: %q", r.stdout.String())
	}
	errOut := r.stderr.String()
	for _, want := range []string{"serving " + url + " (1 scheduled, 1 delivered IDs)\n",
		"stopped: requests=5 cancelled=1 already_cancelled=1 not_stopped=1 lookups=0 not_found=1 bad_request=0 throttled=0 failed=0 dropped=0 unauthorized=1"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(r.stdout.String()+errOut, token) {
		t.Error("the token was printed")
	}
}

// -any-scheduled with a -delivered file: listed IDs keep their status,
// duplicates count once.
func TestRun_anyScheduledWithDelivered(t *testing.T) {
	dir := t.TempDir()
	deliv := testkit.WriteFile(t, dir, "delivered.txt", idB+"\n"+strings.ToUpper(idB)+"\n"+idC+"\n")
	url, r := serve(t, "-any-scheduled", "-delivered", deliv, "-token", "t")
	for _, tc := range []struct{ id, want string }{
		{idA, `"006"`}, {idB, `"004"`}, {idC, `"004"`},
	} {
		if code, body := call(t, url, tc.id, "t"); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("DELETE %s: %d %s, want %s", tc.id, code, body, tc.want)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if want := "(0 scheduled, 2 delivered IDs; any other well-formed ID is scheduled)"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}
}

// answer is what the simulator should answer about id: the HTTP code and
// a part of the body.
type answer struct {
	id   string
	code int
	body string
}

// simRun is run serving in a goroutine of the test.
type simRun struct {
	stdout, stderr testkit.SyncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// serve starts run with args on 127.0.0.1:0 and returns the URL it
// printed first; the run is stopped when the test ends, if not before.
func serve(t *testing.T, args ...string) (string, *simRun) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := &simRun{cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- run(ctx, append([]string{"-listen", "127.0.0.1:0"}, args...), &r.stdout, &r.stderr)
	}()
	for {
		if line, _, ok := strings.Cut(r.stdout.String(), "\n"); ok {
			return line, r
		}
		select {
		case err := <-r.done:
			t.Fatalf("run ended before printing its URL: %v", err)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// stop cancels the run and returns its error.
func (r *simRun) stop() error {
	r.cancel()
	return <-r.done
}

func TestRun_errors(t *testing.T) {
	dir := t.TempDir()
	sched := testkit.WriteFile(t, dir, "scheduled.txt", idA+"\n"+idB+"\n")
	deliv := testkit.WriteFile(t, dir, "delivered.txt", "# sent\n"+strings.ToUpper(idB)+"\n")
	bad := testkit.WriteFile(t, dir, "bad.txt", idA+"\n\n"+idA[:20]+"\n")
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-scheduled", filepath.Join(dir, "missing.txt")}, "missing.txt: no such file or directory"},
		{[]string{"-scheduled", bad}, bad + `:3: "` + idA[:20] + `" is not a message ID`},
		{[]string{"-scheduled", sched, "-delivered", deliv}, deliv + ":2: " + idB + " is listed as both scheduled and delivered"},
		{[]string{"-listen", busy.Addr().String()}, "-listen " + busy.Addr().String() + ": listen tcp"},
		{[]string{"-listen", "nowhere"}, "-listen nowhere:"},
	} {
		var stdout bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) printed %q on a failed start", tc.args, stdout.String())
		}
	}
}

func TestServeURL(t *testing.T) {
	for _, tc := range []struct {
		addr net.TCPAddr
		want string
	}{
		{net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, "http://127.0.0.1:80"},
		{net.TCPAddr{IP: net.IPv4zero, Port: 81}, "http://127.0.0.1:81"},
		{net.TCPAddr{IP: net.IPv6unspecified, Port: 82}, "http://[::1]:82"},
		{net.TCPAddr{IP: net.IPv6loopback, Port: 83}, "http://[::1]:83"},
	} {
		if got := serveURL(&tc.addr); got != tc.want {
			t.Errorf("serveURL(%v) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// command starts the test binary as clickatell-sim.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "CLICKATELL_SIM_MAIN=1", "CLICKATELL_TOKEN=")
	return cmd
}

// The command as a process: URL on stdout's first line, serves, and stops
// cleanly (exit 0, final counters on stderr) on SIGINT and SIGTERM.
func TestCommand_signals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := command(t, "-listen", "127.0.0.1:0", "-any-scheduled", "-latency", "1ms", "-rate", "1000", "-retry-after", "2", "-fail-rate", "0.001", "-seed", "1")
			var stderr testkit.SyncBuffer
			cmd.Stderr = &stderr
			stdout := testkit.Start(t, cmd)
			line, err := stdout.ReadString('\n')
			if err != nil {
				t.Fatalf("reading the first line: %v\n%s", err, stderr.String())
			}
			url := strings.TrimSpace(line)
			if !strings.HasPrefix(url, "http://127.0.0.1:") {
				t.Fatalf("first line %q", line)
			}
			if code, body := call(t, url, idC, simulator.DefaultToken); code != 200 || !strings.Contains(body, `"006"`) {
				t.Fatalf("call: %d %s", code, body)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(stdout)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("after %v: %v\n%s", sig, err, stderr.String())
			}
			if len(rest) != 0 {
				t.Errorf("more on stdout after the URL: %q", rest)
			}
			if want := "clickatell-sim: injecting latency 1ms, 429 above 1000 requests/s (Retry-After: 2), 0.1% answered 503\n"; !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
			}
			if !strings.Contains(stderr.String(), "clickatell-sim: stopped: requests=1 cancelled=1 ") {
				t.Errorf("no final counters on stderr:\n%s", stderr.String())
			}
		})
	}
}

func TestCommand_usageErrors(t *testing.T) {
	var stdout, stderr bytes.Buffer
	cmd := command(t, "-drop-rate", "2")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("bad flag: %v, want exit 1", err)
	}
	if got := stderr.String(); got != "clickatell-sim: -drop-rate: want a share between 0 and 1, e.g. 0.05\n" {
		t.Errorf("stderr %q", got)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q", stdout.String())
	}

	stdout.Reset()
	stderr.Reset()
	cmd = command(t, "-h")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if !strings.HasPrefix(stdout.String(), "Usage: clickatell-sim") || stderr.Len() != 0 {
		t.Errorf("-h: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// -status gives IDs other answers: statuses outside scheduled and
// delivered, stops that do not take, and 404s of other servers.
func TestRun_status(t *testing.T) {
	dir := t.TempDir()
	const (
		expired = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1"
		stuck   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2"
		odd     = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa3"
		gateway = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa4"
		empty   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa5"
		once    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa6"
	)
	answers := testkit.WriteFile(t, dir, "answers.txt", "# answers\n"+expired+" 010\n"+stuck+"   stuck\n"+odd+" 015\n"+gateway+" 404:gateway\n"+empty+" 404:empty\n"+once+" stuck:1\n\n")
	url, r := serve(t, "-any-scheduled", "-status", answers, "-token", "t")
	for _, tc := range []answer{
		{expired, 200, `"messageStatus":"010"`},
		{stuck, 200, `"messageStatus":"011"`},
		{stuck, 200, `"messageStatus":"011"`},
		{odd, 200, `"messageStatus":"015"`},
		{gateway, 404, `{"error":{"code":"404"}}`},
		{empty, 404, ""},
		{once, 200, `"messageStatus":"011"`},
		{once, 200, `"messageStatus":"006"`},
		{idA, 200, `"messageStatus":"006"`},
	} {
		code, body := call(t, url, tc.id, "t")
		if code != tc.code || !strings.Contains(body, tc.body) || tc.body == "" && body != "" {
			t.Errorf("DELETE %s: %d %q, want %d with %q", tc.id, code, body, tc.code, tc.body)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if want := "(0 scheduled, 0 delivered IDs, 6 with other answers; any other well-formed ID is scheduled)"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}

	sched := testkit.WriteFile(t, dir, "scheduled.txt", expired+"\n")
	for _, tc := range []struct {
		file, want string
	}{
		{testkit.WriteFile(t, dir, "bad1.txt", expired+"\n"), `bad1.txt:1: "` + expired + `": want an ID and an answer`},
		{testkit.WriteFile(t, dir, "bad2.txt", expired+" 404:teapot\n"), `bad2.txt:1: unknown answer "404:teapot": want a status 001 to 014, stuck`},
		{testkit.WriteFile(t, dir, "bad3.txt", "\nxyz 010\n"), `bad3.txt:2: "xyz" is not a message ID`},
		{testkit.WriteFile(t, dir, "bad4.txt", expired+" 010\n"), `bad4.txt:1: ` + expired + ` is listed as both scheduled and status 010`},
	} {
		err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-scheduled", sched, "-status", tc.file}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("-status %s: %v, want an error containing %q", filepath.Base(tc.file), err, tc.want)
		}
	}
}
