package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// newFlagSet returns a FlagSet for a subcommand whose -h prints help (the
// command's usage text, with its Examples section) then the flags.
func newFlagSet(e *env, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprint(w, strings.TrimLeft(help, "\n"))
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	if e.onFlagSet != nil {
		e.onFlagSet(fs)
	}
	return fs
}

// parseFlags parses args up to the first positional argument (or "--");
// -h prints help to stdout and returns flag.ErrHelp, which Main turns into
// exit 0; a bad flag is a usage error (exit 1). Commands call parseArgs.
func parseFlags(e *env, fs *flag.FlagSet, args []string) error {
	if fs.Lookup("no-color") == nil {
		// Every command takes -no-color, also where nothing is coloured:
		// pipelines pass it to every command, as to Terraform's.
		fs.Bool("no-color", false, "disable colour (also NO_COLOR); this command prints none")
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(e.stdout)
			fs.Usage()
			return flag.ErrHelp
		}
	}
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if hint := terraformFlagHint(fs.Name(), undefinedFlag(err)); hint != "" {
			return fmt.Errorf("%s: %s", fs.Name(), hint)
		}
		return fmt.Errorf("%s: %s; run 'recall %s -h' for usage", fs.Name(), flagError(fs, err), fs.Name())
	}
	applyFlagEnv(e, fs)
	return nil
}

// badValue matches the flag package's errors for a value it cannot parse.
var badValue = regexp.MustCompile(`^(invalid (?:boolean )?value "(?:[^"\\]|\\.)*" for (?:flag )?-([^:]+)): (parse error|value out of range)$`)

// flagError rewrites the flag package's "parse error" for a bad value into
// what the flag wants, e.g. 'invalid value "5" for flag -timeout: want a
// duration such as 30s, 5m or 1h30m'.
func flagError(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	m := badValue.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	f := fs.Lookup(m[2])
	if f == nil {
		return msg
	}
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return msg
	}
	var want string
	switch g.Get().(type) {
	case time.Duration:
		want = wantDuration
	case int:
		want = "want a whole number"
		if m[3] == "value out of range" {
			want = "the number is too large"
		}
	case float64:
		want = "want a number, such as 100 or 2.5"
	case bool:
		want = "want true or false"
	default:
		return msg
	}
	return m[1] + ": " + want
}

// undefinedFlag returns the name (without dashes) of the flag that err
// says is not defined, or "".
func undefinedFlag(err error) string {
	name, ok := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !ok {
		return ""
	}
	return name
}

// outputFlags are -format, of the commands with more than one output (the
// default is human), and -json, Terraform's spelling of -format json.
type outputFlags struct {
	format string
	asJSON bool
}

// add declares -format, whose usage names the formats, and -json.
func (o *outputFlags) add(fs *flag.FlagSet, usage string) {
	fs.StringVar(&o.format, "format", "human", usage)
	fs.BoolVar(&o.asJSON, "json", false, "the same as -format json")
}

// check resolves -json and checks -format against formats, once fs is
// parsed: -json with a -format naming another format is a conflict.
func (o *outputFlags) check(fs *flag.FlagSet, formats ...string) error {
	if o.asJSON {
		if o.format != "json" && isSet(fs, "format") {
			return fmt.Errorf("%s: -json and -format %s conflict: -json is short for -format json; pass only one of them", fs.Name(), o.format)
		}
		o.format = "json"
	}
	if err := oneOf("format", o.format, formats...); err != nil {
		return fmt.Errorf("%s: %v", fs.Name(), err)
	}
	return nil
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			set = true
		}
	})
	return set
}

// stringsFlag is a repeatable string flag (-f, -target).
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// The defaults of -state and -workspace.
const (
	defaultState     = "recall.state.json"
	defaultWorkspace = "default"
)

// commonFlags are shared by the commands that read manifests and state.
type commonFlags struct {
	files     stringsFlag
	state     string
	workspace string
	noColor   bool
	// lockTimeout is -lock-timeout, of the commands that take the lock.
	lockTimeout time.Duration
	// stateFrom and workspaceFrom say where state and workspace came
	// from: "" (the default), "-state"/"-workspace", or RECALL_STATE /
	// RECALL_WORKSPACE.
	stateFrom, workspaceFrom string
}

func (c *commonFlags) manifest(fs *flag.FlagSet) {
	fs.Var(&c.files, "f", "manifest `PATH` (file or directory); repeatable (default recall.yaml)")
}

// stateFlagSet is newFlagSet for a command that names a state: with
// -state and -workspace, into c.
func (c *commonFlags) stateFlagSet(e *env, name, help string) *flag.FlagSet {
	fs := newFlagSet(e, name, help)
	sourcedVar(fs, &c.state, &c.stateFrom, "state", envState, defaultState, "state `LOC`: a file path, or a postgres:// URL")
	sourcedVar(fs, &c.workspace, &c.workspaceFrom, "workspace", envWorkspace, defaultWorkspace, "`NAME` of the state workspace (see 'recall workspace -h')")
	return fs
}

// lock adds -lock-timeout, for the commands that take the state's lock.
func (c *commonFlags) lock(fs *flag.FlagSet) {
	fs.Var((*waitFlag)(&c.lockTimeout), "lock-timeout", "wait up to `D` for the lock if another run holds it, e.g. 30s (default: fail at once)")
}

const wantDuration = "want a duration such as 30s, 5m or 1h30m"

// waitFlag is a duration flag that refuses a negative one.
type waitFlag time.Duration

func (w *waitFlag) String() string { return time.Duration(*w).String() }

func (w *waitFlag) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errors.New(wantDuration)
	}
	if d < 0 {
		return errors.New("want 0 or more (0: do not wait)")
	}
	*w = waitFlag(d)
	return nil
}

func (c *commonFlags) color(fs *flag.FlagSet) {
	fs.BoolVar(&c.noColor, "no-color", false, "disable colour (also NO_COLOR)")
}

// manifestPaths returns the -f paths, or the default.
func (c *commonFlags) manifestPaths() []string {
	if len(c.files) == 0 {
		return []string{"recall.yaml"}
	}
	return c.files
}

// useColor reports whether output to stdout may be coloured.
func (c *commonFlags) useColor(e *env) bool {
	return e.stdoutTTY && !c.noColor && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// parseArgs is how every command parses its arguments: flags may come
// before or after positional arguments (`show plan.json -format json`,
// `state rm ID -lock-timeout 5s`), and it returns the positional arguments
// in order. Everything after "--" is positional, also what looks like a
// flag (`apply -- PLAN -auto-approve` has two positional arguments).
func parseArgs(e *env, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(e, fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// oneOf checks a flag's value against the allowed ones.
func oneOf(flagName, v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("-%s: %q is not one of %s", flagName, v, strings.Join(allowed, ", "))
}

// usageArgs is the error for unexpected positional arguments.
func usageArgs(cmd string, args []string) error {
	hint := ""
	if cmd == "validate" || cmd == "plan" {
		hint = fmt.Sprintf("; to read a manifest, use -f %s", args[0])
	}
	return fmt.Errorf("%s: unexpected argument %q%s; run 'recall %s -h' for usage", cmd, args[0], hint, cmd)
}

// parseNoArgs parses the arguments of a command that takes no positional
// ones, as parseArgs does; a positional argument is a usage error.
func parseNoArgs(e *env, fs *flag.FlagSet, args []string) error {
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageArgs(fs.Name(), pos)
	}
	return nil
}

// oneArg returns the one positional argument of the command cmd, a what
// ("state file"), or the usage error for none or more.
func oneArg(cmd, what string, pos []string) (string, error) {
	switch {
	case len(pos) == 0:
		return "", fmt.Errorf("%s: no %s given; run 'recall %s -h' for usage", cmd, what, cmd)
	case len(pos) > 1:
		return "", fmt.Errorf("%s: one %s expected, got %d arguments; run 'recall %s -h' for usage", cmd, what, len(pos), cmd)
	}
	return pos[0], nil
}
