package derive_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/derive"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// TestOpenAPIBecomesASkeletonPerOperation turns the shop's OpenAPI
// document into a plan of one journey per operation and runs the
// journeys whose values the document gives fully against the shop.
func TestOpenAPIBecomesASkeletonPerOperation(t *testing.T) {
	data, err := os.ReadFile("testdata/shop-openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	doc, err := derive.LoadOpenAPI(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	base := startShop(t)
	var out bytes.Buffer
	if err := derive.FromOpenAPI(&out, doc, derive.OpenAPIOptions{BaseURL: base}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	t.Logf("skeleton:\n%s", text)
	p, err := plan.Parse("openapi.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("the skeleton does not validate: %v\n%s", err, text)
	}
	var names []string
	for _, j := range p.Journeys {
		names = append(names, j.Name)
	}
	if got := strings.Join(names, ","); got != "GET /healthz,addToCart,applyCoupon,checkout,login,listProducts,getProduct" {
		t.Errorf("journeys %s: want one per operation (HEAD left out), in path order", got)
	}
	for _, want := range []string{
		`get: "/v1/products/{{ randInt 1 1000 }}"`,
		`get: "/v1/products?page={{ randInt 1 50 }}"`,
		`"Authorization": "Bearer {{ .env.API_BEARER }}"`,
		`env: [API_BEARER]`,
		`"shipping_address":{"city":"Testville"`,
		`expect: { status: 201 }`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the skeleton lacks %s", want)
		}
	}

	// the journeys the document describes fully run clean
	runnable := p.Journeys[:0:0]
	for _, j := range p.Journeys {
		switch j.Name {
		case "login", "listProducts", "getProduct", "GET /healthz":
			runnable = append(runnable, j)
		}
	}
	p.Journeys = runnable
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	res, err := generator.Run(rctx, p, generator.Options{
		Load: &plan.Load{Model: plan.ModelOpen, MaxVUs: 20, Stages: []plan.Stage{{Duration: 2 * time.Second, Target: 20}}},
		Warn: func(m string) { t.Log("generator:", m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Requests < 10 || res.Summary.Errors != 0 {
		t.Fatalf("%d requests, %d failed: %v", res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
	}
}

func TestOpenAPIRejectsANonDocument(t *testing.T) {
	if _, err := derive.LoadOpenAPI(context.Background(), []byte("openapi: 3.0.0\npaths: 7\n")); err == nil {
		t.Fatal("want an error for a document whose paths are not a map")
	}
}
