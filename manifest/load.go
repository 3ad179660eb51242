package manifest

import "errors"

// Load reads and validates the manifest files or directories at paths (a
// directory means every *.yaml and *.yml directly inside it, in name order).
// Every problem found is returned in one *ValidationError; I/O problems
// (a missing file) are returned as ordinary errors naming the path.
//
// TODO(manifest): skeleton; replaced by the real implementation.
func Load(paths ...string) (*Manifest, error) {
	return nil, errors.New("manifest: not implemented")
}
