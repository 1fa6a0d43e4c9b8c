package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHandOverFirstToken proves the first admin token goes once to stdout
// or to a new 0600 file, and never to stderr (where the log goes).
func TestHandOverFirstToken(t *testing.T) {
	const tok = "hr_first_admin_token"
	var out, errs bytes.Buffer
	if err := handOver(tok, "", &out, &errs); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != tok || strings.Contains(errs.String(), tok) {
		t.Fatalf("stdout %q, stderr %q: want the token on stdout only", out.String(), errs.String())
	}

	out.Reset()
	errs.Reset()
	file := filepath.Join(t.TempDir(), "admin.token")
	if err := handOver(tok, file, &out, &errs); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v, %v; want mode 0600", fi, err)
	}
	if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != tok {
		t.Fatalf("token file holds %q", b)
	}
	if strings.Contains(out.String()+errs.String(), tok) {
		t.Fatalf("the token was printed too: %q %q", out.String(), errs.String())
	}
	if err := handOver(tok, file, &out, &errs); err == nil {
		t.Fatal("an existing token file was overwritten")
	}
}
