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
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/recallhq/recall/internal/pgtest"
	"github.com/recallhq/recall/simulator"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// recallOnPath builds recall from this tree once and returns a PATH with it
// first.
func recallOnPath(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "recall-examples-bin-")
		if buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("building recall for the pipeline scripts needs the go command on PATH: %v", err)
			return
		}
		out, err := exec.Command(goTool, "build", "-o", filepath.Join(binDir, "recall"), "../cmd/recall").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ../cmd/recall: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binDir + string(os.PathListSeparator) + os.Getenv("PATH")
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
	for _, secret := range []string{"sim-token", "gitlab-test-token"} {
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

// TestGitHubPipelineEndToEnd walks the GitOps loop with the workflows' own
// steps: a pull request's plan (exit 2 → changes, comment posted), a second
// push (the same comment updated), the merge's apply, and a rerun that finds
// and sends nothing.
func TestGitHubPipelineEndToEnd(t *testing.T) {
	need(t, "bash")
	stateURL := pgtest.SchemaURL(t)
	path := recallOnPath(t)
	sim, endpoint := startSim(t)
	repo := userRepo(t)
	_, hasNode := exec.LookPath("node")

	planStep := githubStep(t, "recall-plan.yml", "Plan")
	commentStep := githubStep(t, "recall-plan.yml", "Comment the plan on the pull request")
	applyStep := githubStep(t, "recall-apply.yml", "Apply")
	fake := filepath.Join(t.TempDir(), "github.json")

	plan := func() (exitcode string, fc fakeComments) {
		t.Helper()
		out := filepath.Join(t.TempDir(), "output")
		res := runBash(t, repo, path, planStep.Run, map[string]string{
			"TEAM": "marketing", "RECALL_STATE_URL": stateURL,
			"GITHUB_OUTPUT": out, "GITHUB_STEP_SUMMARY": filepath.Join(t.TempDir(), "summary"),
		})
		if res.exit != 0 {
			t.Fatalf("the Plan step failed (exit %d); it must record the exit code instead:\n%s", res.exit, res.stderr)
		}
		exitcode = strings.TrimPrefix(strings.TrimSpace(readFile(t, out)), "exitcode=")
		if hasNode == nil {
			fc = runGitHubScript(t, repo, commentStep, map[string]string{"TEAM": "marketing", "EXITCODE": exitcode, "FAKE_GITHUB": fake})
		}
		return exitcode, fc
	}

	// The pull request: 330 messages to cancel.
	code, fc := plan()
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
	if hasNode == nil {
		if fc.Creates != 1 || len(fc.Comments) != 1 || !strings.Contains(fc.Comments[0].Body, "<!-- recall-plan:marketing -->") ||
			!strings.Contains(fc.Comments[0].Body, "Plan: 330 to cancel") {
			t.Fatalf("after the first plan: %+v", fc)
		}
		// A second push: the same comment is edited, not a new one posted.
		if _, fc = plan(); fc.Creates != 1 || fc.Updates != 1 || len(fc.Comments) != 1 {
			t.Errorf("after a second push: %d comments, %d created, %d updated; want 1, 1, 1", len(fc.Comments), fc.Creates, fc.Updates)
		}
	} else {
		t.Log("node is not installed: the comment step was not run")
	}

	// The merge: apply cancels every message.
	env := map[string]string{"TEAM": "marketing", "RECALL_STATE_URL": stateURL, "CLICKATELL_TOKEN": "sim-token", "CLICKATELL_ENDPOINT": endpoint}
	res := runBash(t, repo, path, applyStep.Run, env)
	if res.exit != 0 || !strings.Contains(res.stdout, "Apply complete! Messages: 330 cancelled") {
		t.Fatalf("apply: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if st := sim.Stats(); st.Cancelled != 330 {
		t.Errorf("the simulator cancelled %d messages, want 330", st.Cancelled)
	}

	// Rerun: nothing to do, nothing sent; the comment now says so.
	before := sim.Stats().Requests
	if res := runBash(t, repo, path, applyStep.Run, env); res.exit != 0 {
		t.Fatalf("rerun of apply: exit %d\n%s", res.exit, res.stderr)
	}
	if sent := sim.Stats().Requests - before; sent != 0 {
		t.Errorf("rerun of apply sent %d calls, want 0", sent)
	}
	code, fc = plan()
	if code != "0" {
		t.Errorf("plan after apply: exit code %q, want 0 (no changes)", code)
	}
	if hasNode == nil && (len(fc.Comments) != 1 || !strings.Contains(fc.Comments[0].Body, "No changes")) {
		t.Errorf("after apply the comment should say there is nothing left: %+v", fc)
	}
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
	mu           sync.Mutex
	notes        map[string][]*glNote // by merge request IID
	next         int
	posts, puts  int
	unauthorized int
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
	// api v4 projects 42 merge_requests IID notes [ID]
	switch {
	case r.URL.Path == "/api/v4/user" && r.Method == http.MethodGet:
		fmt.Fprintf(w, `{"id":%d,"username":"project_42_bot"}`, glBot)
		return
	case len(parts) >= 6 && parts[2] == "projects" && parts[3] == "42" && parts[4] == "merge_requests" && parts[6] == "notes":
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

func (f *fakeGitLab) botNotes(iid string) []glNote {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []glNote
	for _, n := range f.notes[iid] {
		if n.Author.ID == glBot {
			out = append(out, *n)
		}
	}
	return out
}

// gitlabJobScript returns a template's script as one bash script, without
// the apt-get line (jq is already installed where this test runs).
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

// TestGitLabPipelineEndToEnd runs the plan and apply jobs' scripts: the note
// is posted once, found again past the first page of notes and edited on the
// next push (never a human's note carrying the same marker), apply cancels
// everything, and afterwards the note says there is nothing left to do.
func TestGitLabPipelineEndToEnd(t *testing.T) {
	need(t, "bash", "curl", "jq")
	stateURL := pgtest.SchemaURL(t)
	path := recallOnPath(t)
	sim, endpoint := startSim(t)
	repo := userRepo(t)

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
	env := func(iid string) map[string]string {
		return map[string]string{
			"TEAM": "support", "RECALL_STATE_URL": stateURL,
			"CI_API_V4_URL": api.URL + "/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": iid,
			"CI_COMMIT_SHORT_SHA": "0123abcd", "CI_JOB_URL": "https://gitlab.test/jobs/1",
			"RECALL_GITLAB_TOKEN": glToken,
		}
	}
	plan := func(iid string) scriptResult {
		t.Helper()
		return runBash(t, repo, path, planScript, env(iid))
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

	applyEnv := map[string]string{"TEAM": "support", "RECALL_STATE_URL": stateURL, "CLICKATELL_TOKEN": "sim-token", "CLICKATELL_ENDPOINT": endpoint}
	if res := runBash(t, repo, path, applyScript, applyEnv); res.exit != 0 || !strings.Contains(res.stdout, "Apply complete! Messages: 23 cancelled") {
		t.Fatalf("apply job: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if st := sim.Stats(); st.Cancelled != 23 {
		t.Errorf("the simulator cancelled %d messages, want 23", st.Cancelled)
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
	noToken := env("9")
	delete(noToken, "RECALL_GITLAB_TOKEN")
	if res := runBash(t, repo, path, planScript, noToken); res.exit != 0 || !strings.Contains(res.stderr, "RECALL_GITLAB_TOKEN is not set") ||
		!strings.Contains(res.stdout, "No changes") {
		t.Errorf("plan without RECALL_GITLAB_TOKEN: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
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
