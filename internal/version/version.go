// Package version holds recall's version, set at build time with
// -ldflags "-X github.com/recallhq/recall/internal/version.Version=…".
package version

// Version is recall's release version.
var Version = "0.1.0"
