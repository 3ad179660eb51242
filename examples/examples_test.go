// Package examples_test checks that everything under examples/ works as
// shipped: every manifest passes the same validation as `recall validate`,
// and every CI pipeline parses and keeps the properties its comments promise
// (plan with -detailed-exitcode and a comment updated in place, apply with a
// concurrency guard, secrets only ever passed through the environment).
package examples_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/recallhq/recall/manifest"
)

// ciDirs hold pipeline files, not manifests.
var ciDirs = []string{"github-actions", "gitlab-ci"}

// manifestDirs returns every directory under examples/ holding *.yaml or
// *.yml files, outside the CI examples: each is one unit a user would pass
// to `recall validate -f DIR`.
func manifestDirs(t *testing.T) []string {
	t.Helper()
	seen := map[string]bool{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && slices.Contains(ciDirs, path) {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			seen[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for d := range seen {
		dirs = append(dirs, d)
	}
	slices.Sort(dirs)
	return dirs
}

func load(t *testing.T, paths ...string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(paths...)
	if err != nil {
		t.Fatalf("recall validate -f %s: %v", strings.Join(paths, " -f "), err)
	}
	return m
}

func group(t *testing.T, m *manifest.Manifest, name string) *manifest.Group {
	t.Helper()
	for _, g := range m.Groups {
		if g.Name == name {
			return g
		}
	}
	t.Fatalf("no group %q in %v", name, m.Files)
	return nil
}

func TestManifestsValidate(t *testing.T) {
	dirs := manifestDirs(t)
	for _, want := range []string{"past-due", filepath.Join("teams", "marketing"), filepath.Join("teams", "support")} {
		if !slices.Contains(dirs, want) {
			t.Errorf("example directory %s has no manifest (found %v)", want, dirs)
		}
	}
	for _, dir := range dirs {
		t.Run(filepath.ToSlash(dir), func(t *testing.T) {
			m := load(t, dir)
			if len(m.Groups) == 0 {
				t.Fatalf("%s: no groups", dir)
			}
			if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil && !strings.HasPrefix(dir, "quickstart") {
				t.Errorf("%s has no README.md explaining it", dir)
			}
		})
	}
}

// The pipelines plan each team on its own, but a repository may also run
// recall once over every team: group names and IDs must not clash.
func TestTeamsTogether(t *testing.T) {
	load(t, filepath.Join("teams", "marketing"), filepath.Join("teams", "support"))
}

// countIDLines counts the lines of an ids file that are neither blank nor
// comments, and how many of them are upper case.
func countIDLines(t *testing.T, path string) (n, upper int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if line != strings.ToLower(line) {
			upper++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return n, upper
}

func TestMarketingExport(t *testing.T) {
	export := filepath.Join("teams", "marketing", "exports", "black-friday.txt")
	n, upper := countIDLines(t, export)
	if n < 200 || upper == 0 {
		t.Fatalf("%s: %d IDs, %d upper case; the example should show a realistic export with some upper-case IDs", export, n, upper)
	}
	m := load(t, filepath.Join("teams", "marketing"))
	g := group(t, m, "black-friday-2027-wrong-price")
	if len(g.IDs) != n {
		t.Errorf("group has %d IDs, the export file lists %d", len(g.IDs), n)
	}
	lower := regexp.MustCompile(`^[0-9a-f]{32}$`)
	for _, id := range g.IDs {
		if !lower.MatchString(id.String()) {
			t.Errorf("ID %q was not normalised to lower case", id.String())
		}
	}
	if g.ScheduledAt.IsZero() || g.Reason == "" {
		t.Errorf("group should show reason and scheduled_at: %+v", g)
	}
}

func TestSupportDirectory(t *testing.T) {
	m := load(t, filepath.Join("teams", "support"))
	if len(m.Files) < 2 {
		t.Errorf("the support example shows -f with a directory of several files; read %v", m.Files)
	}
	if !slices.IsSortedFunc(m.Files, strings.Compare) {
		t.Errorf("files not read in name order: %v", m.Files)
	}
}

// The past-due example is valid (validate and plan accept it) and is there to
// show plan's warning; its README must say so.
func TestPastDue(t *testing.T) {
	m := load(t, "past-due")
	for _, g := range m.Groups {
		if g.ScheduledAt.IsZero() || !g.ScheduledAt.Before(time.Now()) {
			t.Errorf("group %s: scheduled_at %v should be in the past", g.Name, g.ScheduledAt)
		}
	}
	readme, err := os.ReadFile(filepath.Join("past-due", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bytes.ToLower(readme), []byte("warn")) {
		t.Error("past-due/README.md does not mention the warning plan prints")
	}
}

// ---------------------------------------------------------------- pipelines

func parseYAML(t *testing.T, path string) (*yaml.Node, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &root, doc
}

func mapAt(t *testing.T, v any, keys ...string) map[string]any {
	t.Helper()
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("at %q: not a mapping", k)
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s: not a mapping (%T)", strings.Join(keys, "."), v)
	}
	return m
}

// secretsOnlyInEnv walks a GitHub workflow and reports every place that
// reads a secret other than a value directly under an `env:` mapping. Inline
// `${{ secrets.X }}` in a script is how secrets leak into logs and shells.
func secretsOnlyInEnv(t *testing.T, path string, n *yaml.Node, parentKey string) {
	t.Helper()
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			secretsOnlyInEnv(t, path, c, parentKey)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind == yaml.ScalarNode && strings.Contains(v.Value, "secrets.") && parentKey != "env" {
				t.Errorf("%s:%d: %s reads a secret outside env:", path, v.Line, k.Value)
			}
			secretsOnlyInEnv(t, path, v, k.Value)
		}
	}
}

func bashSyntax(t *testing.T, where, script string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not installed")
	}
	cmd := exec.Command(bash, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s: bash -n: %v\n%s", where, err, out)
	}
	if regexp.MustCompile(`(?m)^\s*set -[a-z]*x`).MatchString(script) {
		t.Errorf("%s: set -x would print secrets into the log", where)
	}
}

type ghStep struct {
	Name string            `yaml:"name"`
	Uses string            `yaml:"uses"`
	Run  string            `yaml:"run"`
	If   string            `yaml:"if"`
	Env  map[string]string `yaml:"env"`
	With map[string]any    `yaml:"with"`
}

type ghJob struct {
	Needs       any               `yaml:"needs"`
	Permissions map[string]string `yaml:"permissions"`
	Environment any               `yaml:"environment"`
	Concurrency map[string]any    `yaml:"concurrency"`
	Strategy    struct {
		Matrix map[string]any `yaml:"matrix"`
	} `yaml:"strategy"`
	Env   map[string]string `yaml:"env"`
	Steps []ghStep          `yaml:"steps"`
}

type ghWorkflow struct {
	Name        string            `yaml:"name"`
	On          map[string]any    `yaml:"on"`
	Permissions map[string]string `yaml:"permissions"`
	Env         map[string]string `yaml:"env"`
	Jobs        map[string]ghJob  `yaml:"jobs"`
}

var pinned = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[\w./-]+)?@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$`)

func loadWorkflow(t *testing.T, name string) (ghWorkflow, string) {
	t.Helper()
	path := filepath.Join("github-actions", ".github", "workflows", name)
	root, _ := parseYAML(t, path)
	var wf ghWorkflow
	if err := root.Decode(&wf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	secretsOnlyInEnv(t, path, root, "")
	if len(wf.Permissions) == 0 {
		t.Errorf("%s: no explicit permissions; the default token is too broad", path)
	}
	for jn, job := range wf.Jobs {
		for i, s := range job.Steps {
			where := path + ": job " + jn + " step " + s.Name
			if s.Uses != "" && !pinned.MatchString(s.Uses) {
				t.Errorf("%s: action %q is not pinned to a version tag or commit", where, s.Uses)
			}
			if s.Run != "" {
				if strings.Contains(s.Run, "${{") {
					t.Errorf("%s: expression inside run:; pass it through env: instead", where)
				}
				bashSyntax(t, where, s.Run)
			}
			if (s.Uses == "") == (s.Run == "") {
				t.Errorf("%s (#%d): needs exactly one of uses/run", where, i)
			}
		}
	}
	return wf, path
}

func findStep(job ghJob, pred func(ghStep) bool) *ghStep {
	for i := range job.Steps {
		if pred(job.Steps[i]) {
			return &job.Steps[i]
		}
	}
	return nil
}

func TestGitHubPlanWorkflow(t *testing.T) {
	wf, path := loadWorkflow(t, "recall-plan.yml")
	if _, ok := wf.On["pull_request"]; !ok || len(wf.On) != 1 {
		t.Errorf("%s: should run on pull_request only (never pull_request_target), got %v", path, wf.On)
	}
	if len(wf.Permissions) != 1 || wf.Permissions["contents"] != "read" {
		t.Errorf("%s: workflow permissions %v, want contents: read only (jobs add what they need)", path, wf.Permissions)
	}
	job, ok := wf.Jobs["plan"]
	if !ok {
		t.Fatalf("%s: no plan job", path)
	}
	if len(job.Permissions) != 2 || job.Permissions["pull-requests"] != "write" || job.Permissions["contents"] != "read" {
		t.Errorf("%s: plan job permissions %v, want contents: read and pull-requests: write", path, job.Permissions)
	}
	teamMatrix(t, path, wf, job)
	// The read-only credential: the state URL is a variable (no password in
	// it), the password the plan role's, never the writer's.
	if job.Env["RECALL_STATE_URL"] != "${{ vars.RECALL_STATE_URL }}" || job.Env["PGPASSWORD"] != "${{ secrets.RECALL_PLAN_PGPASSWORD }}" ||
		!strings.Contains(job.Env["PGUSER"], "'recall_plan'") {
		t.Errorf("%s: plan job env %v: want the state URL from vars, PGUSER recall_plan and PGPASSWORD from RECALL_PLAN_PGPASSWORD", path, job.Env)
	}
	if job.Environment != nil {
		t.Errorf("%s: the plan job must not use the apply environment", path)
	}
	plan := findStep(job, func(s ghStep) bool { return strings.Contains(s.Run, "recall plan") })
	if plan == nil {
		t.Fatalf("%s: no step runs recall plan", path)
	}
	for _, flag := range []string{"-detailed-exitcode", "-format markdown", "-out ", `-state "$RECALL_STATE_URL"`} {
		if !strings.Contains(plan.Run, flag) {
			t.Errorf("%s: recall plan without %s", path, flag)
		}
	}
	if !strings.Contains(plan.Run, `"$code" -eq 2`) {
		t.Errorf("%s: exit code 2 (changes) must count as success", path)
	}
	comment := findStep(job, func(s ghStep) bool { return strings.HasPrefix(s.Uses, "actions/github-script@") })
	if comment == nil {
		t.Fatalf("%s: no step posts the plan comment", path)
	}
	script, _ := comment.With["script"].(string)
	for _, want := range []string{"<!-- recall-plan:", "updateComment", "createComment", "paginate"} {
		if !strings.Contains(script, want) {
			t.Errorf("%s: comment script lacks %q (find-and-update by a hidden marker)", path, want)
		}
	}
	if findStep(job, func(s ghStep) bool { return strings.HasPrefix(s.Uses, "actions/upload-artifact@") }) == nil {
		t.Errorf("%s: the saved plan is not uploaded", path)
	}
	data, _ := os.ReadFile(path)
	_, hasTok := wf.Env["CLICKATELL_TOKEN"]
	for _, s := range job.Steps {
		_, ok := s.Env["CLICKATELL_TOKEN"]
		hasTok = hasTok || ok
	}
	if _, ok := job.Env["CLICKATELL_TOKEN"]; ok || hasTok || bytes.Contains(data, []byte("secrets.CLICKATELL_TOKEN")) {
		t.Errorf("%s: the plan workflow must not receive the Clickatell token", path)
	}
	if bytes.Contains(data, []byte("secrets.RECALL_APPLY_PGPASSWORD")) {
		t.Errorf("%s: the plan workflow must not receive the state writer's password", path)
	}
	if !strings.Contains(plan.Run, "holds a password") {
		t.Errorf("%s: the plan step should refuse a state URL with a password in it", path)
	}
}

// teamMatrix checks that a job's team matrix comes from the teams job,
// which lists the directories under teams/: adding a team is one edit.
func teamMatrix(t *testing.T, path string, wf ghWorkflow, job ghJob) {
	t.Helper()
	if job.Needs != "teams" || job.Strategy.Matrix["team"] != "${{ fromJSON(needs.teams.outputs.teams) }}" {
		t.Errorf("%s: the team matrix should be fromJSON(needs.teams.outputs.teams), got needs %v, matrix %v", path, job.Needs, job.Strategy.Matrix)
	}
	list := findStep(wf.Jobs["teams"], func(s ghStep) bool { return s.Name == "List the teams" })
	if list == nil || !strings.Contains(list.Run, "find teams") {
		t.Errorf("%s: no teams job listing the directories under teams/", path)
	}
}

func TestGitHubApplyWorkflow(t *testing.T) {
	wf, path := loadWorkflow(t, "recall-apply.yml")
	push := mapAt(t, wf.On, "push")
	if branches, _ := push["branches"].([]any); !slices.Contains(branches, any("main")) {
		t.Errorf("%s: apply should run on push to main, got %v", path, push)
	}
	if _, ok := wf.On["pull_request"]; ok {
		t.Errorf("%s: apply must never run on pull requests", path)
	}
	job, ok := wf.Jobs["apply"]
	if !ok {
		t.Fatalf("%s: no apply job", path)
	}
	if g, _ := job.Concurrency["group"].(string); !strings.HasPrefix(g, "recall-apply") {
		t.Errorf("%s: concurrency group %q", path, g)
	}
	if c, ok := job.Concurrency["cancel-in-progress"].(bool); !ok || c {
		t.Errorf("%s: a running apply must never be cancelled (cancel-in-progress: false)", path)
	}
	if job.Environment != "recall-production" {
		t.Errorf("%s: the apply job should use the recall-production environment (limited to main) for its secrets, got %v", path, job.Environment)
	}
	if _, ok := wf.On["schedule"]; !ok {
		t.Errorf("%s: no schedule: nothing finishes messages an earlier apply left unsettled", path)
	}
	if _, ok := wf.On["workflow_dispatch"]; !ok {
		t.Errorf("%s: no workflow_dispatch: it cannot be rerun by hand", path)
	}
	if len(wf.Permissions) != 1 || wf.Permissions["contents"] != "read" {
		t.Errorf("%s: workflow permissions %v, want contents: read only", path, wf.Permissions)
	}
	want := map[string]string{"contents": "read", "actions": "read", "pull-requests": "write"}
	if !maps.Equal(job.Permissions, want) {
		t.Errorf("%s: apply job permissions %v, want %v", path, job.Permissions, want)
	}
	teamMatrix(t, path, wf, job)
	apply := findStep(job, func(s ghStep) bool { return strings.Contains(s.Run, "recall apply") })
	if apply == nil {
		t.Fatalf("%s: no step runs recall apply", path)
	}
	// The writer's password and the token only in the step that needs them.
	if apply.Env["CLICKATELL_TOKEN"] != "${{ secrets.CLICKATELL_TOKEN }}" || apply.Env["PGPASSWORD"] != "${{ secrets.RECALL_APPLY_PGPASSWORD }}" {
		t.Errorf("%s: apply step env %v", path, apply.Env)
	}
	if job.Env["RECALL_STATE_URL"] != "${{ vars.RECALL_STATE_URL }}" || !strings.Contains(job.Env["PGUSER"], "'recall_apply'") {
		t.Errorf("%s: apply job env %v", path, job.Env)
	}
	for _, flag := range []string{"-auto-approve", `-state "$RECALL_STATE_URL"`, "-lock-timeout", "-format json", "recall-apply.jsonl", "$PLANFILE", "holds a password"} {
		if !strings.Contains(apply.Run, flag) {
			t.Errorf("%s: recall apply without %s", path, flag)
		}
	}
	keep := findStep(job, func(s ghStep) bool { return strings.HasPrefix(s.Uses, "actions/upload-artifact@") })
	if keep == nil || !strings.HasPrefix(keep.If, "always()") {
		t.Fatalf("%s: the apply log and errored state are not kept whatever the outcome", path)
	}
	if files, _ := keep.With["path"].(string); !strings.Contains(files, "recall.state.errored.json") || !strings.Contains(files, "recall-apply.jsonl") {
		t.Errorf("%s: the artifact should keep recall.state.errored.json and recall-apply.jsonl, got %q", path, files)
	}
	if !strings.Contains(apply.Run, "recall state push") {
		t.Errorf("%s: the apply step should say how to push an errored state back", path)
	}
	post := findStep(job, func(s ghStep) bool { return strings.Contains(s.Run, "/comments") })
	if post == nil || !strings.Contains(post.If, "github.event_name == 'push'") {
		t.Errorf("%s: the result of a merge's apply is not posted to its pull request", path)
	}
}

// teamDirs lists the directories under teams/, sorted.
func teamDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("teams")
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, e.Name())
		}
	}
	slices.Sort(dirs)
	return dirs
}

func TestGitLabPipeline(t *testing.T) {
	path := filepath.Join("gitlab-ci", ".gitlab-ci.yml")
	_, doc := parseYAML(t, path)
	script := func(job map[string]any, key string) string {
		var b strings.Builder
		if lines, ok := job[key].([]any); ok {
			for _, l := range lines {
				b.WriteString(l.(string))
				b.WriteString("\n")
			}
		}
		return b.String()
	}
	before := script(mapAt(t, doc, "default"), "before_script")
	rules := func(job map[string]any) []string {
		rs, _ := job["rules"].([]any)
		var ifs []string
		for _, r := range rs {
			cond, _ := r.(map[string]any)["if"].(string)
			ifs = append(ifs, cond)
		}
		return ifs
	}

	// One list of teams, shared by plan and apply, equal to the directories.
	matrix, _ := mapAt(t, doc, ".teams", "parallel")["matrix"].([]any)
	if len(matrix) != 1 {
		t.Fatalf("%s: .teams.parallel.matrix should be one entry, got %v", path, matrix)
	}
	var teams []string
	list, _ := matrix[0].(map[string]any)["TEAM"].([]any)
	for _, v := range list {
		teams = append(teams, v.(string))
	}
	if !slices.Equal(teams, teamDirs(t)) {
		t.Errorf("%s: .teams lists %v, the directories under teams/ are %v", path, teams, teamDirs(t))
	}
	for job, tpl := range map[string]string{"plan": ".plan", "apply": ".apply"} {
		ext, _ := mapAt(t, doc, job)["extends"].([]any)
		if !slices.Equal(ext, []any{tpl, ".teams"}) {
			t.Errorf("%s: job %s extends %v, want [%s .teams]", path, job, ext, tpl)
		}
	}
	check := mapAt(t, doc, "teams")
	bashSyntax(t, path+": teams", script(check, "script"))

	plan := mapAt(t, doc, ".plan")
	body := script(plan, "script")
	bashSyntax(t, path+": .plan", before+body)
	if ifs := rules(plan); len(ifs) != 1 || !strings.Contains(ifs[0], `"merge_request_event"`) {
		t.Errorf("%s: plan should run in merge-request pipelines only: %v", path, ifs)
	}
	for _, want := range []string{"-detailed-exitcode", "-format markdown", "-out ", "<!-- recall-plan:", "--request PUT", "--request POST", "holds a password"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: the plan script lacks %q", path, want)
		}
	}
	if v := mapAt(t, plan, "variables"); v["PGUSER"] != "recall_plan" || v["PGPASSWORD"] != "$RECALL_PLAN_PGPASSWORD" {
		t.Errorf("%s: plan variables %v: want the read-only role", path, v)
	}
	if strings.Contains(body, "CLICKATELL_TOKEN") || strings.Contains(body, "RECALL_APPLY_PGPASSWORD") {
		t.Errorf("%s: plan must use neither the Clickatell token nor the writer's password", path)
	}

	apply := mapAt(t, doc, ".apply")
	body = script(apply, "script")
	bashSyntax(t, path+": .apply", before+body)
	ifs := rules(apply)
	for _, cond := range ifs {
		if !strings.Contains(cond, "$CI_DEFAULT_BRANCH") || strings.Contains(cond, "merge_request") {
			t.Errorf("%s: apply rule %q: apply runs on the default branch only", path, cond)
		}
	}
	for _, src := range []string{`"push"`, `"schedule"`, `"web"`} {
		if !slices.ContainsFunc(ifs, func(c string) bool { return strings.Contains(c, src) }) {
			t.Errorf("%s: apply has no rule for pipelines from %s", path, src)
		}
	}
	if rg, _ := apply["resource_group"].(string); rg == "" || strings.Contains(rg, "$") {
		t.Errorf("%s: apply needs a literal resource_group, got %q", path, rg)
	}
	if apply["interruptible"] != false {
		t.Errorf("%s: apply must not be interruptible", path)
	}
	if env := mapAt(t, apply, "environment"); env["name"] != "recall-production" {
		t.Errorf("%s: apply environment %v", path, env)
	}
	if v := mapAt(t, apply, "variables"); v["PGUSER"] != "recall_apply" || v["PGPASSWORD"] != "$RECALL_APPLY_PGPASSWORD" {
		t.Errorf("%s: apply variables %v: want the writer role", path, v)
	}
	for _, want := range []string{"recall apply", `-state "$RECALL_STATE_URL"`, `-workspace "$TEAM"`, "-lock-timeout", "-auto-approve", "-format json",
		"recall-apply.jsonl", "recall state push", "/notes", "/comments", "holds a password"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: the apply script lacks %q", path, want)
		}
	}
	art := mapAt(t, apply, "artifacts")
	paths, _ := art["paths"].([]any)
	if art["when"] != "always" || !slices.Contains(paths, any("recall.state.errored.json")) || !slices.Contains(paths, any("recall-apply.jsonl")) {
		t.Errorf("%s: apply artifacts %v: keep the event log and the errored state whatever the outcome", path, art)
	}
}
