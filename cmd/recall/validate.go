package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/recallhq/recall/manifest"
)

const validateHelp = `
Usage: recall validate [-f PATH]... [-json] [-no-color]

  Checks the manifest files: syntax, keys, group names, message IDs,
  duplicates and ids_from files. Reads no state and makes no network call.
  Every problem is reported as path:line:col: message (up to 50 per run),
  and the command exits 1 if there is any.

  -json prints one JSON document to stdout and nothing else, in the shape
  of 'terraform validate -json', so that CI can annotate the lines:
  format_version, valid, error_count, warning_count and diagnostics, each
  with severity, summary, detail and a range (filename, start and end,
  each a line, column and byte). It exits 1 when the manifest is invalid.

Examples:

  # Check recall.yaml in the working directory.
  recall validate

  # Check every *.yaml and *.yml file of a directory, and one more file.
  recall validate -f manifests/ -f hotfix.yaml

  # One GitHub annotation per problem.
  recall validate -json | jq -r '.diagnostics[] | select(.range) | "::error file=\(.range.filename),line=\(.range.start.line),col=\(.range.start.column)::\(.summary)"'
`

func runValidate(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var asJSON bool
	fs := newFlagSet(e, "validate", validateHelp)
	cf.manifest(fs)
	cf.color(fs) // accepted for pipelines that pass -no-color to every command
	fs.BoolVar(&asJSON, "json", false, "print the result as one JSON document (terraform validate -json's shape)")
	if err := parseNoArgs(e, fs, args); err != nil {
		return err
	}
	m, err := loadManifest(&cf)
	if asJSON {
		return writeValidateJSON(e.stdout, err)
	}
	if err != nil {
		return err
	}
	n := 0
	for _, g := range m.Groups {
		n += len(g.IDs)
	}
	fmt.Fprintf(e.stdout, "Success! The manifest is valid: %s, %s.\n",
		plural(len(m.Groups), "group", "groups"), plural(n, "message", "messages"))
	return nil
}

// loadManifest loads the -f manifests. A missing default manifest gets a
// hint; a *manifest.ValidationError is returned as is, for Main to print
// every diagnostic.
func loadManifest(cf *commonFlags) (*manifest.Manifest, error) {
	paths := cf.manifestPaths()
	m, err := manifest.Load(paths...)
	if err == nil {
		return m, nil
	}
	if len(cf.files) == 0 && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no manifest: %s does not exist in the working directory; write one (see 'recall validate -h') or pass -f PATH", paths[0])
	}
	return nil, err
}
