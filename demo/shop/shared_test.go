package shop

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestInstancesShareOneDatabase starts three instances on one new file at
// once: exactly one seeds, and a session and a cart made on one instance
// work on the others (what the round-robin front relies on).
func TestInstancesShareOneDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	servers := make([]*Server, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range servers {
		wg.Go(func() {
			servers[i], errs[i] = New(ctx, Config{DBPath: path, Products: 1000, Users: 20})
		})
	}
	wg.Wait()
	shops := make([]*testShop, len(servers))
	for i, s := range servers {
		if errs[i] != nil {
			t.Fatalf("instance %d: %v", i, errs[i])
		}
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(func() {
			ts.Close()
			if err := s.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		})
		shops[i] = &testShop{Server: s, URL: ts.URL}
	}
	var products, orders int
	if err := servers[0].db.QueryRow("SELECT (SELECT COUNT(*) FROM products), (SELECT COUNT(*) FROM orders)").Scan(&products, &orders); err != nil {
		t.Fatal(err)
	}
	if products != 1000 || orders != 20*ordersPerUser {
		t.Fatalf("shared database holds %d products and %d orders, want one seed: 1000 and %d", products, orders, 20*ordersPerUser)
	}
	auth := shops[0].login(t, 5)
	_, cart := shops[1].call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 10}, auth)
	if code, out := shops[2].call(t, "POST", "/v1/checkout", validCheckout(cart["cart_id"].(string)), auth); code != http.StatusOK {
		t.Fatalf("checkout on a third instance: %d %v", code, out)
	}
}
