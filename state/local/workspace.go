package local

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultWorkspace is the workspace whose state is the -state file itself.
const DefaultWorkspace = "default"

// WorkspacesDir returns the directory that holds the other workspaces of
// the state file at path, as Terraform keeps terraform.tfstate.d beside
// terraform.tfstate: recall.state.json's are in recall.state.d, team.json's
// in team.d (a path without the .json extension gets ".d" appended).
func WorkspacesDir(path string) string {
	return strings.TrimSuffix(path, ".json") + ".d"
}

// WorkspacePath returns the path of workspace's state file: path itself
// for DefaultWorkspace (or ""), else WorkspacesDir(path)/NAME/ followed by
// path's file name: recall.state.d/eu/recall.state.json.
func WorkspacePath(path, workspace string) string {
	if workspace == "" || workspace == DefaultWorkspace {
		return path
	}
	return filepath.Join(WorkspacesDir(path), workspace, filepath.Base(path))
}

// Workspaces lists the workspaces of the state file at path, sorted:
// DefaultWorkspace always, and each directory of WorkspacesDir(path).
func Workspaces(path string) ([]string, error) {
	names := []string{DefaultWorkspace}
	entries, err := os.ReadDir(WorkspacesDir(path))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && e.Name() != DefaultWorkspace {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// WorkspaceExists reports whether workspace exists for the state file at
// path: DefaultWorkspace always does, another once its directory does.
func WorkspaceExists(path, workspace string) bool {
	if workspace == "" || workspace == DefaultWorkspace {
		return true
	}
	return dirExists(filepath.Dir(WorkspacePath(path, workspace)))
}

// RemoveState deletes the state file and its backup, for deleting a
// workspace; the caller holds the lock and has read the state. A missing
// file is not an error. The lock file and the directory stay: the caller
// removes the directory after Unlock (RemoveWorkspaceDir).
func (b *Backend) RemoveState() error {
	for _, p := range []string{b.path, b.BackupPath()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// RemoveWorkspaceDir removes workspace's directory after RemoveState and
// Unlock: the lock file, if a Windows unlock left it, and the directory,
// which must then be empty (a file someone else put there is kept, and
// the error names the directory).
func RemoveWorkspaceDir(path, workspace string) error {
	p := WorkspacePath(path, workspace)
	if p == path {
		return errors.New("the default workspace has no directory")
	}
	if err := os.Remove(p + LockSuffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(filepath.Dir(p)); err != nil {
		return err
	}
	os.Remove(WorkspacesDir(path)) // only if that was the last one: kept otherwise
	return nil
}
