package main

import "strings"

// flagHint says what recall offers instead of a Terraform flag that a
// command does not have.
type flagHint struct {
	// flag is Terraform's flag, without its dash.
	flag string
	// cmd limits the hint to one command ("plan", "state rm"); "" is any
	// command without a hint of its own.
	cmd string
	// hint is the rest of the error after "-flag ...".
	hint string
}

// terraformFlags are the hints for flags that Terraform users type and
// recall does not have (or has elsewhere): all of them here, in one place.
var terraformFlags = []flagHint{
	{flag: "var", hint: "recall has no variables: the manifest is the input; edit it, or pass another one with -f PATH"},
	{flag: "var-file", hint: "recall has no variables: the manifest is the input; pass it with -f PATH (repeatable, a file or a directory)"},
	{flag: "lock", cmd: "plan", hint: "plan never takes the state lock; drop the flag"},
	{flag: "lock", cmd: "show", hint: "show never takes the state lock; drop the flag"},
	{flag: "lock", hint: "recall always locks the state when it changes it: the lock keeps two runs from sending the same cancellations twice; to wait for a lock held by another run, use -lock-timeout D, and to release one a dead run left, 'recall force-unlock LOCK_ID'"},
	{flag: "lock-timeout", cmd: "plan", hint: "plan never takes the state lock, so there is nothing to wait for; drop the flag"},
	{flag: "refresh", hint: "there is nothing to turn off: plan and apply never ask Clickatell about settled messages unless -refresh-only is given; drop the flag"},
	{flag: "compact-warnings", hint: "recall's warnings are already one line each; drop the flag"},
	{flag: "parallelism", hint: "-parallelism N limits the calls of 'recall apply' and 'recall plan -refresh-only', the same as Terraform's; this command makes no calls to Clickatell"},
	{flag: "backend-config", hint: "recall has no backend configuration: name the state with -state LOC (a file path or a postgres:// URL) or RECALL_STATE, and its workspace with -workspace NAME or RECALL_WORKSPACE"},
	{flag: "backend", hint: "recall has no backend configuration: name the state with -state LOC (a file path or a postgres:// URL) or RECALL_STATE"},
	{flag: "reconfigure", hint: "recall has no init and no backend configuration: name the state with -state LOC or RECALL_STATE"},
	{flag: "migrate-state", hint: "recall has no init: to move a state, run 'recall state pull -state OLD > s.json', then 'recall state push -state NEW s.json'"},
	{flag: "upgrade", hint: "recall has no init and no providers to upgrade; drop the flag"},
	{flag: "replace", hint: "there is nothing to replace: a message is cancelled once; to send a settled message's cancellation again, forget it with 'recall state rm ID', then apply"},
	{flag: "destroy", hint: "there is no such thing in recall: a cancellation cannot be undone, and apply never sends anything but cancellations"},
	{flag: "out", cmd: "apply", hint: "apply saves no plan: save one with 'recall plan -out FILE', then run 'recall apply FILE'"},
	{flag: "state-out", hint: "recall writes the state back where it read it (-state LOC), with a backup at LOC.backup for a file; to copy a state elsewhere, use 'recall state pull' and 'recall state push'"},
	{flag: "backup", hint: "a state file's backup is always LOC.backup, next to it; it cannot be moved or turned off"},
	{flag: "chdir", hint: "-chdir is a global flag: put it before the command, e.g. 'recall -chdir=DIR plan'"},
	{flag: "input", hint: "this command never asks for input; drop the flag"},
	{flag: "json", hint: "this command has no JSON output; -json is taken by plan, apply, show, validate and version"},
	{flag: "auto-approve", cmd: "plan", hint: "plan changes nothing and never asks; -auto-approve is apply's"},
	{flag: "refresh-only", hint: "-refresh-only is taken by plan and apply only"},
	{flag: "generate-config-out", hint: "recall has no import and generates no manifest; list the messages in the manifest"},
}

// terraformFlagHint returns the error text for -flag, unknown to the
// command cmd, when Terraform has that flag; "" otherwise.
func terraformFlagHint(cmd, flag string) string {
	flag = strings.TrimLeft(flag, "-")
	var general string
	for _, h := range terraformFlags {
		if h.flag != flag {
			continue
		}
		if h.cmd == cmd {
			return "-" + flag + " is not a flag of recall " + cmd + ": " + h.hint
		}
		if h.cmd == "" && general == "" {
			general = h.hint
		}
	}
	if general == "" {
		return ""
	}
	return "-" + flag + " is not a flag of recall " + cmd + ": " + general
}
