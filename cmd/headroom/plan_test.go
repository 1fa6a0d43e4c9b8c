package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// writeShopLog writes a combined access log: per second, 3 browse sessions
// (list, detail) and 1 buy session (login, cart), each from its own client.
func writeShopLog(t *testing.T, dir string, seconds int) string {
	t.Helper()
	var b bytes.Buffer
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for s := 0; s < seconds; s++ {
		at := t0.Add(time.Duration(s) * time.Second)
		for c := 0; c < 4; c++ {
			addr := fmt.Sprintf("10.1.%d.%d", s%200, c)
			reqs := []string{"GET /v1/products?page=2", fmt.Sprintf("GET /v1/products/%d", 1+s%500)}
			if c == 3 {
				reqs = []string{"POST /v1/login", "POST /v1/cart/items"}
			}
			for k, r := range reqs {
				fmt.Fprintf(&b, "%s - - [%s] \"%s HTTP/1.1\" 200 100 \"-\" \"agent-%d\"\n", addr,
					at.Add(time.Duration(k)*time.Second).Format("02/Jan/2006:15:04:05 -0700"), r, s)
			}
		}
	}
	path := filepath.Join(dir, "access.log")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPlanFromLogsWritesAPlanThatChecksClean(t *testing.T) {
	dir := t.TempDir()
	log := writeShopLog(t, dir, 120)
	out := filepath.Join(dir, "derived.yaml")
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "from-logs", "--gap", "30s", "--out", out, "--base-url", "http://127.0.0.1:9", log}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("from-logs exit %d: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "960 lines") {
		t.Errorf("no progress line naming the lines read: %q", stderr.String())
	}
	p, err := plan.LoadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Journeys) != 2 || p.Journeys[0].Weight != 750 || p.Journeys[1].Weight != 250 {
		t.Fatalf("journeys %+v, want weights 750 and 250", p.Journeys)
	}
	stdout.Reset()
	stderr.Reset()
	code = dispatch([]string{"plan", "check", out, "--logs", log, "--quiet"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("check of the derived plan against its own log: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "the plan matches production") {
		t.Errorf("check output:\n%s", stdout.String())
	}
}

func TestPlanCheckWarnsWhereThePlanParts(t *testing.T) {
	dir := t.TempDir()
	log := writeShopLog(t, dir, 120)
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "check", "../../examples/shop.yaml", "--logs", log, "--quiet"}, &stdout, &stderr)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d (warnings)\n%s%s", code, exitFailed, stdout.String(), stderr.String())
	}
	text := stdout.String()
	if !strings.Contains(text, "POST /v1/checkout") || !strings.Contains(text, "never seen in production") {
		t.Errorf("no warning for a plan route production never serves:\n%s", text)
	}
	if !strings.Contains(text, "GET /v1/products: ") || !strings.Contains(text, "points") {
		t.Errorf("no warning for a share that differs:\n%s", text)
	}
}

func TestPlanFromLogsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.log")
	os.WriteFile(bad, []byte("10.0.0.1 - - [01/Dec/2026:09:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\ngarbage\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plan", "from-logs", bad}, "bad.log:2:"},
		{[]string{"plan", "from-logs", "--format", "xml", bad}, "--format"},
		{[]string{"plan", "from-logs", filepath.Join(dir, "missing.log")}, "missing.log"},
		{[]string{"plan", "from-logs"}, "want one or more log files"},
		{[]string{"plan", "nope"}, "unknown subcommand"},
	} {
		var stdout, stderr bytes.Buffer
		if code := dispatch(c.args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", c.args, code, exitUsage)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v: stderr %q does not say %q", c.args, stderr.String(), c.want)
		}
	}
}

func TestPlanFromHAR(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := dispatch([]string{"plan", "from-har", "--base-url", "http://127.0.0.1:9", "../../derive/testdata/shop.har"}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if _, err := plan.Parse("recorded.yaml", stdout.Bytes()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "{{ .vars.cart_id }}") {
		t.Errorf("no extraction reused:\n%s", stdout.String())
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.har")
	os.WriteFile(bad, []byte(`{"log":{"entries":[{"request":{"url":"http://x/"}}]}}`), 0o644)
	stdout.Reset()
	stderr.Reset()
	if code := dispatch([]string{"plan", "from-har", bad}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "log.entries[0].request") {
		t.Errorf("bad HAR: exit %d, %q", code, stderr.String())
	}
}

func TestPlanFromOpenAPI(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := dispatch([]string{"plan", "from-openapi", "../../derive/testdata/shop-openapi.yaml"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	p, err := plan.Parse("openapi.yaml", stdout.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Journeys) != 7 || p.Target.BaseURL != "http://127.0.0.1:18081" {
		t.Errorf("%d journeys, base %s: want 7 and the document's server", len(p.Journeys), p.Target.BaseURL)
	}
	stderr.Reset()
	if code := dispatch([]string{"plan", "from-openapi", "plan_test.go"}, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), "plan_test.go:") {
		t.Errorf("not a document: exit %d, %q", code, stderr.String())
	}
}
