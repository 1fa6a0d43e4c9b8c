package server_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/server"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestPlanWithThreeMistakes(t *testing.T) {
	ts := startServer(t, server.Config{})
	bad := `version: 1
name: three
target:
  base_url: http://127.0.0.1:9
  timeout: soon
load:
  model: sideways
  stages:
    - { duration: 1s, target: 1 }
journeys:
  - name: j
    steps:
      - name: s
        get: /
        colour: blue
`
	for _, path := range []string{"/api/v1/plans", "/api/v1/plans/validate"} {
		code, raw := ts.do(t, ts.operator, http.MethodPost, path, "application/yaml", []byte(bad), nil)
		if code != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d %s", path, code, raw)
		}
		var body struct {
			Error    string
			Problems []struct {
				Line           int
				Field, Message string
			}
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Fatal(err)
		}
		lines := map[int]bool{}
		for _, p := range body.Problems {
			lines[p.Line] = true
			if p.Field == "" || p.Message == "" {
				t.Errorf("problem without field or message: %+v", p)
			}
		}
		if len(body.Problems) != 3 || !lines[5] || !lines[7] || !lines[15] {
			t.Errorf("%s: problems %+v, want lines 5, 7 and 15", path, body.Problems)
		}
	}
}

func TestPlanOutsideAllowList(t *testing.T) {
	ts := startServer(t, server.Config{Allow: []string{"127.0.0.1"}})
	outside := strings.Replace(runPlan("outside", "http://shop.example.com:8080", 1, 1), "target:\n", "target:\n  allow: [shop.example.com]\n", 1)
	code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/plans", "application/yaml", []byte(outside), nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "shop.example.com") {
		t.Fatalf("plan aimed outside: %d %s, want 422 naming shop.example.com", code, raw)
	}

	// A plan whose own target.allow reaches beyond the server's list is
	// refused too: a journey may aim at any host the plan allows.
	tgt := target(t)
	wide := strings.Replace(runPlan("wide", tgt.URL, 1, 1), "target:\n", "target:\n  allow: [127.0.0.1, 10.1.2.3]\n", 1)
	code, raw = ts.do(t, ts.operator, http.MethodPost, "/api/v1/plans/validate", "application/yaml", []byte(wide), nil)
	if code != http.StatusUnprocessableEntity || !strings.Contains(string(raw), "10.1.2.3") {
		t.Fatalf("plan allowing more: %d %s, want 422 naming 10.1.2.3", code, raw)
	}
}

func TestPlanVersions(t *testing.T) {
	ts := startServer(t, server.Config{})
	tgt := target(t)
	id := ts.createPlan(t, runPlan("versions", tgt.URL, 1, 1))
	var v struct{ ID, Version int64 }
	code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/plans/"+itoa(id)+"/versions", "application/yaml",
		[]byte(runPlan("versions", tgt.URL, 2, 1)), &v)
	if code != http.StatusCreated || v.Version != 2 {
		t.Fatalf("new version: %d %s", code, raw)
	}
	var p struct {
		Version  int
		YAML     string
		Versions []struct{ Version int }
	}
	ts.getJSON(t, ts.viewer, "/api/v1/plans/"+itoa(id)+"?version=1", &p)
	if p.Version != 1 || len(p.Versions) != 2 || !strings.Contains(p.YAML, "duration: 1s") {
		t.Errorf("version 1: %+v", p)
	}
	var list struct{ Plans []struct{ ID, Version int64 } }
	ts.getJSON(t, ts.viewer, "/api/v1/plans", &list)
	if len(list.Plans) != 1 || list.Plans[0].Version != 2 {
		t.Errorf("list: %+v", list)
	}
	if code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/plans", "application/json", []byte(`{}`), nil); code != http.StatusUnsupportedMediaType {
		t.Errorf("JSON plan: %d %s", code, raw)
	}
	big := strings.Repeat("#", 2<<20)
	if code, raw := ts.do(t, ts.operator, http.MethodPost, "/api/v1/plans", "application/yaml", []byte(big), nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("2 MiB plan: %d %.200s", code, raw)
	}
	if code := ts.getJSON(t, ts.viewer, "/api/v1/plans/999", nil); code != http.StatusNotFound {
		t.Errorf("missing plan: %d", code)
	}
}
