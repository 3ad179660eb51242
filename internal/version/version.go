// Package version holds recall's version.
//
// A release build stamps it at link time:
//
//	go build -ldflags "-X github.com/recallhq/recall/internal/version.Version=0.2.0" ./cmd/recall
//
// (GoReleaser does, see .goreleaser.yaml). A build that was not stamped
// takes the version the go command recorded for the main module, so that
// `go install github.com/recallhq/recall/cmd/recall@v0.2.0` reports 0.2.0
// (and a build of a commit without a tag its pseudo-version). The stamped
// value always wins; a build with neither, such as a test binary, keeps the
// default below.
package version

import (
	"runtime/debug"
	"strings"
)

// fallback is the version of a build that was neither stamped nor built
// from a module version.
const fallback = "0.1.0"

// Version is recall's release version, without a leading "v".
var Version = fallback

func init() {
	bi, ok := debug.ReadBuildInfo()
	Version = resolve(Version, bi, ok)
}

// resolve returns the stamped version when there is one (anything other
// than the fallback), else the main module's version from the build info
// when the go command recorded one, else the fallback.
func resolve(stamped string, bi *debug.BuildInfo, ok bool) string {
	if stamped != fallback && stamped != "" {
		return stamped
	}
	if !ok || bi == nil {
		return fallback
	}
	switch v := bi.Main.Version; v {
	case "", "(devel)":
		return fallback
	default:
		return strings.TrimPrefix(v, "v")
	}
}
