package shop

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/obs"
)

// startPgBouncer starts the real database tier (PostgreSQL behind
// PgBouncer, no exporters) for t and returns it. Its precondition is
// Debian's packages (make obs-db-deps); without them the test fails.
func startPgBouncer(t *testing.T, pool int) *obs.DB {
	t.Helper()
	if err := obs.DBAvailable(); err != nil {
		t.Fatalf("precondition: %v", err)
	}
	dir, err := os.MkdirTemp("", "headroom-shop-pg-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	db, err := obs.StartDB(ctx, obs.DBConfig{Dir: filepath.Join(dir, "db"), Pool: pool, NoExporters: true})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Stop(); err != nil {
			t.Error(err)
		}
		os.RemoveAll(dir)
	})
	return db
}

// TestShopOnPostgresThroughPgBouncer runs the shop's API on PostgreSQL
// through PgBouncer: the whole checkout, the spans' db.system and $n
// statements, the pool knob as PgBouncer's pool size, missing_index as the
// real composite index, and hot_row as the counter row's updates.
func TestShopOnPostgresThroughPgBouncer(t *testing.T) {
	tier := startPgBouncer(t, 9)
	// 10,001 users: emails past user9999 are as seedUserEmail writes them.
	ts := newTestShop(t, Config{DBPath: tier.PgBouncerDSN, PgBouncerAdmin: tier.PgBouncerAdminDSN, Pool: 4, HotRow: true, Users: 10_001})
	pg, err := sql.Open("pgx", tier.PostgresDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()

	ts.login(t, 10_001)
	auth := ts.login(t, 3)
	code, cart := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 42, "quantity": 2}, auth)
	if code != http.StatusCreated {
		t.Fatalf("add to cart: %d %v", code, cart)
	}
	if code, out := ts.call(t, "POST", "/v1/cart/items", map[string]any{"product_id": 42, "cart_id": cart["cart_id"]}, auth); code != http.StatusCreated {
		t.Fatalf("add to the same cart: %d %v", code, out)
	}
	code, order := ts.call(t, "POST", "/v1/checkout", validCheckout(cart["cart_id"].(string)), auth)
	if code != http.StatusOK {
		t.Fatalf("checkout: %d %v", code, order)
	}
	if code, out := ts.call(t, "GET", "/v1/products?page=2", nil, nil); code != http.StatusOK {
		t.Fatalf("list: %d %v", code, out)
	}

	var orders, counter, qty int
	if err := pg.QueryRow("SELECT (SELECT count(*) FROM orders), (SELECT value FROM counters WHERE name = 'orders'), (SELECT quantity FROM order_items WHERE order_id = (SELECT max(id) FROM orders))").Scan(&orders, &counter, &qty); err != nil {
		t.Fatal(err)
	}
	if orders != 10_001*ordersPerUser+1 || counter != 1 || qty != 3 {
		t.Errorf("orders %d (want seed %d + 1), hot-row counter %d (want 1), quantity %d (want 3)", orders, 10_001*ordersPerUser, counter, qty)
	}

	waitFor(t, "spans", func() bool { return len(ts.spans.GetSpans()) > 0 })
	sawRebound := false
	for _, sp := range ts.spans.GetSpans() {
		for _, a := range sp.Attributes {
			if a.Key == "db.system" && a.Value.AsString() != "postgresql" {
				t.Fatalf("span %s: db.system %q, want postgresql", sp.Name, a.Value.AsString())
			}
			if a.Key == "db.statement" && strings.Contains(a.Value.AsString(), "user_id = $1 AND created_at >= $2") {
				sawRebound = true
			}
		}
	}
	if !sawRebound {
		t.Error("no span carries the recent-orders statement with $n placeholders")
	}

	indexDef := func() string {
		var def sql.NullString
		pg.QueryRow("SELECT indexdef FROM pg_indexes WHERE indexname = $1", ordersByUserIndex).Scan(&def)
		return def.String
	}
	if got := indexDef(); !strings.Contains(got, "(user_id, created_at DESC)") {
		t.Fatalf("index %s: %q, want on orders (user_id, created_at DESC)", ordersByUserIndex, got)
	}
	k := ts.Knobs()
	k.MissingIndex, k.Pool = true, 3
	if err := ts.SetKnobs(k); err != nil {
		t.Fatal(err)
	}
	if got := indexDef(); got != "" {
		t.Errorf("missing_index: the index is still there: %q", got)
	}
	admin, err := sql.Open("pgx", tier.PgBouncerAdminDSN+"&default_query_exec_mode=simple_protocol")
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if got := pgbouncerPoolSize(t, admin); got != 3 {
		t.Errorf("pool knob 3: PgBouncer's pool_size for shop is %d", got)
	}
}

func pgbouncerPoolSize(t *testing.T, admin *sql.DB) int {
	t.Helper()
	rows, err := admin.Query("SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := map[string]string{}
		for i, c := range cols {
			row[c] = vals[i].String
		}
		if row["name"] == "shop" {
			var n int
			for _, r := range row["pool_size"] {
				n = n*10 + int(r-'0')
			}
			return n
		}
	}
	t.Fatal("SHOW DATABASES has no shop")
	return 0
}
