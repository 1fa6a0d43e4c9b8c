package report

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// artifacts is where the browser tests keep what they rendered (ignored
// by git): the PNG screenshots and the PDFs, for a person to look at.
const artifacts = "testdata/out"

// voidElements have no end tag in HTML.
var voidElements = map[string]bool{"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true,
	"img": true, "input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true}

// wellFormed checks that every element the page opens it closes, in
// order, and returns the parsed document.
func wellFormed(t *testing.T, page []byte) *html.Node {
	t.Helper()
	z := html.NewTokenizer(bytes.NewReader(page))
	var stack []string
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if len(stack) != 0 {
				t.Fatalf("unclosed elements at the end: %v", stack)
			}
			doc, err := html.Parse(bytes.NewReader(page))
			if err != nil {
				t.Fatal(err)
			}
			return doc
		case html.StartTagToken:
			name, _ := z.TagName()
			if !voidElements[string(name)] {
				stack = append(stack, string(name))
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			if len(stack) == 0 || stack[len(stack)-1] != string(name) {
				t.Fatalf("</%s> closes %v", name, stack)
			}
			stack = stack[:len(stack)-1]
		}
	}
}

// find returns the elements of doc named tag.
func find(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	if n.Type == html.ElementNode && n.Data == tag {
		out = append(out, n)
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		out = append(out, find(c, tag)...)
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestHTMLIsWellFormedAndSelfContained(t *testing.T) {
	p := loadPlan(t)
	page := render(t, fixedStudy(t, 1), Options{Plan: p})
	doc := wellFormed(t, page)
	var ids []string
	for _, s := range find(doc, "section") {
		ids = append(ids, attr(s, "id"))
	}
	if got, want := strings.Join(ids, ","), "summary,plan,charts,bottlenecks,arithmetic,regression,notes"; got != want {
		t.Errorf("sections %s, want %s", got, want)
	}
	if n := len(find(doc, "svg")); n < 6 {
		t.Errorf("%d inline SVG charts, want at least 6", n)
	}
	for _, tag := range []string{"script", "link", "img", "iframe"} {
		if n := len(find(doc, tag)); n > 0 {
			t.Errorf("%d <%s> elements: the page must not load anything", n, tag)
		}
	}
	if bytes.Contains(page, []byte("http://fonts")) || bytes.Contains(page, []byte("@import")) {
		t.Error("the page refers to something on the network")
	}
}

// chromiumOrFail finds the browser the project installs (make report-deps).
func chromiumOrFail(t *testing.T) {
	t.Helper()
	if _, err := findChromium(""); err != nil {
		t.Fatalf("%v: the report's browser tests need it", err)
	}
	if _, err := exec.LookPath("pdfinfo"); err != nil {
		t.Fatal("pdfinfo not found: apt-get install poppler-utils (make report-deps)")
	}
}

// pdfInfo reads pdfinfo's pages and page size (points).
func pdfInfo(t *testing.T, file string) (pages int, w, h float64) {
	t.Helper()
	out, err := exec.Command("pdfinfo", file).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v: %s", err, out)
	}
	if m := regexp.MustCompile(`(?m)^Pages:\s+(\d+)`).FindSubmatch(out); m != nil {
		pages, _ = strconv.Atoi(string(m[1]))
	}
	if m := regexp.MustCompile(`(?m)^Page size:\s+([\d.]+) x ([\d.]+) pts`).FindSubmatch(out); m != nil {
		w, _ = strconv.ParseFloat(string(m[1]), 64)
		h, _ = strconv.ParseFloat(string(m[2]), 64)
	}
	return pages, w, h
}

func TestChromiumPrintsThePDFAndScreenshot(t *testing.T) {
	chromiumOrFail(t)
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	p := loadPlan(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	study := fixedStudy(t, 1)

	page := render(t, study, Options{Plan: p})
	png, err := Screenshot(ctx, page, "", 1280, 2400)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatal("the screenshot is not a PNG")
	}
	if err := os.WriteFile(filepath.Join(artifacts, "study.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	dark, err := screenshot(ctx, page, "", 1280, 1600, "--force-dark-mode", "--blink-settings=preferredColorScheme=0")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(dark, png) {
		t.Error("the dark screenshot is the light one")
	}
	if err := os.WriteFile(filepath.Join(artifacts, "study-dark.png"), dark, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		paper Paper
		w, h  float64
	}{{A4, 595, 842}, {Letter, 612, 792}} {
		var pdf bytes.Buffer
		if err := WritePDF(ctx, &pdf, study, Options{Plan: p, Paper: tc.paper}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(artifacts, "study-"+strings.ToLower(string(tc.paper))+".pdf")
		if err := os.WriteFile(file, pdf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		pages, w, h := pdfInfo(t, file)
		t.Logf("%s: %d pages, %.0f × %.0f pt", file, pages, w, h)
		if pages < 4 || pages > 20 {
			t.Errorf("%s: %d pages, want 4–20 (summary, plan, charts, bottlenecks, arithmetic)", tc.paper, pages)
		}
		if abs(w-tc.w) > 2 || abs(h-tc.h) > 2 {
			t.Errorf("%s: page %.1f × %.1f pt, want %.0f × %.0f", tc.paper, w, h, tc.w, tc.h)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
