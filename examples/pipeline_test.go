package examples_test

// End-to-end runs of the pipelines' own scripts: the shell steps are taken
// from the workflow files as shipped and run with bash against a real recall
// binary, PostgreSQL state (internal/pgtest; skipped without a server,
// failing under CI=true) and the simulator. The GitLab note is posted to a
// fake GitLab API; the GitHub comment script runs under node with a fake
// Octokit. What is not run: actions/checkout, setup-go and go install of a
// release (recall is built from this tree instead), and apt-get.

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/simulator"
)

// bin holds recall built from this tree, once for all the tests.
var bin = testkit.SharedDir{Prefix: "recall-examples-bin-", Fill: func(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building recall for the pipeline scripts needs the go command on PATH: %v", err)
	}
	out, err := exec.Command(goTool, "build", "-o", filepath.Join(dir, "recall"), "../cmd/recall").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build ../cmd/recall: %v\n%s", err, out)
	}
	return nil
}}

func TestMain(m *testing.M) {
	code := m.Run()
	bin.Remove()
	os.Exit(code)
}

// recallOnPath builds recall from this tree once and returns a PATH with it
// first.
func recallOnPath(t *testing.T) string {
	t.Helper()
	return bin.Get(t) + string(os.PathListSeparator) + os.Getenv("PATH")
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed; the pipeline scripts need it", tool)
		}
	}
}

// userRepo copies examples/teams into a fresh directory laid out like a
// user's repository (teams/ at its root).
func userRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir("teams", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := filepath.Join(dst, path)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

type scriptResult struct {
	exit           int
	stdout, stderr string
}

// runBash runs a script the way both CI systems do (bash -e -o pipefail) in
// dir, with only the given environment (plus PATH and HOME).
func runBash(t *testing.T, dir, path, script string, env map[string]string) scriptResult {
	t.Helper()
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + path, "HOME=" + os.Getenv("HOME"), "NO_COLOR=1"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := scriptResult{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("bash: %v", err)
		}
		res.exit = ee.ExitCode()
	}
	for _, secret := range []string{"sim-token", "gitlab-test-token", "plan-password", "apply-password", "gh-token"} {
		if strings.Contains(res.stdout+res.stderr, secret) {
			t.Errorf("a secret appeared in the script's output:\n%s\n%s", res.stdout, res.stderr)
		}
	}
	return res
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func startSim(t *testing.T) (*simulator.Simulator, string) {
	t.Helper()
	sim, err := simulator.New(simulator.Config{Token: "sim-token", AnyScheduled: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv.URL
}

// ---------------------------------------------------------------- GitHub

func githubStep(t *testing.T, file, name string) ghStep {
	t.Helper()
	root, _ := parseYAML(t, filepath.Join("github-actions", ".github", "workflows", file))
	var wf ghWorkflow
	if err := root.Decode(&wf); err != nil {
		t.Fatal(err)
	}
	for _, job := range wf.Jobs {
		for _, s := range job.Steps {
			if s.Name == name {
				return s
			}
		}
	}
	t.Fatalf("%s: no step %q", file, name)
	return ghStep{}
}

// octokit runs an actions/github-script script under node, with a fake
// Octokit whose comments live in a JSON file between runs.
const octokit = `
const fs = require('fs');
const file = process.env.FAKE_GITHUB;
const st = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {comments: [], next: 1000, creates: 0, updates: 0};
const page = (p) => st.comments.slice(((p.page || 1) - 1) * p.per_page, (p.page || 1) * p.per_page);
const github = {
  rest: { issues: {
    listComments: async (p) => ({ data: page(p) }),
    updateComment: async (p) => {
      const c = st.comments.find(c => c.id === p.comment_id);
      if (!c || c.user.login !== 'github-actions[bot]') throw new Error('403: cannot edit comment ' + p.comment_id);
      c.body = p.body; st.updates++; return { data: c };
    },
    createComment: async (p) => {
      const c = { id: st.next++, body: p.body, user: { login: 'github-actions[bot]', type: 'Bot' }, html_url: 'https://github.test/c' };
      st.comments.push(c); st.creates++; return { data: c };
    },
  } },
  paginate: async (fn, p) => {
    const out = [];
    for (let n = 1; ; n++) {
      const { data } = await fn({ ...p, page: n });
      out.push(...data);
      if (data.length < p.per_page) return out;
    }
  },
};
const context = {
  repo: { owner: 'acme', repo: 'sms-recalls' }, serverUrl: 'https://github.test', runId: 42,
  payload: { pull_request: { number: 7, head: { sha: '0123456789abcdef' } } },
};
const core = { info: (m) => console.log(m) };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('require', 'github', 'context', 'core', fs.readFileSync(process.env.SCRIPT_FILE, 'utf8'))(require, github, context, core)
  .then(() => fs.writeFileSync(file, JSON.stringify(st)))
  .catch((e) => { console.error(e); process.exit(1); });
`

type fakeComments struct {
	Comments []struct {
		ID   int    `json:"id"`
		Body string `json:"body"`
		User struct {
			Login string `json:"login"`
		} `json:"user"`
	} `json:"comments"`
	Creates int `json:"creates"`
	Updates int `json:"updates"`
}

func runGitHubScript(t *testing.T, dir string, step ghStep, env map[string]string) fakeComments {
	t.Helper()
	script, _ := step.With["script"].(string)
	tmp := t.TempDir()
	harness := filepath.Join(tmp, "octokit.js")
	scriptFile := filepath.Join(tmp, "script.js")
	if err := os.WriteFile(harness, []byte(octokit), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scriptFile, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", harness)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SCRIPT_FILE="+scriptFile)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("github-script step: %v\n%s", err, out)
	}
	var fc fakeComments
	if err := json.Unmarshal([]byte(readFile(t, env["FAKE_GITHUB"])), &fc); err != nil {
		t.Fatal(err)
	}
	return fc
}

// ghExpr matches a GitHub Actions expression.
var ghExpr = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// ghEval fills in the expressions of s from ctx: a name (secrets.X,
// vars.X, matrix.team, github.sha, steps.ID.outputs.X, ...) or a chain of
// them with ||, ending perhaps in a quoted default. A name ctx does not
// hold fails the test, so that every secret and variable a workflow reads
// is one the test decided on.
func ghEval(t *testing.T, s string, ctx map[string]string) string {
	t.Helper()
	return ghExpr.ReplaceAllStringFunc(s, func(m string) string {
		for _, alt := range strings.Split(ghExpr.FindStringSubmatch(m)[1], "||") {
			alt = strings.TrimSpace(alt)
			if strings.HasPrefix(alt, "'") {
				return strings.Trim(alt, "'")
			}
			v, ok := ctx[alt]
			if !ok {
				t.Fatalf("the workflow reads %s, which the test does not provide", alt)
			}
			if v != "" {
				return v
			}
		}
		return ""
	})
}

// ghRun is one step of a workflow run the way the runner runs it: the
// workflow's, the job's and the step's env (expressions filled in from ctx),
// GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, in dir.
type ghRun struct {
	t    *testing.T
	path string // PATH
	dir  string
	file string // the workflow file
	ctx  map[string]string
	env  map[string]string // added after the workflow's (CLICKATELL_ENDPOINT)
}

type ghResult struct {
	scriptResult
	outputs map[string]string
	summary string
}

func (g ghRun) step(job, name string) ghResult {
	t := g.t
	t.Helper()
	root, _ := parseYAML(t, filepath.Join("github-actions", ".github", "workflows", g.file))
	var wf ghWorkflow
	if err := root.Decode(&wf); err != nil {
		t.Fatal(err)
	}
	j, ok := wf.Jobs[job]
	if !ok {
		t.Fatalf("%s: no job %s", g.file, job)
	}
	s := findStep(j, func(s ghStep) bool { return s.Name == name })
	if s == nil || s.Run == "" {
		t.Fatalf("%s: job %s has no run step %q", g.file, job, name)
	}
	env := map[string]string{}
	for _, m := range []map[string]string{wf.Env, j.Env} {
		for k, v := range m {
			env[k] = ghEval(t, v, g.ctx)
		}
	}
	// A job's env may refer to the workflow's (env.X), a step's to both.
	ctx := maps.Clone(g.ctx)
	for k, v := range env {
		ctx["env."+k] = v
	}
	for k, v := range s.Env {
		env[k] = ghEval(t, v, ctx)
	}
	for k, v := range g.env {
		env[k] = v
	}
	tmp := t.TempDir()
	env["GITHUB_OUTPUT"] = filepath.Join(tmp, "output")
	env["GITHUB_STEP_SUMMARY"] = filepath.Join(tmp, "summary")
	res := ghResult{scriptResult: runBash(t, g.dir, g.path, s.Run, env), outputs: map[string]string{}}
	if b, err := os.ReadFile(env["GITHUB_OUTPUT"]); err == nil {
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if k, v, ok := strings.Cut(l, "="); ok {
				res.outputs[k] = v
			}
		}
	}
	if b, err := os.ReadFile(env["GITHUB_STEP_SUMMARY"]); err == nil {
		res.summary = string(b)
	}
	return res
}

// fakeGH is a gh command for the apply workflow's steps: `gh api PATH
// [--jq EXPR]` answers from FAKE_GH/api/<PATH with /?&= as _>.json through
// jq, `gh api PATH -F body=@FILE` records a post in FAKE_GH/posts/, and `gh
// run download RUN --name NAME --dir DIR` copies FAKE_GH/artifacts/RUN/NAME.
const fakeGH = `#!/usr/bin/env bash
set -euo pipefail
[ -n "${GH_TOKEN:-}" ] || { echo "gh: GH_TOKEN is not set" >&2; exit 4; }
printf '%s\n' "$*" >> "$FAKE_GH/calls.log"
case "$1" in
api)
  path=$2; shift 2
  jqexpr=""; body=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --jq) jqexpr=$2; shift 2 ;;
      -F) body=$2; shift 2 ;;
      --silent) shift ;;
      *) echo "fake gh: unexpected argument $1" >&2; exit 2 ;;
    esac
  done
  if [ -n "$body" ]; then
    mkdir -p "$FAKE_GH/posts"
    n=$(find "$FAKE_GH/posts" -type f | wc -l)
    { printf '%s\n' "$path"; cat "${body#body=@}"; } > "$FAKE_GH/posts/$(printf '%03d' "$n")"
    exit 0
  fi
  f="$FAKE_GH/api/$(printf '%s' "$path" | tr '/?&=' '____').json"
  [ -f "$f" ] || { echo "gh: HTTP 404: Not Found (https://api.github.com/$path)" >&2; exit 1; }
  if [ -n "$jqexpr" ]; then jq -r "$jqexpr" "$f"; else cat "$f"; fi
  ;;
run)
  [ "$2" = download ] || { echo "fake gh: unexpected run $2" >&2; exit 2; }
  run=$3; shift 3
  name=""; dir=.
  while [ $# -gt 0 ]; do
    case "$1" in
      --name) name=$2; shift 2 ;;
      --dir) dir=$2; shift 2 ;;
      --repo) shift 2 ;;
      *) echo "fake gh: unexpected argument $1" >&2; exit 2 ;;
    esac
  done
  src="$FAKE_GH/artifacts/$run/$name"
  [ -d "$src" ] || { echo "no artifact matches $name" >&2; exit 1; }
  mkdir -p "$dir"
  cp -R "$src/." "$dir/"
  ;;
*) echo "fake gh: unexpected command $1" >&2; exit 2 ;;
esac
`

// ghFake is a fake GitHub behind fakeGH.
type ghFake struct {
	t   *testing.T
	dir string
}

// newGHFake puts the fake gh first on path and returns the new PATH.
func newGHFake(t *testing.T, path string) (*ghFake, string) {
	t.Helper()
	f := &ghFake{t: t, dir: t.TempDir()}
	bin := filepath.Join(f.dir, "bin")
	for _, d := range []string{bin, filepath.Join(f.dir, "api"), filepath.Join(f.dir, "artifacts")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, "gh"), []byte(fakeGH), 0o755); err != nil {
		t.Fatal(err)
	}
	return f, bin + string(os.PathListSeparator) + path
}

func (f *ghFake) api(path, body string) {
	f.t.Helper()
	name := strings.NewReplacer("/", "_", "?", "_", "&", "_", "=", "_").Replace(path) + ".json"
	if err := os.WriteFile(filepath.Join(f.dir, "api", name), []byte(body), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// artifact stores files (copied from dir) as an artifact of a run.
func (f *ghFake) artifact(run, name, dir string, files ...string) {
	f.t.Helper()
	dst := filepath.Join(f.dir, "artifacts", run, name)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		f.t.Fatal(err)
	}
	for _, file := range files {
		if err := os.WriteFile(filepath.Join(dst, file), []byte(readFile(f.t, filepath.Join(dir, file))), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

// posts returns what was posted, as "PATH\nBODY", in order.
func (f *ghFake) posts() []string {
	f.t.Helper()
	entries, _ := os.ReadDir(filepath.Join(f.dir, "posts"))
	var out []string
	for _, e := range entries {
		out = append(out, readFile(f.t, filepath.Join(f.dir, "posts", e.Name())))
	}
	return out
}

// TestGitHubPipelineEndToEnd walks the GitOps loop with the workflows' own
// steps, their env wired as the workflows say (the state URL without
// credentials; the read-only role's password for plan, the writer's for
// apply) against roles made by postgres-roles.sql: the teams listed from
// the directories, a pull request's plan (exit 2, comment posted, the
// second push updates it), the merge's apply of exactly the reviewed plan
// and the result posted to the pull request, an apply that plans afresh, a
// reviewed plan gone stale refused, and a scheduled rerun that finds and
// sends nothing.
func TestGitHubPipelineEndToEnd(t *testing.T) {
	need(t, "bash", "jq")
	roles := newStateRoles(t)
	path := recallOnPath(t)
	sim, endpoint := startSim(t)
	repo := userRepo(t)
	roles.bootstrap(t, path, repo)
	gh, path := newGHFake(t, path)
	_, hasNode := exec.LookPath("node")

	ctx := func(team string) map[string]string {
		return map[string]string{
			"matrix.team":                    team,
			"vars.RECALL_STATE_URL":          roles.url,
			"vars.RECALL_PLAN_PGUSER":        roles.reader,
			"vars.RECALL_APPLY_PGUSER":       roles.writer,
			"secrets.RECALL_PLAN_PGPASSWORD": "plan-password",
			// The writer's password and the token exist only in the
			// recall-production environment.
			"secrets.RECALL_APPLY_PGPASSWORD": "apply-password",
			"secrets.CLICKATELL_TOKEN":        "sim-token",
			"github.token":                    "gh-token",
			"github.repository":               "acme/sms-recalls",
			"github.sha":                      "feedfacefeedfacefeedfacefeedfacefeedface",
			"github.event_name":               "push",
			"github.server_url":               "https://github.test",
			"github.run_id":                   "4242",
			"github.run_attempt":              "1",
		}
	}
	plan := ghRun{t: t, path: path, dir: repo, file: "recall-plan.yml"}
	apply := ghRun{t: t, path: path, dir: repo, file: "recall-apply.yml", env: map[string]string{"CLICKATELL_ENDPOINT": endpoint, "FAKE_GH": gh.dir}}

	// The teams are the directories: adding one is one edit.
	plan.ctx = ctx("")
	res := plan.step("teams", "List the teams")
	if res.exit != 0 || res.outputs["teams"] != `["marketing","support"]` {
		t.Fatalf("List the teams: exit %d, outputs %v\n%s", res.exit, res.outputs, res.stderr)
	}
	if err := os.Mkdir(filepath.Join(repo, "teams", "billing"), 0o755); err != nil {
		t.Fatal(err)
	}
	if res := apply.withCtx(ctx("")).step("teams", "List the teams"); res.outputs["teams"] != `["billing","marketing","support"]` {
		t.Errorf("after adding teams/billing, the apply workflow lists %q", res.outputs["teams"])
	}
	os.Remove(filepath.Join(repo, "teams", "billing"))

	fake := filepath.Join(t.TempDir(), "github.json")
	runPlan := func(team string) (exitcode string, fc fakeComments) {
		t.Helper()
		res := plan.withCtx(ctx(team)).step("plan", "Plan")
		if res.exit != 0 {
			t.Fatalf("the Plan step failed (exit %d); it must record the exit code instead:\n%s", res.exit, res.stderr)
		}
		exitcode = res.outputs["exitcode"]
		if hasNode == nil {
			fc = runGitHubScript(t, repo, githubStep(t, "recall-plan.yml", "Comment the plan on the pull request"),
				map[string]string{"TEAM": team, "EXITCODE": exitcode, "FAKE_GITHUB": fake})
		}
		return exitcode, fc
	}

	// The pull request: 330 messages to cancel for marketing, 23 for support.
	code, fc := runPlan("marketing")
	if code != "2" {
		t.Fatalf("plan exit code %q, want 2 (changes)", code)
	}
	md := readFile(t, filepath.Join(repo, "plan.md"))
	if !strings.Contains(md, "Plan: 330 to cancel") {
		t.Errorf("plan.md does not show the plan:\n%.500s", md)
	}
	var saved struct {
		Changes []json.RawMessage `json:"changes"`
	}
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(repo, "recall.plan.json"))), &saved); err != nil || len(saved.Changes) != 330 {
		t.Errorf("saved plan: %d changes, err %v; want 330", len(saved.Changes), err)
	}
	// The plan run's artifact, as upload-artifact keeps it.
	gh.artifact("900", "recall-plan-marketing", repo, "recall.plan.json", "plan.md")
	if hasNode == nil {
		if fc.Creates != 1 || len(fc.Comments) != 1 || !strings.Contains(fc.Comments[0].Body, "<!-- recall-plan:marketing -->") ||
			!strings.Contains(fc.Comments[0].Body, "Plan: 330 to cancel") {
			t.Fatalf("after the first plan: %+v", fc)
		}
		// A second push: the same comment is edited, not a new one posted.
		if _, fc = runPlan("marketing"); fc.Creates != 1 || fc.Updates != 1 || len(fc.Comments) != 1 {
			t.Errorf("after a second push: %d comments, %d created, %d updated; want 1, 1, 1", len(fc.Comments), fc.Creates, fc.Updates)
		}
	} else {
		t.Log("node is not installed: the comment step was not run")
	}
	if code, _ := runPlan("support"); code != "2" {
		t.Fatalf("support: plan exit code %q, want 2", code)
	}
	gh.artifact("900", "recall-plan-support", repo, "recall.plan.json", "plan.md")

	// The merge of #7, whose head was planned by run 900.
	gh.api("repos/acme/sms-recalls/commits/feedfacefeedfacefeedfacefeedfacefeedface/pulls",
		`[{"number": 7, "merged_at": "2027-01-05T10:00:00Z", "head": {"sha": "0123456789abcdef"}}]`)
	gh.api("repos/acme/sms-recalls/actions/workflows/recall-plan.yml/runs?event=pull_request&status=success&head_sha=0123456789abcdef",
		`{"workflow_runs": [{"id": 900}]}`)
	gh.api("repos/acme/sms-recalls/actions/runs/900/artifacts",
		`{"artifacts": [{"id": 1, "name": "recall-plan-marketing", "expired": false}, {"id": 2, "name": "recall-plan-support", "expired": false}]}`)

	// Marketing applies exactly the reviewed plan.
	mk := apply.withCtx(ctx("marketing"))
	fetched := mk.step("apply", "Fetch the reviewed plan")
	if fetched.exit != 0 || fetched.outputs["planfile"] != "reviewed-plan/recall.plan.json" {
		t.Fatalf("Fetch the reviewed plan: exit %d, outputs %v\n%s\n%s", fetched.exit, fetched.outputs, fetched.stdout, fetched.stderr)
	}
	mk.ctx["steps.reviewed.outputs.planfile"] = fetched.outputs["planfile"]
	res = mk.step("apply", "Apply")
	if res.exit != 0 || !strings.Contains(res.stdout, "recall apply (marketing): 330 cancelled, 0 too late, 0 not found, 0 failed, 0 of 330 left unsettled") {
		t.Fatalf("apply of the reviewed plan: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if !strings.Contains(res.summary, "the reviewed plan") {
		t.Errorf("the job summary should say the reviewed plan was applied:\n%s", res.summary)
	}
	if st := sim.Stats(); st.Cancelled != 330 {
		t.Errorf("the simulator cancelled %d messages, want 330", st.Cancelled)
	}
	var events int
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, filepath.Join(repo, "recall-apply.jsonl"))), "\n") {
		var ev struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("recall-apply.jsonl: %v in %q", err, l)
		}
		events++
	}
	if events < 332 {
		t.Errorf("recall-apply.jsonl holds %d events, want apply_start, 330 messages and the summary", events)
	}
	mk.ctx["steps.apply.outputs.exitcode"] = "0"
	if res := mk.step("apply", "Post the result to the merged pull request"); res.exit != 0 {
		t.Fatalf("posting the result: exit %d\n%s", res.exit, res.stderr)
	}
	if posts := gh.posts(); len(posts) != 1 || !strings.HasPrefix(posts[0], "repos/acme/sms-recalls/issues/7/comments\n<!-- recall-apply:marketing -->") ||
		!strings.Contains(posts[0], "330 cancelled") {
		t.Errorf("the result posted to #7: %q", posts)
	}

	// Support: the reviewed plan was made before this apply, which plans
	// afresh and cancels the 23.
	sp := apply.withCtx(ctx("support"))
	sp.ctx["steps.reviewed.outputs.planfile"] = ""
	if res := sp.step("apply", "Apply"); res.exit != 0 || !strings.Contains(res.stdout, "23 cancelled") {
		t.Fatalf("apply of support: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	// The reviewed plan of support is stale now: refused, nothing sent, the
	// job fails and says so.
	before := sim.Stats().Requests
	fetched = sp.step("apply", "Fetch the reviewed plan")
	sp.ctx["steps.reviewed.outputs.planfile"] = fetched.outputs["planfile"]
	res = sp.step("apply", "Apply")
	if res.exit == 0 || !strings.Contains(res.stderr, "stale") || !strings.Contains(res.stdout, "stopped before it applied anything") {
		t.Errorf("apply of a stale reviewed plan: exit %d, want a failure saying it is stale\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if sent := sim.Stats().Requests - before; sent != 0 {
		t.Errorf("a stale plan sent %d calls", sent)
	}

	// A team without an artifact had nothing to cancel in the reviewed plan.
	gh.api("repos/acme/sms-recalls/actions/runs/900/artifacts", `{"artifacts": []}`)
	if res := mk.step("apply", "Fetch the reviewed plan"); res.exit != 0 || res.outputs["skip"] != "true" {
		t.Errorf("no artifact for the team: exit %d, outputs %v\n%s", res.exit, res.outputs, res.stderr)
	}

	// The hourly run plans afresh: nothing to do, nothing sent.
	sched := apply.withCtx(ctx("marketing"))
	sched.ctx["github.event_name"] = "schedule"
	sched.ctx["steps.reviewed.outputs.planfile"] = ""
	before = sim.Stats().Requests
	if res := sched.step("apply", "Apply"); res.exit != 0 || !strings.Contains(res.stdout, "0 of 0 left unsettled") {
		t.Fatalf("scheduled rerun of apply: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if sent := sim.Stats().Requests - before; sent != 0 {
		t.Errorf("rerun of apply sent %d calls, want 0", sent)
	}
	code, fc = runPlan("marketing")
	if code != "0" {
		t.Errorf("plan after apply: exit code %q, want 0 (no changes)", code)
	}
	if hasNode == nil && (len(fc.Comments) != 2 || !strings.Contains(fc.Comments[0].Body, "<!-- recall-plan:marketing -->") ||
		!strings.Contains(fc.Comments[0].Body, "No changes")) {
		t.Errorf("after apply the marketing comment should say there is nothing left: %+v", fc)
	}

	// A URL with a password in it is refused before recall runs.
	bad := ctx("marketing")
	bad["vars.RECALL_STATE_URL"] = "postgres://recall_plan:hunter2@db.example/recall"
	if res := plan.withCtx(bad).step("plan", "Plan"); res.outputs["exitcode"] != "1" || !strings.Contains(res.stdout, "holds a password") {
		t.Errorf("a state URL with a password: outputs %v\n%s", res.outputs, res.stdout)
	}
}

func (g ghRun) withCtx(ctx map[string]string) ghRun {
	g.ctx = ctx
	return g
}

// ---------------------------------------------------------------- GitLab

type glNote struct {
	ID     int    `json:"id"`
	Body   string `json:"body"`
	System bool   `json:"system"`
	Author struct {
		ID int `json:"id"`
	} `json:"author"`
}

// fakeGitLab serves the few notes endpoints the plan job uses.
type fakeGitLab struct {
	mu             sync.Mutex
	notes          map[string][]*glNote // by merge request IID
	next           int
	posts, puts    int
	unauthorized   int
	get            map[string]string // other GET answers, by path
	commitComments []string          // notes posted on commits, "SHA\nNOTE"
}

// answer sets the body of GET path.
func (f *fakeGitLab) answer(path, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.get == nil {
		f.get = map[string]string{}
	}
	f.get[path] = body
}

const glToken, glBot = "gitlab-test-token", 99

func (f *fakeGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != glToken {
		f.unauthorized++
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if body, ok := f.get[r.URL.Path]; ok && r.Method == http.MethodGet {
		w.Write([]byte(body))
		return
	}
	// api v4 projects 42 repository commits SHA comments
	if len(parts) == 8 && parts[3] == "42" && parts[5] == "commits" && parts[7] == "comments" && r.Method == http.MethodPost {
		f.commitComments = append(f.commitComments, parts[6]+"\n"+r.PostFormValue("note"))
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{}`)
		return
	}
	// api v4 projects 42 merge_requests IID notes [ID]
	switch {
	case r.URL.Path == "/api/v4/user" && r.Method == http.MethodGet:
		fmt.Fprintf(w, `{"id":%d,"username":"project_42_bot"}`, glBot)
		return
	case len(parts) >= 7 && parts[2] == "projects" && parts[3] == "42" && parts[4] == "merge_requests" && parts[6] == "notes":
	default:
		http.NotFound(w, r)
		return
	}
	iid := parts[5]
	switch {
	case len(parts) == 7 && r.Method == http.MethodGet:
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		if per <= 0 {
			per = 20
		}
		if page <= 0 {
			page = 1
		}
		all := f.notes[iid]
		lo, hi := min((page-1)*per, len(all)), min(page*per, len(all))
		json.NewEncoder(w).Encode(all[lo:hi])
	case len(parts) == 7 && r.Method == http.MethodPost:
		n := &glNote{ID: f.next, Body: r.PostFormValue("body")}
		n.Author.ID = glBot
		f.next++
		f.posts++
		f.notes[iid] = append(f.notes[iid], n)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(n)
	case len(parts) == 8 && r.Method == http.MethodPut:
		id, _ := strconv.Atoi(parts[7])
		for _, n := range f.notes[iid] {
			if n.ID == id {
				if n.Author.ID != glBot {
					http.Error(w, `{"message":"403 Forbidden"}`, http.StatusForbidden)
					return
				}
				n.Body = r.PostFormValue("body")
				f.puts++
				json.NewEncoder(w).Encode(n)
				return
			}
		}
		http.NotFound(w, r)
	default:
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusMethodNotAllowed)
	}
}

// counts returns the notes posted and edited, and the calls refused for a
// missing or wrong token.
func (f *fakeGitLab) counts() (posts, puts, unauthorized int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, f.puts, f.unauthorized
}

func (f *fakeGitLab) hasNote(iid, body string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.ContainsFunc(f.notes[iid], func(n *glNote) bool { return n.Body == body })
}

// botNotes returns the bot's plan notes (not its apply results).
func (f *fakeGitLab) botNotes(iid string) []glNote {
	return f.botNotesWith(iid, "<!-- recall-plan:")
}

func (f *fakeGitLab) botNotesWith(iid, marker string) []glNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []glNote
	for _, n := range f.notes[iid] {
		if n.Author.ID == glBot && strings.Contains(n.Body, marker) {
			out = append(out, *n)
		}
	}
	return out
}

// gitlabJobScript returns a job's or template's script as one bash script,
// without the apt-get line (jq is already installed where this test runs).
func gitlabJobScript(t *testing.T, template string) string {
	t.Helper()
	_, doc := parseYAML(t, filepath.Join("gitlab-ci", ".gitlab-ci.yml"))
	lines, _ := mapAt(t, doc, template)["script"].([]any)
	var b strings.Builder
	for _, l := range lines {
		s := l.(string)
		if strings.HasPrefix(s, "apt-get ") {
			continue
		}
		b.WriteString(s + "\n")
	}
	return b.String()
}

// gitlabJobEnv is a job's environment as the runner makes it: the
// template's variables, expanded from the CI/CD variables ci, which then
// take precedence (as project variables do over the file's).
func gitlabJobEnv(t *testing.T, template string, ci map[string]string) map[string]string {
	t.Helper()
	_, doc := parseYAML(t, filepath.Join("gitlab-ci", ".gitlab-ci.yml"))
	env := map[string]string{}
	for k, v := range mapAt(t, doc, template, "variables") {
		env[k] = os.Expand(v.(string), func(name string) string { return ci[name] })
	}
	for k, v := range ci {
		env[k] = v
	}
	return env
}

// TestGitLabPipelineEndToEnd runs the jobs' scripts with their variables
// wired as the file says, against roles made by postgres-roles.sql: the
// teams check, the plan note (posted once, found again past the first page
// of notes and edited on the next push, never a human's note carrying the
// same marker), the merge's apply of exactly the reviewed plan with the
// result noted on the merge request, a scheduled rerun that sends nothing,
// a push without a merge request noted on its commit, and afterwards the
// plan note saying there is nothing left to do.
func TestGitLabPipelineEndToEnd(t *testing.T) {
	need(t, "bash", "curl", "jq", "diff")
	roles := newStateRoles(t)
	path := recallOnPath(t)
	sim, endpoint := startSim(t)
	repo := userRepo(t)
	roles.bootstrap(t, path, repo)
	if err := os.WriteFile(filepath.Join(repo, ".gitlab-ci.yml"), []byte(readFile(t, filepath.Join("gitlab-ci", ".gitlab-ci.yml"))), 0o644); err != nil {
		t.Fatal(err)
	}

	// The teams check: the one list matches the directories; a directory
	// missing from it fails the merge request, naming it.
	check := gitlabJobScript(t, "teams")
	if res := runBash(t, repo, path, check, nil); res.exit != 0 {
		t.Fatalf("teams job: exit %d\n%s", res.exit, res.stderr)
	}
	os.Mkdir(filepath.Join(repo, "teams", "billing"), 0o755)
	if res := runBash(t, repo, path, check, nil); res.exit == 0 || !strings.Contains(res.stderr, "> billing") {
		t.Errorf("teams job with teams/billing not in the list: exit %d\n%s", res.exit, res.stderr)
	}
	os.Remove(filepath.Join(repo, "teams", "billing"))

	gl := &fakeGitLab{notes: map[string][]*glNote{}, next: 1}
	// 120 earlier notes, one of them a reviewer quoting the marker.
	for i := 0; i < 120; i++ {
		n := &glNote{ID: gl.next, Body: fmt.Sprintf("review comment %d", i)}
		if i == 3 {
			n.Body = "quoting: <!-- recall-plan:support -->"
		}
		n.Author.ID = 5
		gl.next++
		gl.notes["7"] = append(gl.notes["7"], n)
	}
	api := httptest.NewServer(gl)
	t.Cleanup(api.Close)

	planScript := gitlabJobScript(t, ".plan")
	applyScript := gitlabJobScript(t, ".apply")
	ci := func(extra map[string]string) map[string]string {
		m := map[string]string{
			"TEAM": "support", "RECALL_STATE_URL": roles.url,
			"RECALL_PLAN_PGPASSWORD": "plan-password", "RECALL_APPLY_PGPASSWORD": "apply-password",
			"CI_API_V4_URL": api.URL + "/api/v4", "CI_PROJECT_ID": "42",
			"CI_COMMIT_SHA": "feedfacefeedfacefeedfacefeedfacefeedface", "CI_COMMIT_SHORT_SHA": "0123abcd",
			"CI_JOB_URL": "https://gitlab.test/jobs/1", "CI_DEFAULT_BRANCH": "main",
			"RECALL_GITLAB_TOKEN": glToken,
		}
		maps.Copy(m, extra)
		return m
	}
	planEnv := func(iid string) map[string]string {
		env := gitlabJobEnv(t, ".plan", ci(map[string]string{"CI_MERGE_REQUEST_IID": iid, "CI_PIPELINE_SOURCE": "merge_request_event"}))
		if env["PGUSER"] != "recall_plan" || env["PGPASSWORD"] != "plan-password" {
			t.Fatalf("plan job: PGUSER %q, PGPASSWORD %q; want the read-only role's", env["PGUSER"], env["PGPASSWORD"])
		}
		env["PGUSER"] = roles.reader // the test's own role names
		return env
	}
	applyEnv := func(extra map[string]string) map[string]string {
		env := gitlabJobEnv(t, ".apply", ci(maps.Clone(extra)))
		if env["PGUSER"] != "recall_apply" || env["PGPASSWORD"] != "apply-password" {
			t.Fatalf("apply job: PGUSER %q, PGPASSWORD %q; want the writer's", env["PGUSER"], env["PGPASSWORD"])
		}
		env["PGUSER"] = roles.writer
		env["CLICKATELL_TOKEN"], env["CLICKATELL_ENDPOINT"] = "sim-token", endpoint
		return env
	}
	plan := func(iid string) scriptResult {
		t.Helper()
		return runBash(t, repo, path, planScript, planEnv(iid))
	}

	// 14 + 9 messages in the support team's two files.
	if res := plan("7"); res.exit != 0 {
		t.Fatalf("plan job: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	notes := gl.botNotes("7")
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "<!-- recall-plan:support -->") || !strings.Contains(notes[0].Body, "Plan: 23 to cancel") {
		t.Fatalf("after the first plan, bot notes: %+v", notes)
	}
	if res := plan("7"); res.exit != 0 {
		t.Fatalf("second plan job: exit %d\n%s", res.exit, res.stderr)
	}
	if notes := gl.botNotes("7"); len(notes) != 1 {
		t.Errorf("after a second push: %d bot notes, want 1", len(notes))
	}
	if posts, puts, _ := gl.counts(); posts != 1 || puts != 1 {
		t.Errorf("after a second push: %d posted, %d edited; want 1, 1", posts, puts)
	}

	// The merge of !7, whose head's pipeline 77 ran the plan job 555.
	gl.answer("/api/v4/projects/42/repository/commits/feedfacefeedfacefeedfacefeedfacefeedface/merge_requests",
		`[{"iid": 7, "state": "merged", "sha": "0123abcd0123abcd"}]`)
	gl.answer("/api/v4/projects/42/merge_requests/7/pipelines",
		`[{"id": 78, "sha": "0123abcd0123abcd", "status": "failed"}, {"id": 77, "sha": "0123abcd0123abcd", "status": "success"}]`)
	gl.answer("/api/v4/projects/42/pipelines/77/jobs",
		`[{"id": 554, "name": "plan: [marketing]", "status": "success"}, {"id": 555, "name": "plan: [support]", "status": "success"}]`)
	gl.answer("/api/v4/projects/42/jobs/555/artifacts/recall.plan.json", readFile(t, filepath.Join(repo, "recall.plan.json")))

	res := runBash(t, repo, path, applyScript, applyEnv(map[string]string{"CI_PIPELINE_SOURCE": "push", "RECALL_APPLY_REVIEWED_PLAN": "true"}))
	if res.exit != 0 || !strings.Contains(res.stdout, "Applying the plan reviewed on !7 (job 555)") ||
		!strings.Contains(res.stdout, "recall apply (support): 23 cancelled, 0 too late, 0 not found, 0 failed, 0 of 23 left unsettled") {
		t.Fatalf("apply job: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if st := sim.Stats(); st.Cancelled != 23 {
		t.Errorf("the simulator cancelled %d messages, want 23", st.Cancelled)
	}
	if n := gl.botNotesWith("7", "<!-- recall-apply:support -->"); len(n) != 1 || !strings.Contains(n[0].Body, "23 cancelled") || !strings.Contains(n[0].Body, "the reviewed plan") {
		t.Errorf("the result noted on !7: %+v", n)
	}
	if _, err := os.Stat(filepath.Join(repo, "recall-apply.jsonl")); err != nil {
		t.Errorf("the event log for the artifact: %v", err)
	}

	// The scheduled pipeline plans afresh: nothing to do, nothing sent, no
	// note.
	before := sim.Stats().Requests
	if res := runBash(t, repo, path, applyScript, applyEnv(map[string]string{"CI_PIPELINE_SOURCE": "schedule"})); res.exit != 0 || !strings.Contains(res.stdout, "0 of 0 left unsettled") {
		t.Fatalf("scheduled apply: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if sent := sim.Stats().Requests - before; sent != 0 {
		t.Errorf("the scheduled apply sent %d calls, want 0", sent)
	}
	if n := gl.botNotesWith("7", "<!-- recall-apply:"); len(n) != 1 {
		t.Errorf("a scheduled run posted a note: %d apply notes", len(n))
	}
	// A push straight to the default branch: the result goes on the commit.
	gl.answer("/api/v4/projects/42/repository/commits/feedfacefeedfacefeedfacefeedfacefeedface/merge_requests", `[]`)
	if res := runBash(t, repo, path, applyScript, applyEnv(map[string]string{"CI_PIPELINE_SOURCE": "push"})); res.exit != 0 || len(gl.commitComments) != 1 ||
		!strings.HasPrefix(gl.commitComments[0], "feedfacefeedfacefeedfacefeedfacefeedface\n<!-- recall-apply:support -->") {
		t.Errorf("apply of a push without a merge request: exit %d, commit comments %q\n%s", res.exit, gl.commitComments, res.stderr)
	}

	// After the merge the note says there is nothing left; a new merge
	// request with nothing to do gets no note at all.
	if res := plan("7"); res.exit != 0 {
		t.Fatalf("plan after apply: exit %d\n%s", res.exit, res.stderr)
	}
	if notes := gl.botNotes("7"); len(notes) != 1 || !strings.Contains(notes[0].Body, "No changes") {
		t.Errorf("after apply the note should say there is nothing left: %+v", notes)
	}
	if res := plan("8"); res.exit != 0 || len(gl.botNotes("8")) != 0 {
		t.Errorf("a merge request without changes: exit %d, %d notes; want 0, 0", res.exit, len(gl.botNotes("8")))
	}

	// Without the GitLab token the plan still runs and passes; it is only
	// not posted.
	noToken := planEnv("9")
	delete(noToken, "RECALL_GITLAB_TOKEN")
	if res := runBash(t, repo, path, planScript, noToken); res.exit != 0 || !strings.Contains(res.stderr, "RECALL_GITLAB_TOKEN is not set") ||
		!strings.Contains(res.stdout, "No changes") {
		t.Errorf("plan without RECALL_GITLAB_TOKEN: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	// A state URL with a password is refused.
	withPassword := planEnv("9")
	withPassword["RECALL_STATE_URL"] = "postgres://recall_plan:hunter2@db.example/recall"
	if res := runBash(t, repo, path, planScript, withPassword); res.exit == 0 || !strings.Contains(res.stderr, "holds a password") {
		t.Errorf("plan with a password in the URL: exit %d\n%s", res.exit, res.stderr)
	}

	// A broken manifest fails the job, and the note says why, with the position.
	bad := filepath.Join(repo, "teams", "support", "appointment-reminders.yaml")
	if err := os.WriteFile(bad, []byte(readFile(t, bad)+"      - not-an-id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := plan("7"); res.exit == 0 {
		t.Errorf("plan of a broken manifest exited 0")
	}
	notes = gl.botNotes("7")
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "recall plan failed") || !strings.Contains(notes[0].Body, "appointment-reminders.yaml:") {
		t.Errorf("the note should report the failure with its position: %+v", notes)
	}
	if _, _, unauthorized := gl.counts(); unauthorized != 0 {
		t.Errorf("%d calls to the GitLab API without the token", unauthorized)
	}
	if !gl.hasNote("7", "quoting: <!-- recall-plan:support -->") {
		t.Error("a reviewer's note quoting the marker was edited")
	}
}
