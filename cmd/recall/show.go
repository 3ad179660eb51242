package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/recallhq/recall/reconcile"
	"github.com/recallhq/recall/state"
	"github.com/recallhq/recall/state/local"
)

const showHelp = `
Usage: recall show [PLANFILE] [-state LOC] [-workspace NAME] [-format human|json | -json] [-no-color]

  With PLANFILE: shows a plan saved by 'recall plan -out', the way 'plan'
  showed it. -format json prints the saved plan document.

  Without: shows the state: where it is, its lineage and serial, and the
  settled messages counted by outcome and by group. -format json prints
  the state document (the local state file's format). -json is -format
  json, as in Terraform.

Examples:

  # Review a saved plan before applying it.
  recall show recall.plan.json

  # The IDs a saved plan will cancel.
  recall show -format json recall.plan.json | jq -r '.changes[].id'

  # Summarise the state.
  recall show

  # Export a PostgreSQL workspace's state as JSON.
  recall show -state postgres://recall@db/recall -workspace prod -format json > state.json
`

func runShow(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var out outputFlags
	flags := cf.stateFlagSet(e, "show", showHelp)
	cf.color(flags)
	out.add(flags, "output `FORMAT`: human or json")
	pos, err := parseArgs(e, flags, args)
	if err != nil {
		return err
	}
	if err := out.check(flags, "human", "json"); err != nil {
		return err
	}
	format := out.format
	if len(pos) > 1 {
		return fmt.Errorf("show: expected at most one plan file, got %d arguments; run 'recall show -h' for usage", len(pos))
	}
	c := palette{on: cf.useColor(e)}
	if len(pos) == 1 {
		return showPlan(e, pos[0], format, c)
	}

	b, s, err := loadState(ctx, &cf)
	if err != nil {
		return err
	}
	defer b.Close()
	if format == "json" {
		if !s.Exists() {
			// No lineage yet: an empty document, not the random lineage
			// a first write would get.
			fmt.Fprintf(e.stderr, "No state at %s yet.\n", b.String())
			_, err := fmt.Fprintf(e.stdout, "{\n  \"format_version\": %d,\n  \"lineage\": \"\",\n  \"serial\": 0,\n  \"recall_version\": \"\",\n  \"messages\": {}\n}\n", state.FormatVersion)
			return err
		}
		return local.Encode(e.stdout, s)
	}
	renderStateHuman(e.stdout, b.String(), s, c)
	return nil
}

func showPlan(e *env, path, format string, c palette) error {
	p, err := readPlanFile("show", path)
	if err != nil {
		return err
	}
	if format == "json" {
		return reconcile.WritePlan(e.stdout, p)
	}
	fmt.Fprintf(e.stdout, "Saved plan %s, made %s by recall %s\n", path, p.CreatedAt.UTC().Format(time.RFC3339), oneLine(p.RecallVersion, 40))
	if p.State.Lineage == "" {
		fmt.Fprintln(e.stdout, "against a state that did not exist yet.")
	} else {
		fmt.Fprintf(e.stdout, "against state lineage %s, serial %d.\n", oneLine(p.State.Lineage, 100), p.State.Serial)
	}
	fmt.Fprintln(e.stdout, planStateLine(p.State))
	fmt.Fprintln(e.stdout)
	humanPlanView{color: c}.render(e.stdout, e.stderr, p)
	return nil
}

// readPlanFile reads the saved plan PLANFILE of cmd (apply, show), with a
// hint when the file is missing or is a manifest rather than a plan.
func readPlanFile(cmd, path string) (*reconcile.Plan, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%s: no plan file at %s; save one with 'recall plan -out %s'", cmd, path, shellQuote(path))
	case err == nil && fi.IsDir():
		return nil, fmt.Errorf("%s: %s is a directory, not a plan saved by 'recall plan -out'; to read the manifests in it, use -f %s", cmd, path, shellQuote(path))
	case err == nil && isManifestName(path):
		return nil, fmt.Errorf("%s: %s is a manifest, not a plan saved by 'recall plan -out'; to read it, use -f %s", cmd, path, shellQuote(path))
	}
	return reconcile.ReadPlanFile(path)
}

// isManifestName reports whether path is named like a manifest.
func isManifestName(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}
