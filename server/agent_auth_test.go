package server_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
)

// TestAgentTokensAreAgentsOnly: a token of role agent may call the agent
// protocol and nothing else; no other role may call the agent protocol.
func TestAgentTokensAreAgentsOnly(t *testing.T) {
	ts := startServer(t, server.Config{})
	agentTok, _, err := ts.st.CreateToken(context.Background(), "agents", store.AgentRole)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/me", "/api/v1/jobs", "/api/v1/plans"} {
		if code := ts.getJSON(t, agentTok, path, nil); code != http.StatusForbidden {
			t.Errorf("agent token GET %s: %d, want 403", path, code)
		}
	}
	if code, raw := ts.do(t, agentTok, http.MethodPost, "/api/v1/jobs", "application/json", []byte(`{"plan_id":1,"kind":"run"}`), nil); code != http.StatusForbidden {
		t.Errorf("agent token POST /jobs: %d %s, want 403", code, raw)
	}
	register := "/headroom.agent.v1.AgentService/Register"
	for _, tok := range []string{ts.viewer, ts.operator, ts.admin} {
		if code, raw := ts.do(t, tok, http.MethodPost, register, "application/json", []byte(`{"name":"x"}`), nil); code != http.StatusForbidden {
			t.Errorf("a non-agent token registering as an agent: %d %s, want 403", code, raw)
		}
	}
	if code, _ := ts.do(t, "", http.MethodPost, register, "application/json", []byte(`{"name":"x"}`), nil); code != http.StatusUnauthorized {
		t.Errorf("no token registering: %d, want 401", code)
	}
	var out struct {
		AgentID string `json:"agentId"`
	}
	if code, raw := ts.do(t, agentTok, http.MethodPost, register, "application/json", []byte(`{"name":"x","cores":2}`), &out); code != http.StatusOK || out.AgentID == "" {
		t.Errorf("an agent token registering: %d %s", code, raw)
	}
	// An admin may mint agent tokens through the API too.
	var tok struct{ Role string }
	if code, raw := ts.do(t, ts.admin, http.MethodPost, "/api/v1/tokens", "application/json", []byte(`{"name":"fleet","role":"agent"}`), &tok); code != http.StatusCreated || tok.Role != "agent" {
		t.Errorf("create an agent token: %d %s", code, raw)
	}
	// A job on agents asks for a sane number of them.
	plan := ts.createPlan(t, runPlan("agents-bad", "http://127.0.0.1:1", 1, 1))
	for _, body := range []string{`{"plan_id":%d,"kind":"run","agents":-1}`, `{"plan_id":%d,"kind":"run","agents":100000}`} {
		if code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/jobs", "application/json", []byte(fmt.Sprintf(body, plan)), nil); code != http.StatusUnprocessableEntity && code != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want refused", body, code, raw)
		}
	}
}
