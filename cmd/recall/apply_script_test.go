package main

import (
	"encoding/json"
	"flag"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/recallhq/recall/msgid"
	"github.com/recallhq/recall/simulator"
)

// The apply scripts (testdata/script/apply_*.txtar) get these commands on
// top of the common ones:
//
//	sim [clickatell-sim flags]    start a simulator on loopback; sets
//	                              CLICKATELL_ENDPOINT and CLICKATELL_TOKEN=$TOKEN
//	sim-calls ID N                the simulator saw exactly N stop calls for ID
//	sim-stats NAME OP N           a counter of simulator.Stats (by its JSON
//	                              name) compared with N (==, <= or >=)
//	sim-token TOKEN               change the token the simulator accepts
//	sim-answer ID ANSWER          give ID another answer (simulator.SetAnswer:
//	                              a status, stuck, 015, 404:gateway, …)
//
// sim takes clickatell-sim's -status FILE of "ID ANSWER" lines too.
//
// and $TOKEN, the test token, which no output or file may contain.
func init() {
	scriptSetups = append(scriptSetups, func(env *testscript.Env) error {
		env.Setenv("TOKEN", testToken)
		return nil
	})
	scriptCmds["sim"] = cmdSim
	scriptCmds["sim-calls"] = cmdSimCalls
	scriptCmds["sim-stats"] = cmdSimStats
	scriptCmds["sim-token"] = cmdSimToken
	scriptCmds["sim-answer"] = cmdSimAnswer
}

// sims maps each running script to its simulator.
var sims sync.Map // *testscript.TestScript → *simulator.Simulator

func cmdSim(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! sim")
	}
	cfg, err := parseSimFlags(ts, args)
	ts.Check(err)
	sim, err := simulator.New(cfg)
	ts.Check(err)
	srv := httptest.NewServer(sim)
	sims.Store(ts, sim)
	ts.Defer(func() {
		srv.Close()
		sims.Delete(ts)
	})
	ts.Setenv("CLICKATELL_ENDPOINT", srv.URL)
	ts.Setenv("CLICKATELL_TOKEN", testToken)
}

func cmdSimCalls(ts *testscript.TestScript, neg bool, args []string) {
	sim := scriptSim(ts)
	if len(args) != 2 {
		ts.Fatalf("usage: sim-calls ID N")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	if got := sim.Calls(args[0]); (got == want) == neg {
		ts.Fatalf("simulator saw %d calls for %s, want %d", got, args[0], want)
	}
}

func cmdSimStats(ts *testscript.TestScript, neg bool, args []string) {
	sim := scriptSim(ts)
	if len(args) != 3 {
		ts.Fatalf("usage: sim-stats NAME OP N")
	}
	got, ok := statByName(sim.Stats(), args[0])
	if !ok {
		ts.Fatalf("no simulator counter %q", args[0])
	}
	n, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	var holds bool
	switch args[1] {
	case "==":
		holds = got == n
	case "<=":
		holds = got <= n
	case ">=":
		holds = got >= n
	default:
		ts.Fatalf("unknown comparison %q", args[1])
	}
	if holds == neg {
		not := ""
		if neg {
			not = "not "
		}
		ts.Fatalf("simulator %s = %d; want %s%s %d (stats: %s)", args[0], got, not, args[1], n, sim.Stats())
	}
}

func cmdSimToken(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sim-token TOKEN")
	}
	scriptSim(ts).SetToken(args[0])
}

func cmdSimAnswer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sim-answer ID ANSWER")
	}
	id, err := msgid.Parse(args[0])
	ts.Check(err)
	ts.Check(scriptSim(ts).SetAnswer(id, args[1]))
}

func scriptSim(ts *testscript.TestScript) *simulator.Simulator {
	v, ok := sims.Load(ts)
	if !ok {
		ts.Fatalf("no simulator: run 'sim' first")
	}
	return v.(*simulator.Simulator)
}

// parseSimFlags reads clickatell-sim's flags into a Config; files are
// relative to the script's working directory.
func parseSimFlags(ts *testscript.TestScript, args []string) (simulator.Config, error) {
	cfg := simulator.Config{Token: testToken}
	var cancelled string // -cancelled FILE: cancelled in Clickatell's portal
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	var scheduled, delivered, status string
	fs.StringVar(&cfg.Token, "token", testToken, "")
	fs.StringVar(&status, "status", "", "")
	fs.StringVar(&scheduled, "scheduled", "", "")
	fs.StringVar(&delivered, "delivered", "", "")
	fs.BoolVar(&cfg.AnyScheduled, "any-scheduled", false, "")
	fs.StringVar(&cancelled, "cancelled", "", "")
	fs.DurationVar(&cfg.Latency, "latency", 0, "")
	fs.DurationVar(&cfg.Jitter, "jitter", 0, "")
	fs.Float64Var(&cfg.Rate, "rate", 0, "")
	fs.IntVar(&cfg.RetryAfter, "retry-after", 0, "")
	fs.Float64Var(&cfg.FailRate, "fail-rate", 0, "")
	fs.Float64Var(&cfg.DropRate, "drop-rate", 0, "")
	fs.Float64Var(&cfg.DropAfterRate, "drop-after-rate", 0, "")
	fs.Int64Var(&cfg.Seed, "seed", 0, "")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, f := range []struct {
		path string
		into *[]string
	}{{scheduled, &cfg.Scheduled}, {delivered, &cfg.Delivered}, {cancelled, &cfg.Cancelled}} {
		if f.path == "" {
			continue
		}
		for _, line := range strings.Split(ts.ReadFile(f.path), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				*f.into = append(*f.into, line)
			}
		}
	}
	if status != "" {
		cfg.Answers = map[string]string{}
		for _, line := range strings.Split(ts.ReadFile(status), "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
				id, answer, _ := strings.Cut(line, " ")
				cfg.Answers[id] = strings.TrimSpace(answer)
			}
		}
	}
	return cfg, nil
}

// statByName returns the counter of s whose JSON name is name.
func statByName(s simulator.Stats, name string) (int64, bool) {
	m := map[string]int64{}
	b, _ := json.Marshal(s)
	if err := json.Unmarshal(b, &m); err != nil {
		return 0, false
	}
	v, ok := m[name]
	return v, ok
}
