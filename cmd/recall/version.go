package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/recallhq/recall/internal/version"
)

const versionHelp = `
Usage: recall version [-json] [-no-color]

  Prints recall's version, the Go version it was built with, and the
  platform. -json prints them as 'terraform version -json' does:
  {"recall_version", "platform", "go_version", "revision"}; revision only
  when the build recorded one.

Examples:

  recall version
  recall version -json | jq -r .recall_version
`

// versionInfo is 'recall version -json', in the shape of 'terraform
// version -json' (terraform_version, platform): recall has no providers,
// so no provider_selections, and checks for no newer release, so no
// terraform_outdated.
type versionInfo struct {
	// RecallVersion is the version without its "v": "0.1.0".
	RecallVersion string `json:"recall_version"`
	// Platform is GOOS_GOARCH, as Terraform's: "linux_amd64".
	Platform string `json:"platform"`
	// GoVersion is the Go release recall was built with.
	GoVersion string `json:"go_version"`
	// Revision is the VCS commit, when the build recorded one.
	Revision string `json:"revision,omitempty"`
}

func runVersion(ctx context.Context, e *env, args []string) error {
	var asJSON bool
	fs := newFlagSet(e, "version", versionHelp)
	fs.BoolVar(&asJSON, "json", false, "print the version as a JSON object")
	if err := parseNoArgs(e, fs, args); err != nil {
		return err
	}
	v := versionInfo{
		RecallVersion: version.Version,
		GoVersion:     runtime.Version(),
		Platform:      runtime.GOOS + "_" + runtime.GOARCH,
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				v.Revision = s.Value
			}
		}
	}
	if asJSON {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
		return nil
	}
	fmt.Fprintf(e.stdout, "recall v%s\n", v.RecallVersion)
	rev := ""
	if v.Revision != "" {
		rev = ", revision " + v.Revision
	}
	fmt.Fprintf(e.stdout, "%s %s/%s%s\n", v.GoVersion, runtime.GOOS, runtime.GOARCH, rev)
	return nil
}
