package server_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
)

func TestAuthentication(t *testing.T) {
	ts := startServer(t, server.Config{})
	tgt := target(t)
	planID := ts.createPlan(t, runPlan("auth", tgt.URL, 1, 5))
	body, _ := json.Marshal(map[string]any{"plan_id": planID, "kind": "run"})

	cases := []struct {
		name, token, method, path string
		body                      []byte
		want                      int
	}{
		{"no token", "", http.MethodGet, "/api/v1/jobs", nil, http.StatusUnauthorized},
		{"unknown token", "hr_nope", http.MethodGet, "/api/v1/jobs", nil, http.StatusUnauthorized},
		{"viewer reads", ts.viewer, http.MethodGet, "/api/v1/jobs", nil, http.StatusOK},
		{"viewer starts a run", ts.viewer, http.MethodPost, "/api/v1/jobs", body, http.StatusForbidden},
		{"operator lists tokens", ts.operator, http.MethodGet, "/api/v1/tokens", nil, http.StatusForbidden},
		{"admin lists tokens", ts.admin, http.MethodGet, "/api/v1/tokens", nil, http.StatusOK},
		{"health without a token", "", http.MethodGet, "/healthz", nil, http.StatusOK},
		{"metrics without a token", "", http.MethodGet, "/metrics", nil, http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := ""
			if c.body != nil {
				ct = "application/json"
			}
			code, raw := ts.do(t, c.token, c.method, c.path, ct, c.body, nil)
			if code != c.want {
				t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, code, c.want, raw)
			}
			if code >= 400 {
				var e struct{ Error string }
				if err := json.Unmarshal(raw, &e); err != nil || e.Error == "" {
					t.Errorf("error body %s: want {\"error\": …}", raw)
				}
			}
		})
	}
	var me struct{ Name, Role string }
	if ts.getJSON(t, ts.operator, "/api/v1/me", &me); me.Role != "operator" {
		t.Errorf("me: %+v", me)
	}
}

func TestTokensAPI(t *testing.T) {
	ts := startServer(t, server.Config{})
	var created struct {
		Token, Name, Role string
		ID                int64
	}
	code, raw := ts.do(t, ts.admin, http.MethodPost, "/api/v1/tokens", "application/json", []byte(`{"name":"ci","role":"viewer"}`), &created)
	if code != http.StatusCreated || created.Token == "" || created.Role != "viewer" {
		t.Fatalf("create: %d %s", code, raw)
	}
	if code := ts.getJSON(t, created.Token, "/api/v1/me", nil); code != http.StatusOK {
		t.Fatalf("new token: %d", code)
	}
	if code, raw := ts.do(t, ts.admin, http.MethodPost, "/api/v1/tokens", "application/json", []byte(`{"name":"x","role":"root"}`), nil); code != http.StatusUnprocessableEntity {
		t.Errorf("bad role: %d %s", code, raw)
	}
	if code, _ := ts.do(t, ts.admin, http.MethodDelete, "/api/v1/tokens/"+itoa(created.ID), "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke: %d", code)
	}
	if code := ts.getJSON(t, created.Token, "/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", code)
	}
}

func TestFirstStartMakesOneAdminToken(t *testing.T) {
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "empty.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(st, server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := srv.EnsureAdmin(t.Context())
	if err != nil || !strings.HasPrefix(first, "hr_") {
		t.Fatalf("first start: %q, %v", first, err)
	}
	tok, err := st.Authenticate(t.Context(), first)
	if err != nil || tok.Role != store.Admin {
		t.Fatalf("the first token: %+v, %v", tok, err)
	}
	if again, err := srv.EnsureAdmin(t.Context()); err != nil || again != "" {
		t.Errorf("second start made another token: %q, %v", again, err)
	}
}
