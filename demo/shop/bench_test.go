package shop

import (
	"context"
	"net/http/httptest"
	"testing"
)

// BenchmarkNewSeedsDefaultDatabase measures a cold start with the default
// seed (10000 products, 1000 users, 20000 orders) into a new file.
func BenchmarkNewSeedsDefaultDatabase(b *testing.B) {
	for b.Loop() {
		srv, err := New(context.Background(), Config{})
		if err != nil {
			b.Fatal(err)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProductDetail is one GET /v1/products/{id} through the handler.
func BenchmarkProductDetail(b *testing.B) {
	srv, err := New(context.Background(), Config{Products: 2000, Users: 10})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	h := srv.Handler()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/products/17", nil))
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
