package examples_test

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// setupRecallStep returns the composite action's install step (action.yml
// at the repository root).
func setupRecallStep(t *testing.T) ghStep {
	t.Helper()
	root, _ := parseYAML(t, filepath.Join("..", "action.yml"))
	var action struct {
		Inputs map[string]struct {
			Required bool   `yaml:"required"`
			Default  string `yaml:"default"`
		} `yaml:"inputs"`
		Outputs map[string]struct {
			Value string `yaml:"value"`
		} `yaml:"outputs"`
		Runs struct {
			Using string   `yaml:"using"`
			Steps []ghStep `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := root.Decode(&action); err != nil {
		t.Fatal(err)
	}
	if action.Runs.Using != "composite" || len(action.Runs.Steps) != 1 {
		t.Fatalf("action.yml: want a composite action of one step, got %+v", action.Runs)
	}
	if !action.Inputs["version"].Required {
		t.Error("action.yml: the version input must be required (no implicit latest)")
	}
	if !strings.Contains(action.Outputs["path"].Value, "steps.install.outputs.path") {
		t.Errorf("action.yml: output path = %q", action.Outputs["path"].Value)
	}
	s := action.Runs.Steps[0]
	if strings.Contains(s.Run, "${{") {
		t.Error("action.yml: expression inside run:; pass it through env: instead")
	}
	bashSyntax(t, "action.yml", s.Run)
	return s
}

// fakeRelease serves v0.2.0's linux archives and checksums.txt like a
// GitHub release; the archive holds a stand-in recall that reports 0.2.0.
func fakeRelease(t *testing.T, tamper bool) string {
	t.Helper()
	var archive strings.Builder
	gz := gzip.NewWriter(&archive)
	tw := tar.NewWriter(gz)
	bin := "#!/bin/sh\nprintf '{\\n  \"recall_version\": \"0.2.0\",\\n  \"platform\": \"linux_amd64\"\\n}\\n'\n"
	for _, f := range []struct{ name, body string }{{"recall", bin}, {"clickatell-sim", bin}, {"README.md", "# recall\n"}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o755, Size: int64(len(f.body))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(f.body))
	}
	tw.Close()
	gz.Close()
	sum := sha256.Sum256([]byte(archive.String()))
	checksums := hex.EncodeToString(sum[:]) + "  recall_0.2.0_linux_amd64.tar.gz\n" +
		strings.Repeat("0", 64) + "  recall_0.2.0_linux_arm64.tar.gz\n"
	body := archive.String()
	if tamper {
		body = body[:len(body)-1] + "x"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v0.2.0/recall_0.2.0_linux_amd64.tar.gz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) })
	mux.HandleFunc("/v0.2.0/checksums.txt", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(checksums)) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestSetupRecallAction runs the action's own script: it downloads the
// pinned release, checks the archive against checksums.txt, puts recall on
// GITHUB_PATH and reports its path; a tampered archive, an unknown version
// and a version that is not a release are refused.
func TestSetupRecallAction(t *testing.T) {
	need(t, "bash", "curl", "tar")
	step := setupRecallStep(t)
	run := func(version, url string) (scriptResult, map[string]string, string) {
		t.Helper()
		tmp := t.TempDir()
		out, ghPath := filepath.Join(tmp, "output"), filepath.Join(tmp, "path")
		env := map[string]string{
			"RECALL_VERSION": version, "RECALL_METHOD": "release", "RECALL_DOWNLOAD_URL": url,
			"RUNNER_OS_NAME": "Linux", "RUNNER_ARCH_NAME": "X64", "RUNNER_TEMP_DIR": tmp,
			"GITHUB_OUTPUT": out, "GITHUB_PATH": ghPath,
		}
		res := runBash(t, tmp, os.Getenv("PATH"), step.Run, env)
		outputs := map[string]string{}
		if b, err := os.ReadFile(out); err == nil {
			for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				if k, v, ok := strings.Cut(l, "="); ok {
					outputs[k] = v
				}
			}
		}
		p, _ := os.ReadFile(ghPath)
		return res, outputs, strings.TrimSpace(string(p))
	}

	res, outputs, ghPath := run("v0.2.0", fakeRelease(t, false))
	if res.exit != 0 {
		t.Fatalf("install: exit %d\n%s\n%s", res.exit, res.stdout, res.stderr)
	}
	if outputs["version"] != "0.2.0" || outputs["path"] != filepath.Join(ghPath, "recall") {
		t.Errorf("outputs %v, GITHUB_PATH %q", outputs, ghPath)
	}
	if _, err := os.Stat(outputs["path"]); err != nil {
		t.Errorf("the installed recall: %v", err)
	}

	for _, tc := range []struct{ name, version, url, want string }{
		{"tampered archive", "0.2.0", fakeRelease(t, true), "checksums.txt says"},
		{"a version that was never released", "0.2.1", fakeRelease(t, false), "404"},
		{"not a release", "latest", fakeRelease(t, false), "version must be a release"},
	} {
		res, outputs, ghPath := run(tc.version, tc.url)
		if res.exit == 0 || !strings.Contains(res.stdout+res.stderr, tc.want) || outputs["path"] != "" || ghPath != "" {
			t.Errorf("%s: exit %d, outputs %v, GITHUB_PATH %q; want a failure saying %q:\n%s\n%s", tc.name, res.exit, outputs, ghPath, tc.want, res.stdout, res.stderr)
		}
	}
}

// TestPinnedVersion checks that the pipelines, the setup action's tag in
// them and the README's install section pin one version, the one this tree
// reports (internal/version's fallback), so that a release bumps them
// together.
func TestPinnedVersion(t *testing.T) {
	m := regexp.MustCompile(`const fallback = "([^"]+)"`).FindStringSubmatch(readFile(t, filepath.Join("..", "internal", "version", "version.go")))
	if m == nil {
		t.Fatal("internal/version/version.go: no fallback version")
	}
	v := m[1]
	for _, f := range []string{
		filepath.Join("github-actions", ".github", "workflows", "recall-plan.yml"),
		filepath.Join("github-actions", ".github", "workflows", "recall-apply.yml"),
		filepath.Join("gitlab-ci", ".gitlab-ci.yml"),
	} {
		data := readFile(t, f)
		if !strings.Contains(data, `RECALL_VERSION: "`+v+`"`) {
			t.Errorf("%s does not pin RECALL_VERSION %q", f, v)
		}
		if strings.Contains(f, "github") && !strings.Contains(data, "uses: recallhq/recall@v"+v+"\n") {
			t.Errorf("%s does not pin the setup action to v%s", f, v)
		}
	}
	readme := readFile(t, filepath.Join("..", "README.md"))
	for _, want := range []string{"go install github.com/recallhq/recall/cmd/recall@v" + v, "uses: recallhq/recall@v" + v, "V=" + v} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md's install section lacks %q", want)
		}
	}
}
