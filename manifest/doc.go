// Package manifest parses and validates recall manifests (version 1): the
// YAML files, kept in git, that list the Clickatell messages that must not
// be delivered.
//
//	version: 1
//	cancel:
//	  - name: black-friday-wrong-price        # [a-z0-9][a-z0-9._-]{0,63}, unique
//	    reason: Price typo in the 09:00 blast # optional
//	    scheduled_at: 2026-11-28T09:00:00Z    # optional, RFC 3339
//	    ids:                                  # message IDs: 32 hex characters
//	      - 360586640fe9846954897dffe6c13dfc
//	    ids_from: exports/black-friday.txt    # one ID a line, beside the manifest
//
// Parsing is strict: unknown or repeated keys, values of the wrong type,
// malformed IDs, an ID listed twice anywhere, and ids_from paths that lead
// out of the manifest's directory (by "..", an absolute path or a symbolic
// link: ids files are opened through an os.Root) are all errors. They are
// reported together, up to MaxErrors, as one *ValidationError of
// path:line:col diagnostics (path:line in ids files), so one run shows
// every mistake; a manifest with any error yields no Manifest at all.
//
// Loading is built for large exports: an ids_from file of a million IDs
// loads in about a tenth of a second, holding each ID once as 16 bytes.
package manifest
