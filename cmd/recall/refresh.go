package main

// plan -refresh-only and apply -refresh-only: Clickatell's status of every
// listed message (GET /rest/message/{id}), shown or recorded; no DELETE.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/recallhq/recall/clickatell"
	"github.com/recallhq/recall/internal/version"
	"github.com/recallhq/recall/manifest"
	"github.com/recallhq/recall/reconcile"
)

// refreshClient is the client of plan -refresh-only, made as apply makes
// its own (the token alone checked first, so that its errors are not
// blamed on the endpoint).
func refreshClient(e *env, timeout time.Duration, parallelism int) (*clickatell.Client, error) {
	token := e.getenv("CLICKATELL_TOKEN")
	if token == "" {
		return nil, errors.New("CLICKATELL_TOKEN is not set: plan -refresh-only asks Clickatell the status of every listed message, and needs a Clickatell API token for that (plan without -refresh-only does not). Set it in the environment, e.g. from your CI's secret store")
	}
	endpoint := e.getenv("CLICKATELL_ENDPOINT")
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	if _, err := clickatell.New(clickatell.WithToken(token)); err != nil {
		return nil, &envError{Var: "CLICKATELL_TOKEN", Err: err}
	}
	client, err := clickatell.New(
		clickatell.WithBaseURL(endpoint),
		clickatell.WithToken(token),
		clickatell.WithTimeout(timeout),
		clickatell.WithUserAgent("recall/"+version.Version),
		clickatell.WithMaxConns(parallelism),
	)
	if err != nil {
		return nil, &envError{Var: "CLICKATELL_ENDPOINT", Err: err}
	}
	return client, nil
}

// planRefresh is 'recall plan -refresh-only': it asks the status of every
// listed message and shows what apply -refresh-only would record. It sends
// no DELETE, writes nothing and takes no lock.
func planRefresh(ctx context.Context, e *env, a *planArgs, m *manifest.Manifest) error {
	switch {
	case a.out != "":
		return errors.New("plan: -out cannot be used with -refresh-only: a refresh plan is not saved; run 'recall apply -refresh-only', which shows what it found and asks before recording it")
	case a.format == "markdown":
		return errors.New("plan: -refresh-only prints human or json output, not markdown")
	case a.parallelism < 0 || a.parallelism > 1000:
		return fmt.Errorf("plan: -parallelism must be between 1 and 1000, got %d", a.parallelism)
	case a.rate < 0:
		return fmt.Errorf("plan: -rate must be 0 (no cap) or more, got %g", a.rate)
	}
	if a.parallelism == 0 {
		a.parallelism = reconcile.DefaultParallelism
	}
	client, err := refreshClient(e, 30*time.Second, a.parallelism)
	if err != nil {
		return err
	}
	backend, st, err := loadState(ctx, &a.commonFlags)
	if err != nil {
		return err
	}
	defer backend.Close()
	p, err := reconcile.NewRefreshPlan(m, st, reconcile.PlanOptions{Targets: a.targets, Now: e.now})
	if err != nil {
		return err
	}
	pr := &progressLines{e: e, json: a.format == "json"}
	opts := reconcile.RefreshOptions{DryRun: true, ApplyOptions: reconcile.ApplyOptions{
		Parallelism:      a.parallelism,
		Rate:             a.rate,
		MaxRetries:       reconcile.DefaultMaxRetries,
		State:            st,
		OnEvent:          pr.event,
		ProgressInterval: lineInterval,
	}}
	res, err := reconcile.Refresh(ctx, p, backend, client, opts)
	if err != nil {
		return err
	}
	if a.format == "json" {
		if err := writeRefreshJSON(e, p, res); err != nil {
			return err
		}
	} else {
		renderRefreshHuman(e, p, res, true, palette{on: a.useColor(e)})
	}
	if res.Interrupted || res.Failed > 0 {
		return &exitError{code: 1}
	}
	if a.detailedExitcode && res.Refresh.Record > 0 {
		return &exitError{code: 2}
	}
	return nil
}

// progressLines renders a plan -refresh-only's events on stderr: a start
// line, "Still refreshing..." every 10 s, and the diagnostics (drift).
// With -format json, the diagnostics are in the document instead.
type progressLines struct {
	e    *env
	json bool
}

func (p *progressLines) event(ev reconcile.Event) {
	switch ev.Type {
	case reconcile.EventApplyStart:
		if !p.json {
			fmt.Fprintf(p.e.stderr, "Refreshing %s from Clickatell (at most %d at a time)...\n", plural(ev.Start.Total, "listed message", "listed messages"), ev.Start.Parallelism)
		}
	case reconcile.EventDiagnostic:
		if !p.json {
			fmt.Fprintln(p.e.stderr, diagnosticLine(ev.Diagnostic))
		}
	case reconcile.EventProgress:
		pe := ev.Progress
		fmt.Fprintf(p.e.stderr, "Still refreshing... %s/%s (%s/s, %s elapsed)\n", commas(pe.Done()), commas(pe.Total), rateText(pe.Rate), clock(pe.Elapsed.Duration()))
	}
}

// refreshDocument is plan -refresh-only -format json.
type refreshDocument struct {
	FormatVersion int                         `json:"format_version"`
	RecallVersion string                      `json:"recall_version"`
	CreatedAt     time.Time                   `json:"created_at"`
	RefreshOnly   bool                        `json:"refresh_only"`
	State         reconcile.StateRef          `json:"state"`
	Targets       []string                    `json:"targets,omitempty"`
	Summary       refreshSummaryJSON          `json:"summary"`
	Groups        []reconcile.RefreshGroup    `json:"groups"`
	Drift         []reconcile.DriftGroup      `json:"drift"`
	Failures      []reconcile.FailureGroup    `json:"failures"`
	Diagnostics   []reconcile.DiagnosticEvent `json:"diagnostics"`
}

type refreshSummaryJSON struct {
	// Total is how many listed messages were asked about.
	Total int `json:"total"`
	reconcile.RefreshCounts
	Failed int `json:"failed"`
}

func writeRefreshJSON(e *env, p *reconcile.Plan, res *reconcile.ApplyResult) error {
	rf := res.Refresh
	doc := refreshDocument{
		FormatVersion: reconcile.PlanFormatVersion,
		RecallVersion: version.Version,
		CreatedAt:     p.CreatedAt,
		RefreshOnly:   true,
		State:         p.State,
		Targets:       p.Targets,
		Summary:       refreshSummaryJSON{Total: res.Total, RefreshCounts: rf.RefreshCounts, Failed: res.Failed},
		Groups:        rf.Groups,
		Drift:         rf.Drift,
		Failures:      res.Failures,
		Diagnostics:   []reconcile.DiagnosticEvent{},
	}
	if doc.Failures == nil {
		doc.Failures = []reconcile.FailureGroup{}
	}
	for _, d := range rf.Drift {
		doc.Diagnostics = append(doc.Diagnostics, reconcile.DiagnosticEvent{Severity: reconcile.SeverityWarning, Summary: reconcile.DriftSummary(d), Detail: driftAdvice(d)})
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// errNothingToRecord ends an apply -refresh-only whose refresh found
// nothing to record: nothing is asked, nothing written.
var errNothingToRecord = errors.New("nothing to record")

// confirmRefresh is apply -refresh-only's confirmation, without
// -auto-approve: every status has been asked with nothing written; it shows
// what was found and asks for 'yes' to record exactly that.
func confirmRefresh(e *env, a *applyArgs, out applyView, p *reconcile.Plan, res *reconcile.ApplyResult) error {
	renderRefreshHuman(e, p, res, true, palette{on: a.common.useColor(e)})
	if res.Refresh.Record == 0 {
		fmt.Fprintln(e.stdout, "\nNothing to record.")
		return errNothingToRecord
	}
	if err := canConfirm(e, a); err != nil {
		return err
	}
	return askYes(e, "\nDo you want to record these statuses? Only 'yes' will be accepted: ", "Refresh cancelled: nothing was recorded.")
}

// statusReader is apply's ApplyOptions.RefreshOnly: the client with
// -refresh-only, nil (an apply) without.
func (a *applyArgs) statusReader(c *clickatell.Client) reconcile.StatusReader {
	if !a.refreshOnly {
		return nil
	}
	return c
}

// refreshExit is apply -refresh-only's exit: 0 when every listed message
// was answered (drift is a warning, not a failure), 1 otherwise.
func refreshExit(res *reconcile.ApplyResult) error {
	if res.Interrupted || res.Failed > 0 || res.Done() < res.Total {
		return &exitError{code: 1}
	}
	return nil
}
