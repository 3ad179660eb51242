package main

// The errors a user meets when the network between recall and Clickatell
// is not what it should be, each with recall as a real process: the error
// says what happened, and the advice names the variable that fixes it.

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/simulator"
)

// runRecallEnv is runRecall with extra environment variables.
func runRecallEnv(t *testing.T, dir, endpoint string, env []string, args ...string) runResult {
	t.Helper()
	cmd := recallCommand(dir, endpoint, args...)
	cmd.Env = append(cmd.Env, env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := 0
	if err := cmd.Run(); err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	r := runResult{code: code, stdout: out.String(), stderr: errb.String()}
	assertNoToken(t, "output", r.stdout+r.stderr)
	return r
}

// noProxyEnv keeps the machine's proxy settings out of a test.
var noProxyEnv = []string{"HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=", "NO_PROXY=", "no_proxy="}

func writePEM(t *testing.T, path string, cert *x509.Certificate) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// simTLS serves sim over TLS with cert, or httptest's own when cert is nil.
func simTLS(t *testing.T, sim *simulator.Simulator, cert *tls.Certificate) *httptest.Server {
	srv := httptest.NewUnstartedServer(sim)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestApply_UntrustedCertificate: a private CA's certificate fails every
// call with an error naming the CA and SSL_CERT_FILE; putting the CA in
// the file SSL_CERT_FILE names, as advised, makes the same apply work.
func TestApply_UntrustedCertificate(t *testing.T) {
	dir := t.TempDir()
	list := ids('t', 3)
	sim, err := simulator.New(simulator.Config{Token: testToken, AnyScheduled: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := simTLS(t, sim, nil)
	writeManifest(t, dir, group{name: "tls", ids: list})

	r := runRecallEnv(t, dir, srv.URL, noProxyEnv, "apply", "-auto-approve")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	issuer := srv.Certificate().Issuer.String()
	for _, want := range []string{
		`x509: certificate signed by unknown authority (issuer "` + issuer + `"): 3 messages`,
		"If the endpoint uses a private CA, put its certificate in the file SSL_CERT_FILE names",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if sim.Stats().Requests != 0 {
		t.Errorf("the simulator answered %d calls", sim.Stats().Requests)
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, ca, srv.Certificate())
	r = runRecallEnv(t, dir, srv.URL, append(noProxyEnv, "SSL_CERT_FILE="+ca), "apply", "-auto-approve")
	if r.code != 0 || !strings.Contains(r.stdout, "3 cancelled") {
		t.Errorf("with SSL_CERT_FILE: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestApply_ExpiredCertificate: an expired certificate, from a CA that
// is trusted, says when it expired.
func TestApply_ExpiredCertificate(t *testing.T) {
	dir := t.TempDir()
	ca := testkit.NewCA(t, "Test CA")
	notAfter := time.Date(2021, 6, 30, 23, 59, 59, 0, time.UTC)
	cert := ca.ServerCert(t, notAfter.AddDate(-1, 0, 0), notAfter)
	sim, err := simulator.New(simulator.Config{Token: testToken, AnyScheduled: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := simTLS(t, sim, &cert)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, ca.Cert)
	writeManifest(t, dir, group{name: "tls", ids: ids('e', 2)})

	r := runRecallEnv(t, dir, srv.URL, append(noProxyEnv, "SSL_CERT_FILE="+caFile), "apply", "-auto-approve")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		`the server's TLS certificate expired at 2021-06-30T23:59:59Z (issuer "CN=Test CA"): 2 messages`,
		"The endpoint's certificate must be renewed by whoever runs it",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestApply_ProxyRefusesConnect: a proxy in HTTPS_PROXY that answers 403
// to CONNECT is named as the one that refused, with the variable to fix.
// The token never reaches it.
func TestApply_ProxyRefusesConnect(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var seen, auth []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Host)
		if a := r.Header.Get("Authorization"); a != "" {
			auth = append(auth, a)
		}
		mu.Unlock()
		http.Error(w, "Forbidden by policy", http.StatusForbidden)
	}))
	defer proxy.Close()
	writeManifest(t, dir, group{name: "proxy", ids: ids('p', 2)})

	r := runRecallEnv(t, dir, "https://api.example.test", append(noProxyEnv, "HTTPS_PROXY="+proxy.URL), "apply", "-auto-approve")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"the proxy " + proxy.URL + " refused to open a tunnel (CONNECT) to api.example.test:443: HTTP 403 Forbidden: 2 messages",
		"The proxy is the one HTTPS_PROXY (or https_proxy; HTTP_PROXY for an http:// endpoint) names",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || len(auth) != 0 {
		t.Errorf("the proxy saw %q, Authorization %q", seen, auth)
	}
	for _, s := range seen {
		if !strings.HasPrefix(s, "CONNECT ") {
			t.Errorf("the proxy saw %q, not only CONNECTs", s)
		}
	}
}

// TestApply_LoopbackNotProxied: with HTTP_PROXY set, recall calls a
// simulator on a loopback name directly: the proxy never sees a request,
// so never the token. (Go's rules would proxy "LOCALHOST".)
func TestApply_LoopbackNotProxied(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	var seen []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.String()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, "no", http.StatusBadGateway)
	}))
	defer proxy.Close()
	_, url := startSim(t, simulator.Config{AnyScheduled: true})
	url = strings.Replace(url, "127.0.0.1", "LOCALHOST", 1)
	writeManifest(t, dir, group{name: "direct", ids: ids('l', 3)})
	r := runRecallEnv(t, dir, url, append(noProxyEnv, "HTTP_PROXY="+proxy.URL, "HTTPS_PROXY="+proxy.URL), "apply", "-auto-approve")
	if r.code != 0 || !strings.Contains(r.stdout, "3 cancelled") {
		t.Errorf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 0 {
		t.Errorf("the proxy saw %q", seen)
	}
}

// TestApply_HTMLPageQuoted: a 200 HTML page in place of the API's answer
// is reported with a little of its text, to tell whose page it is.
func TestApply_HTMLPageQuoted(t *testing.T) {
	dir := t.TempDir()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!DOCTYPE html>\n<html><head><style>body{}</style></head><body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed.</p></body></html>")
	}))
	defer srv.Close()
	writeManifest(t, dir, group{name: "html", ids: ids('h', 2)})
	r := runRecallEnv(t, dir, srv.URL, noProxyEnv, "apply", "-auto-approve")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if want := `HTTP 200 (an HTML page, not an API answer: "Welcome to nginx! If you see this page, the nginx web server is successfully in…"): 2 messages`; !strings.Contains(r.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
	}
}

// TestApply_CutInsideHeaders: a server that closes the connection in the
// middle of the answer's headers is reported as a dropped connection (and
// retried), not as a malformed answer.
func TestApply_CutInsideHeaders(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	calls := 0
	addr := testkit.ServeConns(t, func(conn net.Conn) {
		if _, err := http.ReadRequest(bufio.NewReader(conn)); err != nil {
			return
		}
		mu.Lock()
		calls++
		mu.Unlock()
		io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-")
	})
	writeManifest(t, dir, group{name: "cut", ids: ids('c', 2)})
	r := runRecallEnv(t, dir, "http://"+addr, noProxyEnv, "apply", "-auto-approve", "-max-retries", "1")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if want := "connection dropped before an answer: 2 messages"; !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "malformed") {
		t.Errorf("stdout lacks %q (or says malformed):\n%s", want, r.stdout)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls < 4 {
		t.Errorf("%d calls, want each of 2 messages tried twice (a cut is retried)", calls)
	}
}

// TestApply_UntrustedCertificateStopsRun: when the untrusted certificate
// stops the run (message after message failing), the error on stderr and
// the JSON diagnostic carry the same advice.
func TestApply_UntrustedCertificateStopsRun(t *testing.T) {
	dir := t.TempDir()
	sim, err := simulator.New(simulator.Config{Token: testToken, AnyScheduled: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := simTLS(t, sim, nil)
	writeManifest(t, dir, group{name: "tls", ids: ids('s', 60)})
	r := runRecallEnv(t, dir, srv.URL, noProxyEnv, "apply", "-auto-approve", "-format", "json")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	const advice = "put its certificate in the file SSL_CERT_FILE names"
	if !strings.Contains(r.stderr, "all failed") || !strings.Contains(r.stderr, advice) {
		t.Errorf("stderr lacks the stop and %q:\n%s", advice, r.stderr)
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev struct {
			Type       string `json:"type"`
			Diagnostic struct {
				Summary, Detail string
			} `json:"diagnostic"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line is not JSON: %s", line)
		}
		if ev.Type == "diagnostic" && strings.Contains(ev.Diagnostic.Summary, "all failed") {
			found = strings.Contains(ev.Diagnostic.Detail, advice)
		}
	}
	if !found {
		t.Errorf("no diagnostic with the advice:\n%s", r.stdout)
	}
}

// TestApply_ProxyUnreachable: an HTTPS_PROXY nobody listens on is named
// as the proxy, not as Clickatell refusing the connection.
func TestApply_ProxyUnreachable(t *testing.T) {
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	writeManifest(t, dir, group{name: "proxy", ids: ids('q', 2)})
	r := runRecallEnv(t, dir, "https://api.example.test", append(noProxyEnv, "HTTPS_PROXY=http://"+addr), "apply", "-auto-approve", "-max-retries", "0")
	if r.code != 1 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"connection to the proxy refused: 2 messages", "The proxy is the one HTTPS_PROXY"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}
