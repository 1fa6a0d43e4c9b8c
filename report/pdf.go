package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/pipeline"
)

// ErrNoChromium is returned when no Chromium can be found to print with.
var ErrNoChromium = errors.New("report: chromium not found (Debian: apt-get install chromium; make report-deps)")

// DefaultPrintTimeout bounds one Chromium run when the caller's context
// has no deadline of its own (Render's PDF).
const DefaultPrintTimeout = 2 * time.Minute

// WritePDF renders the report's HTML and prints it to PDF with headless
// Chromium on o.Paper (A4 unless Letter), writing the PDF to w. The
// browser runs in a fresh profile and is stopped, with every process it
// started, when ctx ends.
func WritePDF(ctx context.Context, w io.Writer, a pipeline.Artifact, o Options) error {
	o = o.withDefaults()
	v, err := newView(a, o)
	if err != nil {
		return err
	}
	return printView(ctx, w, v, o)
}

// renderPDF is Render's PDF: WritePDF with DefaultPrintTimeout.
func renderPDF(w io.Writer, v *view, o Options) error {
	ctx, cancel := context.WithTimeout(context.Background(), DefaultPrintTimeout)
	defer cancel()
	return printView(ctx, w, v, o)
}

func printView(ctx context.Context, w io.Writer, v *view, o Options) error {
	var html bytes.Buffer
	if err := writeHTML(&html, v, o); err != nil {
		return err
	}
	pdf, err := PrintHTML(ctx, html.Bytes(), o.Chromium)
	if err != nil {
		return err
	}
	_, err = w.Write(pdf)
	return err
}

// PrintHTML prints an HTML page to PDF with headless Chromium (chromium
// "" = found on PATH). The page's own @page rule sets the paper size.
func PrintHTML(ctx context.Context, html []byte, chromium string) ([]byte, error) {
	return withBrowser(ctx, html, chromium, "out.pdf", func(out string) []string {
		return []string{"--no-pdf-header-footer", "--print-to-pdf=" + out}
	})
}

// Screenshot takes a PNG picture of an HTML page, width × height CSS
// pixels, with headless Chromium.
func Screenshot(ctx context.Context, html []byte, chromium string, width, height int) ([]byte, error) {
	return screenshot(ctx, html, chromium, width, height)
}

func screenshot(ctx context.Context, html []byte, chromium string, width, height int, extra ...string) ([]byte, error) {
	return withBrowser(ctx, html, chromium, "out.png", func(out string) []string {
		return append([]string{"--hide-scrollbars", fmt.Sprintf("--window-size=%d,%d", width, height), "--screenshot=" + out}, extra...)
	})
}

// withBrowser writes html to a temporary folder, runs Chromium on it with
// a fresh profile there and returns the file it wrote.
func withBrowser(ctx context.Context, html []byte, chromium, name string, args func(out string) []string) ([]byte, error) {
	bin, err := findChromium(chromium)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "headroom-report-")
	if err != nil {
		return nil, fmt.Errorf("report: print: %w", err)
	}
	defer os.RemoveAll(dir)
	page := filepath.Join(dir, "report.html")
	if err := os.WriteFile(page, html, 0o600); err != nil {
		return nil, fmt.Errorf("report: print: %w", err)
	}
	out := filepath.Join(dir, name)
	all := []string{"--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=" + filepath.Join(dir, "profile"),
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
		"--disable-sync", "--disable-dev-shm-usage", "--mute-audio"}
	all = append(all, args(out)...)
	all = append(all, (&url.URL{Scheme: "file", Path: page}).String())
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultPrintTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, bin, all...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	cmd.WaitDelay = 5 * time.Second
	ownGroup(cmd)
	runErr := cmd.Run()
	stopGroup(cmd) // helpers Chromium left behind
	data, readErr := os.ReadFile(out)
	if readErr != nil || len(data) == 0 {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("report: chromium: %w", ctx.Err())
		}
		return nil, fmt.Errorf("report: chromium wrote no %s (%v): %s", name, runErr, lastLines(stderr.String(), 5))
	}
	return data, nil
}

// findChromium is the browser to print with.
func findChromium(name string) (string, error) {
	if name != "" {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		return "", fmt.Errorf("%w: %s", ErrNoChromium, name)
	}
	for _, n := range []string{"chromium", "chromium-browser", "/usr/bin/chromium", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoChromium
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
