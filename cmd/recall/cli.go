package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/recallhq/recall/internal/editdist"
	"github.com/recallhq/recall/manifest"
)

// env is the process's outside world, so tests can replace it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// stdinTTY and stdoutTTY say whether those are terminals.
	stdinTTY, stdoutTTY bool
	// now is the clock plans are made with.
	now func() time.Time
	// onFlagSet, when set, is given every FlagSet a command makes, so
	// that 'recall completion' learns each command's flags from them.
	onFlagSet func(*flag.FlagSet)
	// width is the terminal's width in columns (0: unknown, or not a
	// terminal); the progress bar fits in it. See env.columns.
	width func() int
}

func newEnv() *env {
	return &env{
		stdin:     os.Stdin,
		stdout:    os.Stdout,
		stderr:    os.Stderr,
		getenv:    os.Getenv,
		stdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		stdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		now:       time.Now,
		width:     stderrWidth,
	}
}

// command is one subcommand.
type command struct {
	name     string
	synopsis string
	run      func(ctx context.Context, e *env, args []string) error
	// sub are the subcommands of a command that has them (state,
	// workspace), for completion.
	sub map[string]*command
}

// commands are recall's subcommands, all of them here, by name.
var commands = commandTable(
	&command{name: "apply", synopsis: "Cancel the outstanding messages and record them in state", run: runApply},
	&command{name: "force-unlock", synopsis: "Release a stuck state lock, given its lock ID", run: runForceUnlock},
	&command{name: "plan", synopsis: "Show which messages apply would cancel (read-only)", run: runPlan},
	&command{name: "show", synopsis: "Show a saved plan, or the state", run: runShow},
	&command{name: "state", synopsis: "Inspect and change the state: list, show, rm, push, pull", run: runState, sub: stateCommands},
	&command{name: "validate", synopsis: "Check the manifest for mistakes (no state, no network)", run: runValidate},
	&command{name: "version", synopsis: "Print the version", run: runVersion},
	&command{name: "workspace", synopsis: "List, show, create and delete state workspaces", run: runWorkspace, sub: workspaceCommands},
	&command{name: "completion", synopsis: "Print a shell completion script: bash, zsh or fish", run: runCompletion},
)

// workspaceCommands are the subcommands of 'recall workspace'.
var workspaceCommands = commandTable(
	&command{name: "delete", synopsis: "Delete a workspace and its state", run: runWorkspaceDelete},
	&command{name: "list", synopsis: "List the workspaces, the current one marked with *", run: runWorkspaceList},
	&command{name: "new", synopsis: "Create a workspace", run: runWorkspaceNew},
	&command{name: "show", synopsis: "Print the current workspace's name", run: runWorkspaceShow},
)

// stateCommands are the subcommands of 'recall state'.
var stateCommands = commandTable(
	&command{name: "list", synopsis: "List the settled messages, one per line", run: runStateList},
	&command{name: "pull", synopsis: "Print the state as a state file, to stdout", run: runStatePull},
	&command{name: "push", synopsis: "Write a state file to the -state location", run: runStatePush},
	&command{name: "rm", synopsis: "Forget settled messages so the next apply tries them again", run: runStateRm},
	&command{name: "show", synopsis: "Show the recorded outcome of messages, by ID", run: runStateShow},
)

// commandTable indexes cmds by name.
func commandTable(cmds ...*command) map[string]*command {
	m := make(map[string]*command, len(cmds))
	for _, c := range cmds {
		m[c.name] = c
	}
	return m
}

// exitError carries an exit code other than 1 (plan -detailed-exitcode's
// 2), or an error whose message has already been printed (err nil).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Main runs recall with args (without the program name) and returns the
// process exit code.
func Main(ctx context.Context, args []string, e *env) int {
	err := run(ctx, args, e)
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			printError(e, ee.err)
		}
		return ee.code
	}
	printError(e, err)
	return 1
}

func printError(e *env, err error) {
	// A manifest's diagnostics are each an error of their own.
	var ve *manifest.ValidationError
	if errors.As(err, &ve) && len(ve.Diagnostics) > 0 {
		for _, d := range ve.Diagnostics {
			fmt.Fprintln(e.stderr, "Error: "+d.Error())
		}
		if ve.Truncated {
			fmt.Fprintf(e.stderr, "Error: too many errors; only the first %d are shown\n", manifest.MaxErrors)
		}
		return
	}
	summary, detail := describe(err)
	fmt.Fprintln(e.stderr, "Error: "+strings.TrimRight(summary, "\n"))
	if detail != "" {
		fmt.Fprintln(e.stderr, "\n"+detail)
	}
}

// globalArgs are the flags before the command, as Terraform's global
// options: 'recall -chdir=infra plan'.
type globalArgs struct {
	// chdir is the directory to switch to before running the command: every
	// relative path (-f, -state, -out, a plan file, the errored state file)
	// is then relative to it. "" stays where recall was started.
	chdir string
}

// parseGlobalArgs takes the global flags off the front of args and returns
// them with the rest (the command and its arguments). It never touches
// the file system.
func parseGlobalArgs(args []string) (globalArgs, []string, error) {
	var g globalArgs
	for len(args) > 0 {
		a := args[0]
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "chdir" {
			break
		}
		if !hasValue {
			if len(args) < 2 {
				return g, nil, errors.New("-chdir needs a directory: recall -chdir=DIR COMMAND")
			}
			value, args = args[1], args[1:]
		}
		if value == "" {
			return g, nil, errors.New("-chdir needs a directory: recall -chdir=DIR COMMAND")
		}
		g.chdir = value
		args = args[1:]
	}
	return g, args, nil
}

// changeDir switches to -chdir's directory, with an error that says what
// is wrong with it.
func changeDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("-chdir=%s: the directory does not exist", dir)
	case err != nil:
		return fmt.Errorf("-chdir=%s: %w", dir, err)
	case !fi.IsDir():
		return fmt.Errorf("-chdir=%s: not a directory", dir)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("-chdir=%s: %w", dir, err)
	}
	return nil
}

func run(ctx context.Context, args []string, e *env) error {
	g, args, err := parseGlobalArgs(args)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		usage(e.stderr)
		return &exitError{code: 1}
	}
	if g.chdir != "" {
		if err := changeDir(g.chdir); err != nil {
			return err
		}
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && !isHelp(args[1]) {
			// 'recall help plan', 'recall -help state rm': that
			// command's help.
			return run(ctx, append(args[1:len(args):len(args)], "-h"), e)
		}
		usage(e.stdout)
		return nil
	case "-v", "-version", "--version":
		name = "version"
	}
	c, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q%s; run 'recall -help' for the list of commands", name, didYouMean("", name, commands))
	}
	return c.run(ctx, e, args[1:])
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: recall <command> [flags]

recall cancels scheduled Clickatell SMS the way Terraform changes
infrastructure: a manifest in git lists the messages that must not go out,
'plan' shows what would change, 'apply' cancels them and records the result.

Commands:
`)
	listCommands(w, commands, 14)
	fmt.Fprint(w, `
Examples:

  recall validate                      # check recall.yaml
  recall plan -out recall.plan.json    # review what would be cancelled, and save it
  recall apply recall.plan.json        # cancel exactly that (needs CLICKATELL_TOKEN)
  recall show                          # what has been settled so far

Global flags (before the command, as Terraform's):
  -chdir=DIR     switch to DIR first: relative paths (-f, -state, -out, plan
                 files, recall.state.errored.json) are then relative to DIR,
                 e.g. 'recall -chdir=infra plan'

Run 'recall <command> -h' for a command's flags and examples.
`)
}

// listCommands writes cmds' names in order, each padded to width and
// followed by its synopsis.
func listCommands(w io.Writer, cmds map[string]*command, width int) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s %s\n", width, n, cmds[n].synopsis)
	}
}

// stateHelp and stateExamples are 'recall state -h', around the list of
// subcommands.
const (
	stateHelp = "Usage: recall state <subcommand> [flags]\n\n  Inspects and changes recall's record of settled messages.\n\nSubcommands:\n"

	stateExamples = `
Examples:

  recall state list -outcome too_late
  recall state rm 360586640fe9846954897dffe6c13dfc

Run 'recall state <subcommand> -h' for its flags and examples.
`
)

func runState(ctx context.Context, e *env, args []string) error {
	return runGroup(ctx, e, "state", stateHelp, stateExamples, stateCommands, args)
}

// runGroup runs the subcommand args[0] of the command group name (state,
// workspace). Without a subcommand it prints the group's help (usage, the
// subcommands, examples) to stderr and exits 1; with -h, to stdout.
func runGroup(ctx context.Context, e *env, name, usage, examples string, cmds map[string]*command, args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		w := e.stdout
		if len(args) == 0 {
			w = e.stderr
		}
		fmt.Fprint(w, usage)
		listCommands(w, cmds, 8)
		fmt.Fprint(w, examples)
		if len(args) == 0 {
			return &exitError{code: 1}
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown command \"%s %s\"%s; run 'recall %s -h' for the list", name, args[0], didYouMean(name+" ", args[0], cmds), name)
	}
	return c.run(ctx, e, args[1:])
}

// didYouMean suggests the command closest to a mistyped name, as
// terraform does: ` (did you mean "plan"?)`, or "" when none is close:
// two edits away at most, one for short names (so "ls" is not taken
// for "rm").
func didYouMean(prefix, name string, cmds map[string]*command) string {
	maxDist := 2
	if len(name) <= 4 {
		maxDist = 1
	}
	best, bestDist := "", maxDist+1
	for n := range cmds {
		if d := editdist.Distance(name, n); d < bestDist || d == bestDist && n < best {
			best, bestDist = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", prefix+best)
}
