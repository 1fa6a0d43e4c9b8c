package ui

import (
	"io/fs"
	"strings"
	"testing"
)

// FS always has an index.html: the dashboard when dist/ is built, else the
// placeholder that says how to build it.
func TestFSServesAnIndex(t *testing.T) {
	index, err := fs.ReadFile(FS(), "index.html")
	if err != nil {
		t.Fatalf("index.html: %v", err)
	}
	page := string(index)
	if Built() {
		if !strings.Contains(page, "/assets/") {
			t.Errorf("built index.html does not load the bundle:\n%s", page)
		}
		return
	}
	if !strings.Contains(page, "make build") {
		t.Errorf("placeholder does not say to run make build:\n%s", page)
	}
}
