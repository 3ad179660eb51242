package main

import (
	"flag"
	"fmt"
)

// The environment variables that name the state for every command that
// reads one, as -state and -workspace do (the flags win): set once in a
// pipeline, a forgotten flag cannot switch a run to a fresh local file.
const (
	envState     = "RECALL_STATE"
	envWorkspace = "RECALL_WORKSPACE"
)

// sourcedString is a string flag that remembers where its value came
// from: "" (the default), "-NAME" (the flag) or an environment variable.
type sourcedString struct {
	value *string
	from  *string
	flag  string // the flag's name, without the dash
	env   string // the environment variable standing in for the flag
}

func (s *sourcedString) String() string {
	if s == nil || s.value == nil {
		return ""
	}
	return *s.value
}

func (s *sourcedString) Set(v string) error {
	*s.value = v
	*s.from = "-" + s.flag
	return nil
}

// Get makes the flag a flag.Getter, so that flagError can word a bad value.
func (s *sourcedString) Get() any { return s.String() }

// sourcedVar defines the flag name on fs, its value in *value (starting at
// def) and where it came from in *from. The help shows the default and
// the variable as a string flag's would: (default "def"; also ENV).
func sourcedVar(fs *flag.FlagSet, value, from *string, name, env, def, usage string) {
	*value = ""
	fs.Var(&sourcedString{value: value, from: from, flag: name, env: env}, name, fmt.Sprintf("%s (default %q; also %s)", usage, def, env))
	*value = def
}

// applyFlagEnv gives each sourced flag of fs that was not set on the
// command line the value of its environment variable, when that is set
// and not empty.
func applyFlagEnv(e *env, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		s, ok := f.Value.(*sourcedString)
		if !ok || *s.from != "" {
			return
		}
		if v := e.getenv(s.env); v != "" {
			*s.value = v
			*s.from = s.env
		}
	})
}
