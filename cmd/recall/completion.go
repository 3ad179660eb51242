package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

const completionHelp = `
Usage: recall completion bash|zsh|fish

  Prints a shell completion script for recall: its commands, their
  subcommands and each command's flags, taken from recall itself, so the
  script matches this version. Install it once, and again after upgrading.

Examples:

  # bash: for this shell, then for every new one.
  source <(recall completion bash)
  recall completion bash > ~/.local/share/bash-completion/completions/recall

  # zsh: a directory of your $fpath, then restart zsh.
  recall completion zsh > "${fpath[1]}/_recall"

  # fish
  recall completion fish > ~/.config/fish/completions/recall.fish
`

// completionCommands is the command table, set in init: the table holds
// 'completion' itself, whose run reads it.
var completionCommands map[string]*command

func init() { completionCommands = commands }

// completionShells are the shells 'recall completion' writes for.
var completionShells = []string{"bash", "fish", "zsh"}

// completionFlag is one flag of a command, for a completion script.
type completionFlag struct {
	name   string
	usage  string
	isBool bool
}

// completionEntry is one command path ("plan", "state rm") and its flags,
// or the subcommands of a group ("state").
type completionEntry struct {
	path     string
	synopsis string
	flags    []completionFlag
	sub      []string // the subcommands, for a group
	choices  []string // the words its first argument is one of
}

// completionEntries walks the command table: every command's flags come
// from the FlagSet it makes when run with -h (printing to io.Discard).
func completionEntries(ctx context.Context, cmds map[string]*command, prefix string) []completionEntry {
	var out []completionEntry
	for _, name := range sortedNames(cmds) {
		c := cmds[name]
		ent := completionEntry{path: prefix + name, synopsis: c.synopsis}
		if c.sub != nil {
			ent.sub = sortedNames(c.sub)
			out = append(out, ent)
			out = append(out, completionEntries(ctx, c.sub, ent.path+" ")...)
			continue
		}
		var sets []*flag.FlagSet
		e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" },
			onFlagSet: func(fs *flag.FlagSet) { sets = append(sets, fs) }}
		if c.name == "completion" {
			ent.choices = completionShells
		} else {
			_ = c.run(ctx, e, []string{"-h"})
		}
		for _, fs := range sets {
			fs.VisitAll(func(f *flag.Flag) {
				b, ok := f.Value.(interface{ IsBoolFlag() bool })
				_, usage := flag.UnquoteUsage(f)
				ent.flags = append(ent.flags, completionFlag{name: f.Name, usage: usage, isBool: ok && b.IsBoolFlag()})
			})
		}
		out = append(out, ent)
	}
	return out
}

func sortedNames(cmds map[string]*command) []string {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func runCompletion(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "completion", completionHelp)
	pos, err := parseArgs(e, fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return errors.New("completion: name one shell: bash, zsh or fish (e.g. 'recall completion bash'); run 'recall completion -h' for how to install it")
	}
	entries := completionEntries(ctx, completionCommands, "")
	var script string
	switch pos[0] {
	case "bash": // completionShells
		script = bashCompletion(entries)
	case "zsh":
		script = zshCompletion(entries)
	case "fish":
		script = fishCompletion(entries)
	default:
		return fmt.Errorf("completion: unknown shell %q; want bash, zsh or fish", pos[0])
	}
	_, err = io.WriteString(e.stdout, script)
	return err
}

// bashCompletion is the script for bash (and zsh's bashcompinit): the
// first word that is not a flag is the command; a group's next word is its
// subcommand; a word starting with '-' completes that command's flags,
// anything else falls back to file names (-o default).
func bashCompletion(entries []completionEntry) string {
	var b strings.Builder
	b.WriteString(`# bash completion for recall, from 'recall completion bash'.
_recall() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local i=1
    while [[ $i -lt $COMP_CWORD && ${COMP_WORDS[i]} == -* ]]; do
        i=$((i + 1))
    done
    local path=""
    if [[ $i -lt $COMP_CWORD ]]; then
        path="${COMP_WORDS[i]}"
        case "$path" in
`)
	for _, ent := range entries {
		if ent.sub != nil {
			fmt.Fprintf(&b, "        %s)\n            i=$((i + 1))\n            if [[ $i -lt $COMP_CWORD ]]; then path=\"$path ${COMP_WORDS[i]}\"; fi\n            ;;\n", ent.path)
		}
	}
	b.WriteString(`        esac
    fi
    local words="" always=""
    case "$path" in
`)
	var top []string
	for _, ent := range entries {
		if !strings.Contains(ent.path, " ") {
			top = append(top, ent.path)
		}
	}
	fmt.Fprintf(&b, "    \"\") words=%s; always=1 ;;\n", shellQuote(strings.Join(top, " ")))
	for _, ent := range entries {
		if ent.sub != nil {
			fmt.Fprintf(&b, "    %s) words=%s; always=1 ;;\n", shellQuote(ent.path), shellQuote(strings.Join(ent.sub, " ")))
			continue
		}
		var words []string
		for _, f := range ent.flags {
			words = append(words, "-"+f.name)
		}
		if ent.choices != nil {
			// The choices while the first argument is typed, flags after.
			fmt.Fprintf(&b, "    %s) words=%s; if [[ $COMP_CWORD -eq $((i + 1)) ]]; then words=%s; always=1; fi ;;\n",
				shellQuote(ent.path), shellQuote(strings.Join(words, " ")), shellQuote(strings.Join(ent.choices, " ")))
			continue
		}
		fmt.Fprintf(&b, "    %s) words=%s ;;\n", shellQuote(ent.path), shellQuote(strings.Join(words, " ")))
	}
	b.WriteString(`    esac
    if [[ -n $always || $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return 0
    fi
    COMPREPLY=()
}
complete -o default -F _recall recall
`)
	return b.String()
}

// groupPaths returns the paths of the entries that have subcommands
// (state, workspace), each quoted for the shell, in order: where a
// script's walk takes a second word.
func groupPaths(entries []completionEntry, quote func(string) string) []string {
	var groups []string
	for _, ent := range entries {
		if ent.sub != nil {
			groups = append(groups, quote(ent.path))
		}
	}
	return groups
}

// zshCompletion is the script for zsh, the same walk as bash's: as a
// file of $fpath (#compdef) or sourced (compdef).
func zshCompletion(entries []completionEntry) string {
	var b strings.Builder
	b.WriteString(`#compdef recall
# zsh completion for recall, from 'recall completion zsh'.
_recall() {
    local -a w d
    local i=2 path="" always=""
    while (( i < CURRENT )) && [[ ${words[i]} == -* ]]; do
        (( i++ ))
    done
    if (( i < CURRENT )); then
        path=${words[i]}
        case $path in
`)
	if groups := groupPaths(entries, shellQuote); len(groups) > 0 {
		fmt.Fprintf(&b, "        %s)\n            (( i++ ))\n            if (( i < CURRENT )); then path=\"$path ${words[i]}\"; fi\n            ;;\n", strings.Join(groups, "|"))
	}
	b.WriteString(`        esac
    fi
    case $path in
`)
	described := func(path string, names []string, cmds map[string]string) {
		var ws, ds []string
		for _, n := range names {
			ws = append(ws, shellQuote(n))
			ds = append(ds, shellQuote(fmt.Sprintf("%-14s -- %s", n, cmds[n])))
		}
		fmt.Fprintf(&b, "    %s) w=(%s); d=(%s); always=1 ;;\n", shellQuote(path), strings.Join(ws, " "), strings.Join(ds, " "))
	}
	synopses := map[string]string{}
	var top []string
	for _, ent := range entries {
		synopses[ent.path] = ent.synopsis
		if !strings.Contains(ent.path, " ") {
			top = append(top, ent.path)
		}
	}
	described("", top, synopses)
	for _, ent := range entries {
		if ent.sub != nil {
			subs := map[string]string{}
			for _, n := range ent.sub {
				subs[n] = synopses[ent.path+" "+n]
			}
			described(ent.path, ent.sub, subs)
			continue
		}
		var ws []string
		for _, f := range ent.flags {
			ws = append(ws, shellQuote("-"+f.name))
		}
		if ent.choices != nil {
			fmt.Fprintf(&b, "    %s) w=(%s); if (( CURRENT == i + 1 )); then w=(%s); always=1; fi ;;\n", shellQuote(ent.path), strings.Join(ws, " "), strings.Join(ent.choices, " "))
			continue
		}
		fmt.Fprintf(&b, "    %s) w=(%s) ;;\n", shellQuote(ent.path), strings.Join(ws, " "))
	}
	b.WriteString(`    esac
    if [[ -n $always || $PREFIX == -* ]]; then
        if (( ${#d} )); then
            compadd -l -d d -- "${w[@]}"
        else
            compadd -- "${w[@]}"
        fi
    else
        _files
    fi
}
if [[ ${funcstack[1]} == _recall ]]; then
    _recall "$@"
else
    compdef _recall recall
fi
`)
	return b.String()
}

// fishCompletion is the script for fish, with each command's synopsis
// and each flag's usage as descriptions.
func fishCompletion(entries []completionEntry) string {
	var b strings.Builder
	b.WriteString(`# fish completion for recall, from 'recall completion fish'.
# __recall_path prints the command typed so far: "", "plan", "state", "state rm".
function __recall_path
    set -l words (commandline -opc)
    set -e words[1]
    while set -q words[1]; and string match -q -- '-*' $words[1]
        set -e words[1]
    end
    set -q words[1]; or return
    switch $words[1]
`)
	if groups := groupPaths(entries, fishQuote); len(groups) > 0 {
		fmt.Fprintf(&b, "        case %s\n            if set -q words[2]\n                echo $words[1] $words[2]\n                return\n            end\n", strings.Join(groups, " "))
	}
	b.WriteString(`    end
    echo $words[1]
end
function __recall_is
    set -l p (__recall_path)
    test "$p" = "$argv"
end
complete -c recall -f
`)
	for _, ent := range entries {
		parent := ""
		if i := strings.LastIndex(ent.path, " "); i >= 0 {
			parent = ent.path[:i]
		}
		name := ent.path[strings.LastIndex(ent.path, " ")+1:]
		fmt.Fprintf(&b, "complete -c recall -n %s -a %s -d %s\n", fishQuote("__recall_is "+fishQuote(parent)), fishQuote(name), fishQuote(ent.synopsis))
		for _, c := range ent.choices {
			fmt.Fprintf(&b, "complete -c recall -n %s -a %s\n", fishQuote("__recall_is "+fishQuote(ent.path)), fishQuote(c))
		}
		for _, f := range ent.flags {
			arg := ""
			if !f.isBool {
				arg = " -r -F"
			}
			fmt.Fprintf(&b, "complete -c recall -n %s -o %s%s -d %s\n", fishQuote("__recall_is "+fishQuote(ent.path)), f.name, arg, fishQuote(firstLine(f.usage)))
		}
	}
	return b.String()
}

// fishQuote quotes s for fish: single quotes, with \ and ' escaped.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
