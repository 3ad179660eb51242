package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/reconcile"
)

const planHelp = `
Usage: recall plan [-f PATH]... [-state LOC] [-workspace NAME] [-out FILE]
                   [-format human|json|markdown | -json] [-detailed-exitcode]
                   [-target GROUP]... [-no-color] [-input=false] [-rate N]
                   [-parallelism N] [-refresh-only]

  Compares the manifest with the state and shows what 'apply' would do:
  every listed message is either to cancel (not settled yet: a DELETE will
  be sent) or already settled (cancelled, too_late, not_found: nothing is
  sent). Messages in state that the manifest no longer lists are reported
  as orphaned and never touched.

  plan never needs CLICKATELL_TOKEN, never calls Clickatell and never
  takes the state lock (but with -refresh-only, which asks Clickatell), so
  it is safe to run on every pull request.

  With nothing to cancel, the plan still counts what is settled, by
  outcome, per group and in total: settled is not cancelled.

  A group whose deadline has passed gets a warning: the deadline is
  scheduled_at less 5 minutes, as Clickatell may deliver up to 5 minutes
  early.

  The plan estimates, per group, when its cancellations would finish,
  sent as apply sends them (earliest deadline first) at -rate a second,
  or without -rate at 100 a second (Clickatell's guidance: "about 100
  messages per second on average"), and never faster than -parallelism
  calls at once can answer at 100 ms a call (the default 10 keep up with
  100 a second; -parallelism 2 estimates at 20 a second). A group that would not finish before its deadline
  gets a warning saying about how many of its messages would still be
  scheduled then. The estimate is in the JSON plan ("estimate" per
  group: finish_at, deadline, late) and the markdown plan; apply
  estimates again when it starts, at its own -rate.

  -json is -format json, as in Terraform. plan never asks for input, so
  -input=false changes nothing (it is accepted for pipelines).

  -out saves the plan as JSON, with the state's location (without its
  password) and workspace; 'recall apply FILE' then cancels exactly those
  messages in that state, and refuses if the state changed in between or
  if -state names another state.

  RECALL_STATE and RECALL_WORKSPACE stand in for -state and -workspace
  (the flags win).

  -refresh-only asks Clickatell instead (GET /rest/message/{id}, never a
  DELETE) the status of every listed message, settled or not, and shows
  what 'apply -refresh-only' would record: messages cancelled in the portal
  become cancelled, delivered ones too_late, and so on; still scheduled
  ones (011) stay to cancel. A message recorded cancelled that Clickatell
  reports otherwise is drift: a warning, and the record is kept. This needs
  CLICKATELL_TOKEN; it still writes nothing and takes no lock. With
  -detailed-exitcode it exits 2 when something would be recorded.
  -parallelism and -rate limit its calls as they limit apply's.

Exit codes:
  0  success (with -detailed-exitcode: success and nothing to cancel)
  1  error
  2  with -detailed-exitcode only: success, and there are messages to cancel

Examples:

  # Show the plan for recall.yaml against recall.state.json.
  recall plan

  # Save the plan for review, apply exactly that plan after the merge.
  recall plan -out recall.plan.json
  recall apply recall.plan.json

  # A PostgreSQL state named once for the whole pipeline.
  export RECALL_STATE=postgres://recall@db/recall
  recall plan -out recall.plan.json && recall apply recall.plan.json

  # Post the plan as a pull-request comment.
  recall plan -format markdown > plan.md

  # In CI: fail on errors, and know whether an apply is needed.
  recall plan -detailed-exitcode -no-color; test $? -eq 2 && echo "apply needed"

  # What does Clickatell say about the listed messages? (no DELETE sent)
  CLICKATELL_TOKEN=... recall plan -refresh-only

  # Only two groups, from a directory of manifests and a PostgreSQL state.
  recall plan -f manifests/ -state postgres://recall@db/recall -target black-friday -target promo-typo
`

// planArgs are the parsed arguments of 'recall plan'.
type planArgs struct {
	commonFlags
	out string
	outputFlags
	// input is -input; plan never asks, so it only accepts the flag.
	input            bool
	detailedExitcode bool
	targets          stringsFlag
	refreshOnly      bool
	parallelism      int
	rate             float64
}

func parsePlanArgs(e *env, args []string) (*planArgs, error) {
	a := &planArgs{}
	fs := a.stateFlagSet(e, "plan", planHelp)
	a.manifest(fs)
	a.color(fs)
	fs.StringVar(&a.out, "out", "", "save the plan as JSON to `FILE`, for 'recall apply FILE'")
	a.outputFlags.add(fs, "output `FORMAT`: human, json or markdown")
	fs.BoolVar(&a.input, "input", true, "accepted for pipelines that pass -input=false: plan never asks for input")
	fs.BoolVar(&a.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are messages to cancel, 0 when there are none, 1 on error")
	fs.Var(&a.targets, "target", "plan only the group `GROUP`; repeatable")
	fs.BoolVar(&a.refreshOnly, "refresh-only", false, "ask Clickatell the status of every listed message and show what apply -refresh-only would record (needs CLICKATELL_TOKEN; sends no DELETE)")
	fs.IntVar(&a.parallelism, "parallelism", 0, "the estimate assumes at most `N` calls at once (0: 10); with -refresh-only, send at most N calls at once")
	fs.Float64Var(&a.rate, "rate", 0, "estimate cancellations at `N` a second (0: 100); with -refresh-only, also send at most N requests per second, retries included (0: no cap)")
	if err := parseNoArgs(e, fs, args); err != nil {
		return nil, err
	}
	if err := a.outputFlags.check(fs, "human", "json", "markdown"); err != nil {
		return nil, err
	}
	return a, nil
}

func runPlan(ctx context.Context, e *env, args []string) error {
	a, err := parsePlanArgs(e, args)
	if err != nil {
		return err
	}
	m, err := loadManifest(&a.commonFlags)
	if err != nil {
		return err
	}
	if a.refreshOnly {
		return planRefresh(ctx, e, a, m)
	}
	if err := checkPlanOut(a, m); err != nil {
		return err
	}
	_, s, err := loadState(ctx, &a.commonFlags)
	if err != nil {
		return err
	}
	if a.rate < 0 {
		return fmt.Errorf("plan: -rate must be 0 (no cap) or more, got %g", a.rate)
	}
	p, err := reconcile.NewPlan(m, s, reconcile.PlanOptions{Targets: a.targets, Now: e.now, Rate: reconcile.EstimateRate(a.rate, a.parallelism)})
	if err != nil {
		return err
	}
	adviseWarnings(p)
	// Recorded so that apply can refuse the plan if the manifest changes,
	// and applies it to the state it was made against.
	p.ManifestPaths = a.manifestPaths()
	if err := recordPlanState(p, &a.commonFlags); err != nil {
		return err
	}
	if a.out != "" {
		if err := reconcile.WritePlanFile(a.out, p); err != nil {
			return fmt.Errorf("saving the plan: %w", err)
		}
	}
	if err := renderPlan(e, p, a.format, palette{on: a.useColor(e)}); err != nil {
		return err
	}
	if a.out != "" {
		w := e.stdout
		if a.format != "human" {
			w = e.stderr // keep stdout a clean JSON or markdown document
		}
		fmt.Fprintf(w, "\nSaved the plan to: %s\n", a.out)
		if p.HasChanges() && a.format == "human" {
			fmt.Fprintf(w, "\nTo cancel exactly these messages, run:\n  recall apply%s %s\n", a.stateArgs(), shellQuote(a.out))
		}
	}
	if a.detailedExitcode && p.HasChanges() {
		return &exitError{code: 2}
	}
	return nil
}

// checkPlanOut refuses an -out that would overwrite the state (or its
// backup or lock) or a manifest file with the plan: a typo there would
// destroy the record of what was cancelled.
func checkPlanOut(a *planArgs, m *manifest.Manifest) error {
	if a.out == "" {
		return nil
	}
	out, err := os.Stat(a.out)
	if err != nil {
		return nil // a new file
	}
	type file struct{ path, desc string }
	var what []file
	if !isPostgres(a.state) {
		what = append(what, file{a.state, "the state file"}, file{a.state + ".backup", "the state's backup"}, file{a.state + ".lock", "the state's lock file"})
	}
	for _, f := range m.Files {
		what = append(what, file{f, "a manifest file"})
	}
	for _, w := range what {
		if fi, err := os.Stat(w.path); err == nil && os.SameFile(out, fi) {
			return fmt.Errorf("plan: -out %s is %s; the plan would overwrite it. Save the plan to another file, e.g. -out recall.plan.json", a.out, w.desc)
		}
	}
	return nil
}

// stateArgs are the -state and -workspace flags, when not the defaults,
// for a command printed for the user to run: ' -state LOC -workspace W',
// or "". A URL holding a password is not repeated.
func (c *commonFlags) stateArgs() string {
	var b strings.Builder
	if c.state != defaultState {
		loc := shellQuote(c.state)
		if u, err := url.Parse(c.state); err == nil && isPostgres(c.state) {
			if _, ok := u.User.Password(); ok {
				loc = "<the same -state URL>"
			}
		}
		b.WriteString(" -state " + loc)
	}
	if c.workspace != defaultWorkspace {
		b.WriteString(" -workspace " + shellQuote(c.workspace))
	}
	return b.String()
}

// renderPlan writes p in format to stdout, and its warnings to stderr
// (human) or into the document (json, markdown).
func renderPlan(e *env, p *reconcile.Plan, format string, c palette) error {
	switch format {
	case "json":
		return reconcile.WritePlan(e.stdout, p)
	case "markdown":
		return renderMarkdown(e.stdout, p)
	default:
		v := humanPlanView{color: c}
		if e.width != nil {
			v.width = e.width() // 0 when stderr is not a terminal
		}
		v.render(e.stdout, e.stderr, p)
		return nil
	}
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r == '=' || r == '+' || r == ',' || r == '@') {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	q := "'"
	for _, r := range s {
		if r == '\'' {
			q += `'\''`
		} else {
			q += string(r)
		}
	}
	return q + "'"
}

// renderHumanPlan writes p as 'recall plan' shows it: the plan to stdout,
// warnings to stderr. apply shows its plan with it before asking.
func renderHumanPlan(e *env, p *reconcile.Plan, color bool) error {
	return renderPlan(e, p, "human", palette{on: color})
}
