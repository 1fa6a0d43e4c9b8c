package plan

import (
	"path/filepath"
	"reflect"
	"testing"
)

// TestQuickstartParses proves that the example plan shipped for new users
// is valid and aims at the demo shop on loopback only.
func TestQuickstartParses(t *testing.T) {
	p, err := LoadFile(filepath.Join("..", "examples", "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Target.BaseURL != "http://127.0.0.1:18081" || !reflect.DeepEqual(p.Target.Allow, []string{"127.0.0.1"}) {
		t.Errorf("target = %q allow %v, want the demo shop on 127.0.0.1 only", p.Target.BaseURL, p.Target.Allow)
	}
	steps := p.Journeys[0].Steps
	var paths []string
	for _, s := range steps {
		if s.Method != "" {
			paths = append(paths, s.Method+" "+s.Path)
		}
	}
	want := []string{"GET /v1/products?page={{ randInt 1 50 }}&per_page=20", "GET /v1/products/{{ .vars.product_id }}"}
	if !reflect.DeepEqual(paths, want) {
		t.Errorf("requests = %q, want %q", paths, want)
	}
	if got := steps[0].Extract; !reflect.DeepEqual(got, []Extraction{{Var: "product_id", Path: "products.0.id"}}) {
		t.Errorf("extract = %+v", got)
	}
	if p.Abort.MaxRate != 100 || len(p.Objectives()) != 2 {
		t.Errorf("max_rate %v, %d objectives; want 100 and 2", p.Abort.MaxRate, len(p.Objectives()))
	}
}
