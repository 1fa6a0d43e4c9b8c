package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// A run that breaks its p95 and p99 objectives shows them failed in all
// four formats, and the verdict is "Not ready".
func TestSLOFailureShowsInEveryFormat(t *testing.T) {
	p := loadPlan(t)
	run := fixedRun(t, 10)
	var failing []string
	for _, s := range run.Run.SLO {
		if !s.Pass {
			failing = append(failing, s.Name)
		}
	}
	if len(failing) == 0 {
		t.Fatal("the fixture's slow run holds every objective: nothing to show")
	}

	md := string(render(t, run, Options{Format: Markdown, Plan: p}))
	if !strings.Contains(md, "**Not ready: ") {
		t.Error("Markdown: no Not ready verdict")
	}
	for _, name := range failing {
		if !regexp.MustCompile(`(?m)^\| ` + regexp.QuoteMeta(name) + ` \|[^\n]*\| FAIL \|`).MatchString(md) {
			t.Errorf("Markdown: %s is not a FAIL row", name)
		}
	}

	junit := string(render(t, run, Options{Format: JUnit, Plan: p}))
	for _, name := range failing {
		if !regexp.MustCompile(`<testcase classname="headroom.slo" name="` + regexp.QuoteMeta(name) + ` [^"]*" time="0">\s*<failure message="` + regexp.QuoteMeta(name) + `: measured`).MatchString(junit) {
			t.Errorf("JUnit: %s has no failure", name)
		}
	}
	if !strings.Contains(junit, `<testcase classname="headroom.verdict" name="ready" time="0">`+"\n      <failure") {
		t.Error("JUnit: the verdict case does not fail")
	}

	page := render(t, run, Options{Plan: p})
	doc := wellFormed(t, page)
	failedRows := map[string]bool{}
	for _, tr := range find(doc, "tr") {
		if attr(tr, "class") != "fail" {
			continue
		}
		tds := find(tr, "td")
		if len(tds) > 3 && tds[0].FirstChild != nil && strings.Contains(textOf(tds[3]), "FAIL") {
			failedRows[tds[0].FirstChild.Data] = true
		}
	}
	for _, name := range failing {
		if !failedRows[name] {
			t.Errorf("HTML: %s is not a failed row (failed rows: %v)", name, failedRows)
		}
	}

	chromiumOrFail(t)
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext not found: apt-get install poppler-utils")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var pdf bytes.Buffer
	if err := WritePDF(ctx, &pdf, run, Options{Plan: p}); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(artifacts, "run-failed.pdf")
	if err := os.WriteFile(file, pdf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", file, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	if !strings.Contains(text, "Not ready") {
		t.Error("PDF: no Not ready verdict")
	}
	for _, name := range failing {
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(name) + `\s.*FAIL`).MatchString(text) {
			t.Errorf("PDF: %s is not a FAIL row in:\n%s", name, text[:min(len(text), 3000)])
		}
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
