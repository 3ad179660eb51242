package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/pg"
)

const applyHelp = `
Usage: recall apply [PLANFILE] [-f PATH]... [-state LOC] [-workspace NAME] [-auto-approve]
                    [-parallelism N] [-rate N] [-max-retries N] [-timeout D] [-refresh-only]
                    [-format human|json | -json] [-lock-timeout D] [-target GROUP]...
                    [-api-format json|xml] [-allow-unknown-ids] [-detailed-exitcode]
                    [-no-color] [-input=false]

  Cancels the outstanding messages with Clickatell's stop-message call and
  records every settled message in the state.

  Without PLANFILE, apply makes a plan first and shows it; on a terminal it
  asks for 'yes' before sending anything, elsewhere it needs -auto-approve.
  With PLANFILE (saved by 'recall plan -out'), it applies exactly that plan
  without asking, to the state the plan records (its location and
  workspace), and refuses it if the state has changed since. A -state or
  -workspace (or RECALL_STATE, RECALL_WORKSPACE) naming another state is
  refused before any call; the same state spelled otherwise is fine. A
  PostgreSQL password is not recorded: it comes from PGPASSWORD, a
  password or service file, or RECALL_STATE.

  -input=false never asks (as in Terraform): apply then needs PLANFILE or
  -auto-approve, and refuses before anything else otherwise; so does
  apply -refresh-only. -json is -format json.

  -refresh-only sends no DELETE: it asks Clickatell the status of every
  listed message (GET /rest/message/{id}) and records it, under the same
  lock, limits, retries and checkpoints: a message cancelled in the portal
  becomes cancelled, a delivered one too_late; a still scheduled one (011)
  stays to cancel. A recorded cancelled message that Clickatell reports
  otherwise is drift: reported as a warning, never rewritten. On a
  terminal it shows what it found and asks 'Do you want to record these
  statuses?'; with -auto-approve it records as answers arrive. It exits 0
  when every listed message was answered, drift or not; 1 otherwise.

  The state is locked for the whole run and written as results arrive, so
  an apply that is interrupted or killed loses at most the calls in flight:
  run it again to finish. Messages go out earliest deadline first: the
  deadline is scheduled_at less 5 minutes, as Clickatell may deliver up to
  5 minutes early.

  Before the first call apply estimates, per group, when its cancellations
  finish at -rate a second (without -rate, 100: Clickatell's guidance), a
  saved plan again from now, and warns about a group that would miss its
  deadline. While it runs, the progress (the bar on a terminal, a line
  every 10s otherwise, the JSON progress events' next_deadline) shows the
  next deadline and whether the run is on track at the rate it is
  getting; the summary (and the JSON summary's late) counts, per group,
  the messages settled after their group's deadline, which Clickatell may
  have delivered first. The bar is never wider than the terminal.

  When the first answers of a run (at least max(25, 2 x parallelism)) all
  say the message ID is unknown, the token is likely another account's:
  the run stops and records none of them. -allow-unknown-ids records them
  as not found instead.

  Needs CLICKATELL_TOKEN (the API token; never printed) and optionally
  CLICKATELL_ENDPOINT (default https://api.clickatell.com).

  It ends with "Apply complete!" only when every planned message settled
  (cancelled, too late, not found or not delivered); otherwise the closing
  line says what failed, and the failures follow, grouped by cause.

Exit codes:
  0  every planned message ended cancelled (or there was nothing to do)
  1  anything else: failed calls, messages too late, not found or not
     delivered, an interrupt, an error
  With -detailed-exitcode:
  0  every planned message ended cancelled (or there was nothing to do)
  1  an error, an interrupt, or messages left unsettled: a rerun can help
  2  every message settled, but some were not cancelled (too late, not
     found or not delivered): a rerun cannot help

Examples:

  # Plan, review on the terminal, type 'yes'.
  recall apply

  # Apply exactly the plan that was reviewed (to the state it records).
  recall plan -state postgres://recall@db/recall -out cancel.plan
  recall apply cancel.plan

  # In CI: no prompt, more calls at once, at most 200 a second.
  recall apply -auto-approve -parallelism 32 -rate 200

  # One JSON event per line, for another program.
  recall apply -auto-approve -format json > apply.jsonl

  # In CI: tell "run it again" (1) from "settled, but not all stopped" (2).
  recall apply -auto-approve -detailed-exitcode cancel.plan

  # Only one group of the manifest.
  recall apply -target black-friday-wrong-price

  # Record what Clickatell says (cancelled in the portal, delivered...).
  recall apply -refresh-only
`

// defaultEndpoint is Clickatell's API.
const defaultEndpoint = "https://api.clickatell.com"

// erroredStateFile is where a state that could not be saved is written,
// in the working directory.
const erroredStateFile = "recall.state.errored.json"

// applyArgs are apply's parsed arguments.
type applyArgs struct {
	common      commonFlags
	planFile    string
	autoApprove bool
	refreshOnly bool
	parallelism int
	rate        float64
	maxRetries  int
	timeout     time.Duration
	outputFlags
	// input is -input: false never asks, so apply needs a saved plan or
	// -auto-approve.
	input     bool
	targets   stringsFlag
	apiFormat string
	// allowUnknownIDs turns off the wrong-account guard.
	allowUnknownIDs bool
	// detailedExitcode: exit 2 when every message settled but some were
	// not cancelled.
	detailedExitcode bool
}

// parseApplyArgs parses apply's arguments; flags may come before or after
// PLANFILE, and everything after "--" is positional.
func parseApplyArgs(e *env, args []string) (*applyArgs, error) {
	a := &applyArgs{}
	fs := a.common.stateFlagSet(e, "apply", applyHelp)
	a.common.manifest(fs)
	a.common.color(fs)
	fs.BoolVar(&a.autoApprove, "auto-approve", false, "apply without asking for confirmation")
	fs.BoolVar(&a.refreshOnly, "refresh-only", false, "send no DELETE: record Clickatell's status of every listed message")
	fs.IntVar(&a.parallelism, "parallelism", reconcile.DefaultParallelism, "send at most `N` calls at once")
	fs.Float64Var(&a.rate, "rate", 0, "send at most `N` requests per second, retries included (0: no cap)")
	fs.IntVar(&a.maxRetries, "max-retries", reconcile.DefaultMaxRetries, "retry a failed call at most `N` times per message")
	fs.DurationVar(&a.timeout, "timeout", 30*time.Second, "give up on a call after `D` without an answer (then retried)")
	a.outputFlags.add(fs, "output `FORMAT`: human or json (one event per line)")
	fs.BoolVar(&a.input, "input", true, "ask for confirmation on a terminal; -input=false never asks, and then needs a saved plan or -auto-approve")
	a.common.lock(fs)
	fs.Var(&a.targets, "target", "apply only this `GROUP`; repeatable")
	fs.StringVar(&a.apiFormat, "api-format", "json", "`FORMAT` asked of the API: json or xml")
	fs.BoolVar(&a.allowUnknownIDs, "allow-unknown-ids", false, "record messages Clickatell does not know as not found, even when every answer says so (the token is right, the messages are gone)")
	fs.BoolVar(&a.detailedExitcode, "detailed-exitcode", false, "exit 0 when every message was cancelled, 2 when every message settled but some were not cancelled, 1 otherwise (errors, messages left unsettled)")

	positional, err := parseArgs(e, fs, args)
	if err != nil {
		return nil, err
	}
	switch len(positional) {
	case 0:
	case 1:
		a.planFile = positional[0]
	default:
		return nil, fmt.Errorf("apply: expected at most one plan file, got %d arguments (%s); run 'recall apply -h' for usage", len(positional), strings.Join(positional, " "))
	}

	switch {
	case a.parallelism < 1 || a.parallelism > 1000:
		return nil, fmt.Errorf("apply: -parallelism must be between 1 and 1000, got %d", a.parallelism)
	case a.rate < 0:
		return nil, fmt.Errorf("apply: -rate must be 0 (no cap) or more, got %g", a.rate)
	case a.maxRetries < 0 || a.maxRetries > 100:
		return nil, fmt.Errorf("apply: -max-retries must be between 0 and 100, got %d", a.maxRetries)
	case a.timeout <= 0:
		return nil, fmt.Errorf("apply: -timeout must be positive, got %s", a.timeout)
	}
	if err := a.outputFlags.check(fs, "human", "json"); err != nil {
		return nil, err
	}
	if err := oneOf("api-format", a.apiFormat, "json", "xml"); err != nil {
		return nil, fmt.Errorf("apply: %v", err)
	}
	if a.planFile != "" && a.refreshOnly {
		return nil, errors.New("apply: -refresh-only cannot be used with a saved plan: a saved plan cancels; run 'recall apply -refresh-only' without it")
	}
	if !a.input && a.planFile == "" && !a.autoApprove {
		what := "cancel anything"
		if a.refreshOnly {
			what = "record statuses"
		}
		return nil, fmt.Errorf("apply -input=false needs a saved plan or -auto-approve: it will not ask before it may %s. Save a reviewed plan with 'recall plan -out FILE' and run 'recall apply -input=false FILE', or pass -auto-approve", what)
	}
	if a.planFile != "" {
		if len(a.common.files) > 0 {
			return nil, errors.New("apply: -f cannot be used with a saved plan: the plan already holds its messages; run 'recall plan -f ... -out FILE' to make a new one")
		}
		if len(a.targets) > 0 {
			return nil, errors.New("apply: -target cannot be used with a saved plan: the plan already records its targets; run 'recall plan -target ... -out FILE' to make a new one")
		}
	}
	return a, nil
}

func runApply(ctx context.Context, e *env, args []string) error {
	a, err := parseApplyArgs(e, args)
	if err != nil {
		return err
	}
	out := newApplyView(e, a)
	err = applyMain(ctx, e, a, out)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		out.jsonError(err)
	}
	return err
}

// applyMain is apply after its arguments are parsed.
//
// The manifest's mistakes are reported before anything else is needed
// (token, lock, state), as plan reports them. With a state file, the
// manifest loads while the state is locked and read (the two largest
// reads overlap, so the first call leaves sooner); if it fails, the lock
// is let go and its error is the one returned, whatever else failed.
func applyMain(ctx context.Context, e *env, a *applyArgs, out applyView) error {
	if a.planFile != "" {
		return applyWith(ctx, e, a, out, &loadedManifest{})
	}
	if isPostgres(a.common.state) {
		// A database connection is not worth starting for a manifest
		// that may be refused.
		m, err := loadManifest(&a.common)
		if err != nil {
			return err
		}
		return applyWith(ctx, e, a, out, &loadedManifest{m: m})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lm := &loadedManifest{done: make(chan struct{})}
	go func() {
		defer close(lm.done)
		lm.m, lm.err = loadManifest(&a.common)
		if lm.err != nil {
			cancel() // stops a lock wait or a read under way
		}
	}()
	err := applyWith(ctx, e, a, out, lm)
	if _, merr := lm.get(); merr != nil {
		return merr
	}
	return err
}

// loadedManifest is the manifest of an apply, loaded alongside the state.
type loadedManifest struct {
	done chan struct{} // closed once loaded; nil: already loaded
	m    *manifest.Manifest
	err  error
}

// get waits for the manifest.
func (l *loadedManifest) get() (*manifest.Manifest, error) {
	if l.done != nil {
		<-l.done
	}
	return l.m, l.err
}

// applyWith is apply with its manifest loaded, or loading, in lm.
func applyWith(ctx context.Context, e *env, a *applyArgs, out applyView, lm *loadedManifest) error {
	token := e.getenv("CLICKATELL_TOKEN")
	if token == "" {
		return errors.New("CLICKATELL_TOKEN is not set: apply needs a Clickatell API token to cancel messages (plan does not). Set it in the environment, e.g. from your CI's secret store")
	}
	endpoint := e.getenv("CLICKATELL_ENDPOINT")
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	apiFormat := clickatell.JSON
	if a.apiFormat == "xml" {
		apiFormat = clickatell.XML
	}
	// The token alone first, so that its errors are not blamed on the
	// endpoint.
	if _, err := clickatell.New(clickatell.WithToken(token)); err != nil {
		return &envError{Var: "CLICKATELL_TOKEN", Err: err}
	}
	client, err := clickatell.New(
		clickatell.WithBaseURL(endpoint),
		clickatell.WithToken(token),
		clickatell.WithFormat(apiFormat),
		clickatell.WithTimeout(a.timeout),
		clickatell.WithUserAgent("recall/"+version.Version),
		clickatell.WithMaxConns(a.parallelism),
	)
	if err != nil {
		return &envError{Var: "CLICKATELL_ENDPOINT", Err: err}
	}

	if a.planFile == "" && !a.autoApprove {
		// Refuse before locking or planning: nobody can say yes.
		if err := canConfirm(e, a); err != nil {
			return err
		}
	}

	var plan *reconcile.Plan
	if a.planFile != "" {
		if plan, err = readPlanFile("apply", a.planFile); err != nil {
			return err
		}
		if err := checkPlanManifest(plan); err != nil {
			return err
		}
		if err := usePlanState(e, &a.common, plan, a.planFile); err != nil {
			return err
		}
		warnLateSavedPlan(e, a, out, plan)
	}

	backend, err := openBackend(a.common.state, a.common.workspace)
	if err != nil {
		return err
	}
	defer backend.Close()

	var hardStopped atomic.Bool
	confirmed := false // an apply -refresh-only's findings were confirmed
	op := reconcile.Operation{
		Backend:     backend,
		LockTimeout: a.common.lockTimeout,
		Plan:        plan,
		NewPlan: func(st *state.State) (*reconcile.Plan, error) {
			m, err := lm.get()
			if err != nil {
				return nil, err
			}
			lm.m = nil // the plan holds what the run needs; a million IDs less to keep
			collectSooner(e, st.Len())
			if a.refreshOnly {
				return reconcile.NewRefreshPlan(m, st, reconcile.PlanOptions{Targets: a.targets, Now: e.now})
			}
			p, err := reconcile.NewPlan(m, st, reconcile.PlanOptions{Targets: a.targets, Now: e.now, Rate: reconcile.EstimateRate(a.rate, a.parallelism)})
			if err == nil {
				adviseWarnings(p)
			}
			return p, err
		},
		NoChanges: out.noChanges,
		ShowPlan:  out.showPlan,
		Confirm: func(*reconcile.Plan) error {
			if !a.autoApprove {
				return confirm(e, a)
			}
			if a.format != "json" {
				fmt.Fprintln(e.stdout) // as after a 'yes': the plan, a blank line, the run
			}
			return nil
		},
		Started: func(ctx context.Context, st *state.State, plan *reconcile.Plan) (context.Context, <-chan struct{}, func()) {
			collectSooner(e, st.Len()+len(plan.Changes))
			// From here on, signals stop the run gracefully instead of
			// killing it; the lock is released after they are given back.
			runCtx, interrupt, release := runSignals(ctx, out, &hardStopped)
			return runCtx, interrupt, func() { release(); out.finish() }
		},
		HardStopped: hardStopped.Load,
		Warn: func(err error) {
			fmt.Fprintf(e.stderr, "Warning: could not release the state lock: %v\n", err)
		},
		Options: reconcile.ApplyOptions{
			StopGrace:        hardStopGrace,
			Parallelism:      a.parallelism,
			Rate:             a.rate,
			MaxRetries:       a.maxRetries,
			RefreshOnly:      a.statusReader(client),
			OnEvent:          out.event,
			ProgressInterval: out.progressInterval(),
			AllowUnknownIDs:  a.allowUnknownIDs,
		},
	}
	if a.refreshOnly && !a.autoApprove {
		op.ConfirmRefresh = func(p *reconcile.Plan, found *reconcile.ApplyResult) error {
			out.finish()
			if err := confirmRefresh(e, a, out, p, found); err != nil {
				return err
			}
			confirmed = true
			return nil
		}
	}

	res, err := reconcile.ApplyOperation(ctx, client, op)
	var lf *reconcile.LockFailedError
	var se *reconcile.SaveError
	switch {
	case errors.As(err, &lf):
		return lockError(lf.Err, a.common.lockTimeout)
	case errors.Is(err, errNothingToRecord):
		if res.Failed > 0 || res.Interrupted {
			return &exitError{code: 1}
		}
		return nil
	case errors.As(err, &se):
		out.summary(res, false)
		return savedElsewhere(e, a, backend, se)
	case err != nil && op.ConfirmRefresh != nil:
		out.finish()
		return err
	case err != nil:
		if res != nil {
			out.summary(res, true)
		}
		return err
	case res == nil:
		return nil // nothing to do
	}
	out.summary(res, true)
	if confirmed {
		if res.Failed > 0 || res.Interrupted {
			return &exitError{code: 1}
		}
		return nil
	}
	if res.Refresh != nil {
		if res.Interrupted {
			out.refreshInterrupted(res.Total - res.Done())
		}
		return refreshExit(res)
	}
	switch {
	case res.Interrupted:
		out.interrupted(res.Remaining())
		return &exitError{code: 1}
	case !res.Complete():
		return &exitError{code: applyExitCode(res, a.detailedExitcode)}
	}
	return nil
}

// runSignals takes over the interrupt signals for the run: the first
// closes interrupt (no new calls; those in flight finish), the second
// cancels runCtx (a hard stop), a third ends the process. release gives
// the signals back.
func runSignals(ctx context.Context, out applyView, hardStopped *atomic.Bool) (runCtx context.Context, interrupt <-chan struct{}, release func()) {
	runCtx, hardStop := context.WithCancel(ctx)
	intr := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	releaseSigs := takeSignals(sigs)
	sigDone := make(chan struct{})
	go func() {
		n := 0
		for {
			select {
			case <-sigs:
				n++
				if n == 1 {
					out.interrupting()
					close(intr)
				} else {
					out.stoppingNow()
					hardStopped.Store(true)
					hardStop()
					// A third signal ends the process outright.
					releaseSigs()
					return
				}
			case <-sigDone:
				return
			}
		}
	}()
	return runCtx, intr, func() {
		close(sigDone)
		releaseSigs()
		hardStop()
	}
}

// hardStopGrace is how long, after a second interrupt, the state may take
// to be saved to its backend before it goes to recall.state.errored.json
// instead, and how long the lock may then take to be released.
const hardStopGrace = 2 * time.Second

// canConfirm says why apply cannot ask for confirmation, if it cannot.
func canConfirm(e *env, a *applyArgs) error {
	switch {
	case a.format == "json":
		// A prompt in the middle of a JSON stream helps nobody.
		return errors.New("apply -format json needs -auto-approve, or a saved plan: it does not ask for confirmation. Review the plan with 'recall plan -out FILE', then run 'recall apply -format json FILE'")
	case !e.stdinTTY:
		return errors.New("apply needs confirmation, but the input is not a terminal: pass -auto-approve to apply without asking, or save a reviewed plan with 'recall plan -out FILE' and run 'recall apply FILE'")
	}
	return nil
}

// confirm asks for 'yes' on a terminal.
func confirm(e *env, a *applyArgs) error {
	if err := canConfirm(e, a); err != nil {
		return err
	}
	return askYes(e, "\nDo you want to cancel these messages? Only 'yes' will be accepted: ", "Apply cancelled.")
}

// askYes prints prompt and reads the answer: nil for "yes" (after a blank
// line), otherwise an exit status 1 that prints cancelled.
func askYes(e *env, prompt, cancelled string) error {
	fmt.Fprint(e.stdout, prompt)
	yes, err := readYes(e)
	if err != nil {
		return err
	}
	if !yes {
		return &exitError{code: 1, err: &diagnostic{Summary: cancelled}}
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// readYes reads the answer to a confirmation prompt, a line of standard
// input, and reports whether it was "yes".
func readYes(e *env) (bool, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, fmt.Errorf("reading the answer: %w", err)
	}
	return strings.TrimSpace(line) == "yes", nil
}

// savedElsewhere writes a state the backend could not save to
// recall.state.errored.json in the working directory (to
// recall.state.errored.N.json if an earlier run's is there, never over it;
// to stdout if even that fails), and returns an error saying how to
// recover.
func savedElsewhere(e *env, a *applyArgs, backend state.Backend, se *reconcile.SaveError) error {
	file, earlier := erroredStatePath()
	ws := ""
	if a.common.workspace != defaultWorkspace {
		ws = " -workspace " + shellQuote(a.common.workspace) // a file state's workspace
	}
	restore := fmt.Sprintf("run 'recall state push -state %s%s %s'", a.common.state, ws, file)
	pushCommand := fmt.Sprintf("recall state push -state %s%s %s", shellQuote(a.common.state), ws, erroredStateFile)
	if isPostgres(a.common.state) {
		// The URL may hold a password: the user knows it, we do not print it.
		restore = fmt.Sprintf("run 'recall state push -state <the same -state URL> -workspace %s %s'", a.common.workspace, file)
		pushCommand = fmt.Sprintf("recall state push -state \"$RECALL_STATE\" -workspace %s %s    # RECALL_STATE: the same -state URL", shellQuote(a.common.workspace), erroredStateFile)
	}
	se.State.RecallVersion = version.Version
	werr := local.WriteFile(file, se.State)
	if werr == nil {
		var kept string
		if earlier {
			kept = fmt.Sprintf(" %s, left by an earlier run, was kept as it is: push it too, unless it was pushed already.", erroredStateFile)
		}
		return &diagnostic{Summary: se.Error(), Err: se, Detail: fmt.Sprintf("The state, with every message settled in this run, was written to %s instead. "+
			"To recover, fix the problem above, then %s before running recall again "+
			"(it merges those messages into the state, also if another apply has written it since); "+
			"until then a new apply would send the calls for those messages again.%s",
			file, restore, kept)}
	}
	where := "the state follows on stdout"
	if a.format == "json" {
		where = `the state follows on stdout, as the "` + eventUnsavedState + `" event`
	}
	fmt.Fprintln(e.stderr, "Error: could not write "+file+" either ("+werr.Error()+"); "+where+".")
	if err := printUnsavedState(e, a.format == "json", se.Location, se.State); err != nil {
		return fmt.Errorf("%v; writing it to %s failed too (%v), and so did printing it (%v): the results of this run are lost, and the next apply will send those calls again", se, file, werr, err)
	}
	return &diagnostic{Summary: se.Error(), Err: se, Detail: "The state was printed on stdout above. " + unsavedRecovery(a.format == "json", pushCommand)}
}

// collectSooner keeps a large run near the memory it needs, unless the
// user set GOGC: by default the Go runtime lets the heap grow to twice
// what is live, and a large run's memory is mostly live data (the state
// and the plan), so it would use about twice what it needs. From 100,000
// messages (in the state, or in the state and the plan together, once the
// run starts) the collector runs when the heap has grown by a quarter over
// what is live (GOGC 25), at a few percent of a CPU: the state holds no
// pointers for it to follow.
func collectSooner(e *env, messages int) {
	if e.getenv("GOGC") == "" && messages >= 100_000 {
		debug.SetGCPercent(25)
	}
}

func isPostgres(loc string) bool { return pg.IsURL(loc) }

// checkPlanManifest loads the manifest a saved plan was made from and
// refuses the plan if it changed since: the reviewed plan must still be
// what the manifest asks for. Terraform does not re-read configuration for
// a saved plan, but a Terraform plan can be undone by another apply; a
// cancellation cannot.
func checkPlanManifest(plan *reconcile.Plan) error {
	if len(plan.ManifestPaths) == 0 {
		return nil
	}
	m, err := manifest.Load(plan.ManifestPaths...)
	if err != nil {
		return &diagnostic{Err: err,
			Summary: fmt.Sprintf("Saved plan cannot be checked against its manifest (%s), so nothing was cancelled: %v", strings.Join(plan.ManifestPaths, ", "), err),
			Detail:  "Run apply from the directory where 'recall plan' ran, or run 'recall plan' again and review the new plan."}
	}
	return plan.CheckManifest(m)
}

// warnLateSavedPlan estimates a saved plan again, from now at this apply's
// -rate, and warns about each group that would miss its deadline: the
// plan's own estimate was made at plan time, at plan's rate.
func warnLateSavedPlan(e *env, a *applyArgs, out applyView, plan *reconcile.Plan) {
	if !plan.HasChanges() {
		return
	}
	plan.SetEstimate(e.now(), reconcile.EstimateRate(a.rate, a.parallelism))
	adviseWarnings(plan)
	for _, w := range plan.Warnings {
		if w.Kind == reconcile.WarningLate {
			out.event(reconcile.Event{Type: reconcile.EventDiagnostic, Time: e.now(), Diagnostic: &reconcile.DiagnosticEvent{
				Severity: reconcile.SeverityWarning,
				Summary:  warningText(w),
			}})
		}
	}
}
