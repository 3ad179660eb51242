package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/recallhq/recall/internal/testkit"
	"github.com/recallhq/recall/simulator"
)

// -cancelled lists IDs already cancelled (in Clickatell's portal, say):
// GET answers every listed status without changing it, DELETE of a
// cancelled ID answers 006 again, and /_sim/stats counts the DELETEs.
func TestRun_cancelledAndStatus(t *testing.T) {
	dir := t.TempDir()
	sched := testkit.WriteFile(t, dir, "scheduled.txt", idA+"\n")
	deliv := testkit.WriteFile(t, dir, "delivered.txt", idB+"\n")
	canc := testkit.WriteFile(t, dir, "cancelled.txt", "# cancelled in the portal\n"+idC+"\n")
	url, r := serve(t, "-token", "t", "-scheduled", sched, "-delivered", deliv, "-cancelled", canc)
	const unknown = "ffffffffffffffffffffffffffffffff"
	for i := 0; i < 2; i++ {
		for _, tc := range []answer{
			{idA, 200, `"messageStatus":"011"`},
			{idB, 200, `"messageStatus":"004"`},
			{idC, 200, `"messageStatus":"006"`},
			{unknown, 404, `"code":"161"`},
		} {
			code, body := request(t, "GET", url, tc.id, "t")
			if code != tc.code || !strings.Contains(body, tc.body) {
				t.Errorf("GET %s: %d %s, want %d with %s", tc.id, code, body, tc.code, tc.body)
			}
		}
	}
	if code, body := request(t, "GET", url, idA, "wrong"); code != 401 || !strings.Contains(body, `"code":"001"`) {
		t.Errorf("GET with a wrong token: %d %s", code, body)
	}
	if code, body := request(t, "DELETE", url, idC, "t"); code != 200 || !strings.Contains(body, `"006"`) {
		t.Errorf("DELETE of a cancelled ID: %d %s", code, body)
	}
	resp, err := http.Get(url + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st simulator.Stats
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st.Requests != 10 || st.Lookups != 6 || st.Stops != 1 || st.AlreadyCancelled != 1 {
		t.Errorf("stats %s: want 10 requests, 6 lookups, 1 stop, 1 already cancelled", b)
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	if want := "(1 scheduled, 1 delivered IDs; 1 cancelled)"; !strings.Contains(r.stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr.String())
	}
}

// request sends method for id with the headers a correct client sends.
func request(t *testing.T, method, url, id, token string) (int, string) {
	t.Helper()
	r, err := http.NewRequest(method, url+"/rest/message/"+id, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("X-Version", "1")
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
