package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/recallhq/recall/state/local"
	"github.com/recallhq/recall/state/pg"
)

const workspaceHelp = `
Usage: recall workspace <subcommand> [flags]

  Workspaces are separate states in one -state location, as Terraform's:
  each has its own settled messages, lineage and lock. The current
  workspace is the one -workspace or RECALL_WORKSPACE names, "default"
  otherwise; recall remembers no selection between runs.

  PostgreSQL state: a workspace is its rows in recall's tables. A file
  state: the default workspace is the -state file itself, and workspace
  NAME is recall.state.d/NAME/recall.state.json beside it (for -state
  team.json: team.d/NAME/team.json), as Terraform keeps
  terraform.tfstate.d/NAME.

Subcommands:
`

const workspaceExamples = `
Examples:

  recall workspace list -state "$RECALL_STATE"
  recall workspace new eu
  RECALL_WORKSPACE=eu recall plan
  recall workspace delete eu

Run 'recall workspace <subcommand> -h' for its flags and examples.
`

const workspaceListHelp = `
Usage: recall workspace list [-state LOC] [-workspace NAME]

  Lists the workspaces of the state, one per line in name order, the
  current one marked with '*' as 'terraform workspace list' does. The
  default workspace is always listed.

Examples:

  recall workspace list
  recall workspace list -state postgres://recall@db.internal/recall
`

const workspaceShowHelp = `
Usage: recall workspace show [-workspace NAME]

  Prints the name of the current workspace: the one -workspace or
  RECALL_WORKSPACE names, "default" otherwise.

Examples:

  RECALL_WORKSPACE=eu recall workspace show
`

const workspaceNewHelp = `
Usage: recall workspace new [-state LOC] NAME

  Creates workspace NAME, an empty state: 1 to 64 letters, digits, '.',
  '_' or '-', starting with a letter or digit. It is an error if it
  exists. recall remembers no selection: use it with -workspace NAME or
  RECALL_WORKSPACE=NAME. (A PostgreSQL workspace is also created by its
  first apply; a file state's must be created first.)

Examples:

  recall workspace new eu
  recall plan -workspace eu
`

const workspaceDeleteHelp = `
Usage: recall workspace delete [-state LOC] [-force] [-lock-timeout D] NAME

  Deletes workspace NAME and its state, under the workspace's lock. A
  workspace that still holds settled messages is refused unless -force:
  they are recall's record of what was cancelled, and without it the next
  apply in that workspace asks Clickatell about every message again.
  Nothing is sent to Clickatell. The default workspace and the current
  one cannot be deleted, as in Terraform.

Examples:

  recall workspace delete eu

  # Also when it still holds messages (save them first if they matter).
  recall state pull -workspace eu > eu.state.json
  recall workspace delete -force eu
`

func runWorkspace(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "workspace", workspaceHelp[1:], workspaceExamples, workspaceCommands, args)
}

// listWorkspaces lists the workspaces at loc.
func listWorkspaces(ctx context.Context, loc string) ([]string, error) {
	if !pg.IsURL(loc) {
		if _, err := openBackend(loc, defaultWorkspace); err != nil {
			return nil, err // a mistyped URL, an empty -state
		}
		names, err := local.Workspaces(loc)
		if err != nil {
			return nil, fmt.Errorf("listing the workspaces of %s: %w", loc, err)
		}
		return names, nil
	}
	b, err := pg.Open(loc, defaultWorkspace)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	return b.Workspaces(ctx)
}

// parseCurrentWorkspace parses the arguments of a workspace subcommand
// about the current workspace (list, show): -state and -workspace, no
// positional arguments, and a well-formed workspace name.
func parseCurrentWorkspace(e *env, name, help string, args []string) (*commonFlags, error) {
	cf := &commonFlags{}
	fs := cf.stateFlagSet(e, name, help)
	if err := parseNoArgs(e, fs, args); err != nil {
		return nil, err
	}
	if err := pg.ValidateWorkspace(cf.workspace); err != nil {
		return nil, err
	}
	return cf, nil
}

func runWorkspaceList(ctx context.Context, e *env, args []string) error {
	cf, err := parseCurrentWorkspace(e, "workspace list", workspaceListHelp, args)
	if err != nil {
		return err
	}
	names, err := listWorkspaces(ctx, cf.state)
	if err != nil {
		return err
	}
	for _, n := range names {
		mark := "  "
		if n == cf.workspace {
			mark = "* "
		}
		fmt.Fprintln(e.stdout, mark+n)
	}
	if !slices.Contains(names, cf.workspace) {
		fmt.Fprintf(e.stderr, "Note: the current workspace %q (%s) does not exist yet; 'recall workspace new %s' creates it.\n", cf.workspace, workspaceSource(cf), cf.workspace)
	}
	return nil
}

// workspaceSource says where the current workspace's name came from.
func workspaceSource(cf *commonFlags) string {
	if cf.workspaceFrom == "" {
		return "the default"
	}
	return "from " + cf.workspaceFrom
}

func runWorkspaceShow(ctx context.Context, e *env, args []string) error {
	cf, err := parseCurrentWorkspace(e, "workspace show", workspaceShowHelp, args)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, cf.workspace)
	return nil
}

// parseWorkspaceName parses the arguments of workspace new and delete,
// as parseArgs does, and returns their one NAME argument.
func parseWorkspaceName(e *env, fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return "", err
	}
	name, err := oneArg(fs.Name(), "workspace name", pos)
	if err != nil {
		return "", err
	}
	if err := pg.ValidateWorkspace(name); err != nil {
		return "", fmt.Errorf("%s: %w", fs.Name(), err)
	}
	return name, nil
}

func runWorkspaceNew(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	fs := cf.stateFlagSet(e, "workspace new", workspaceNewHelp)
	name, err := parseWorkspaceName(e, fs, args)
	if err != nil {
		return err
	}
	exists := fmt.Errorf("workspace new: workspace %q already exists in %s", name, cf.state)
	if pg.IsURL(cf.state) {
		b, err := pg.Open(cf.state, name)
		if err != nil {
			return err
		}
		defer b.Close()
		if err := b.CreateWorkspace(ctx); err != nil {
			if errors.Is(err, pg.ErrWorkspaceExists) {
				return fmt.Errorf("workspace new: %w", err)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "Created workspace %q in %s. Use it with -workspace %s or RECALL_WORKSPACE=%s.\n", name, b, name, name)
		return nil
	}
	if _, err := openBackend(cf.state, defaultWorkspace); err != nil {
		return err
	}
	if local.WorkspaceExists(cf.state, name) {
		return exists
	}
	dir := filepath.Dir(local.WorkspacePath(cf.state, name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("workspace new: %w", err)
	}
	fmt.Fprintf(e.stdout, "Created workspace %q: its state will be %s. Use it with -workspace %s or RECALL_WORKSPACE=%s.\n", name, local.WorkspacePath(cf.state, name), name, name)
	return nil
}

func runWorkspaceDelete(ctx context.Context, e *env, args []string) error {
	var cf commonFlags
	var force bool
	fs := cf.stateFlagSet(e, "workspace delete", workspaceDeleteHelp)
	fs.BoolVar(&force, "force", false, "delete the workspace also if it still holds settled messages")
	cf.lock(fs)
	name, err := parseWorkspaceName(e, fs, args)
	if err != nil {
		return err
	}
	if name == defaultWorkspace {
		return errors.New("workspace delete: the default workspace cannot be deleted")
	}
	if name == cf.workspace {
		return &diagnostic{
			Summary: fmt.Sprintf("workspace delete: %q is the current workspace (%s); it cannot be deleted", name, workspaceSource(&cf)),
			Detail:  "Run the delete from another workspace, e.g. with -workspace default.",
		}
	}
	names, err := listWorkspaces(ctx, cf.state)
	if err != nil {
		return err
	}
	if !slices.Contains(names, name) {
		return fmt.Errorf("workspace delete: workspace %q does not exist in %s", name, cf.state)
	}
	b, lock, err := openLocked(ctx, cf.state, name, "workspace delete", cf.lockTimeout)
	if err != nil {
		return err
	}
	defer b.Close()
	defer lock.Unlock()
	s, err := b.Read(ctx)
	if err != nil {
		return fmt.Errorf("workspace delete: %w; nothing was deleted", err)
	}
	if n := s.Len(); n > 0 && !force {
		return &diagnostic{
			Summary: fmt.Sprintf("workspace delete: workspace %q still holds %s; nothing was deleted", name, plural(n, "settled message", "settled messages")),
			Detail:  fmt.Sprintf("They are recall's record of what was cancelled. Keep a copy with 'recall state pull %s-workspace %s > %s.state.json', then pass -force to delete them with the workspace.", stateArg(cf.state), name, name),
		}
	}
	switch b := b.(type) {
	case *pg.Backend:
		if err := b.DeleteWorkspace(ctx); err != nil {
			return fmt.Errorf("workspace delete: %w", err)
		}
		if err := lock.Unlock(); err != nil {
			fmt.Fprintf(e.stderr, "Warning: releasing the state lock: %v\n", err)
		}
	case *local.Backend:
		if err := b.RemoveState(); err != nil {
			return fmt.Errorf("workspace delete: %w", err)
		}
		if err := lock.Unlock(); err != nil {
			fmt.Fprintf(e.stderr, "Warning: releasing the state lock: %v\n", err)
		}
		if err := local.RemoveWorkspaceDir(cf.state, name); err != nil {
			return fmt.Errorf("workspace delete: the state of %q is deleted, but its directory stays: %w", name, err)
		}
	default:
		return fmt.Errorf("workspace delete: %s has no workspaces", b)
	}
	msg := fmt.Sprintf("Deleted workspace %q", name)
	if n := s.Len(); n > 0 {
		msg += fmt.Sprintf(" and its %s", plural(n, "settled message", "settled messages"))
	}
	fmt.Fprintln(e.stdout, msg+".")
	return nil
}
