// Package testkit holds the helpers that tests of more than one package
// share: a buffer safe to read while a program writes to it, a file
// written into a test's directory, a simulator or raw TCP server on
// loopback. Only tests import it.
//
// Files are named by topic (buffer.go, files.go, sim.go, ...); a helper
// that one package's tests alone use stays in that package.
package testkit
