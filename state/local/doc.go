// Package local keeps recall's state in a local JSON file.
//
// # File format
//
// The file is deterministic: the same state always gives the same bytes,
// so that a diff of it reviews well. Messages are in ID order, one per
// line, with their fields in a fixed order; status, description and group
// are left out when empty (a 404 has no status):
//
//	{
//	  "format_version": 1,
//	  "lineage": "0b6d3a1e-4f7c-4d21-9a0e-6f1d2c3b4a59",
//	  "serial": 3,
//	  "recall_version": "0.1.0",
//	  "messages": {
//	    "360586640fe9846954897dffe6c13dfc": {"outcome": "cancelled", "status": "006", "description": "User cancelled message delivery", "group": "black-friday-wrong-price", "at": "2026-11-27T10:00:00Z"},
//	    "b09e1b1bdb5a070c978f03b6836b955c": {"outcome": "not_found", "group": "black-friday-wrong-price", "at": "2026-11-27T10:00:01Z"}
//	  }
//	}
//
// Strings are JSON-escaped (quotes, backslashes, control characters,
// U+2028/U+2029; invalid UTF-8 becomes U+FFFD); other text, including
// non-ASCII, is written as is. Times are UTC, to the second.
//
// Reading takes a fast path for exactly this layout, which is what makes a
// million-message state cheap to plan against. Any other valid JSON (a
// file reformatted by an editor or jq, keys in another order) is read by a
// strict encoding/json decoder instead, which also reports what is wrong
// with an invalid file, with its line: unknown or duplicate keys, a
// duplicate or malformed message ID, an unknown outcome, a missing lineage.
// A file whose format_version is newer than this release's is refused with
// a *state.FormatError, and a Backend whose Read failed never writes.
//
// # Writes and backups
//
// Every write goes to a temporary file in the state's directory, which is
// synced and closed, then renamed over the state, and the directory is
// synced: a crash at any instant leaves the old or the new file, never a
// torn one. The file being replaced is first hard-linked (or, where links
// are not supported, copied) to <state>.backup, so the backup is always
// the exact previous version. A write that fails removes its temporary
// file; a process killed mid-write may leave a ".<state>.tmp-*" file
// behind, which is never read and which the next Lock removes. A state
// path that is a symbolic link keeps pointing where it did: the file it
// names is replaced, in its own directory.
//
// A commit that follows a read (or a commit) of a canonical file copies
// the file's unchanged lines and encodes only the changed messages, so a
// checkpoint of a million-message state costs one sequential read and
// write of the file rather than a million map lookups. It checks first
// that the file is still the one it read (same file, size and
// modification time), and encodes the whole state otherwise.
//
// If a write fails, the State keeps the changes, one serial past the
// file's, and the next Commit (even one with no changes) writes them.
//
// # Locking
//
// Lock takes an exclusive flock(2) on <state>.lock and writes the holder's
// LockInfo into it as JSON, for a refused process to name the holder. The
// operating system drops the lock when the holder exits, however it exits,
// so a killed apply never leaves the state locked: a stale lock file is
// taken over by the next Lock. Unlock removes the file while still holding
// the lock; a process that opened the file just before that notices the
// file it locked is no longer the one the path names and starts again.
// flock(2) locks are local to a machine: keep a state shared between
// machines in PostgreSQL (state/pg), not on a network file system. On
// Windows the lock is a LockFileEx byte-range lock, and the emptied lock
// file stays after Unlock.
package local
