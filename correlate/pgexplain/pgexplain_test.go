package pgexplain

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/headroom-sre/headroom/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// ordersDB is a real PostgreSQL database with a 60,000-row orders table
// and no index on user_id.
func ordersDB(t *testing.T, hypopg bool) (string, *sql.DB) {
	t.Helper()
	dsn := storetest.StartPostgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	stmts := []string{
		`CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, total_cents BIGINT NOT NULL, created_at BIGINT NOT NULL)`,
		`INSERT INTO orders SELECT i, 1 + i % 3000, i % 997, 1700000000000 + i * 1000 FROM generate_series(1, 60000) i`,
		`ANALYZE orders`,
	}
	if hypopg {
		stmts = append(stmts, "CREATE EXTENSION hypopg")
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return dsn, db
}

func indexCount(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAdviseProposesAndTestsAHypotheticalIndex: a statement that scans
// orders to filter by user and sort by date gets the index on (user_id,
// created_at DESC), HypoPG's estimated cost falls, the planner uses it, and
// no real index exists afterwards.
func TestAdviseProposesAndTestsAHypotheticalIndex(t *testing.T) {
	dsn, db := ordersDB(t, true)
	before := indexCount(t, db)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stmt := "SELECT id, total_cents FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 5"
	advice, na := Advise(ctx, dsn, []string{stmt, "SELECT count(*) FROM orders WHERE id = 7", stmt}, Options{})
	if len(na) != 0 || len(advice) != 3 {
		t.Fatalf("advice %+v, not available %v", advice, na)
	}
	a := advice[0]
	if a.Scan == nil || a.Scan.Table != "orders" || a.Scan.Rows < 50000 {
		t.Fatalf("scan: %+v", a.Scan)
	}
	if a.Index == nil || a.Index.Text() != "orders (user_id, created_at DESC)" {
		t.Fatalf("index: %+v", a.Index)
	}
	if !(a.CostWithIndex > 0 && a.CostWithIndex < a.Cost/10) || !a.UsesIndex {
		t.Errorf("cost %.1f → %.1f with the hypothetical index, used %v: want a tenfold drop and used", a.Cost, a.CostWithIndex, a.UsesIndex)
	}
	t.Logf("%s: estimated cost %.1f → %.1f", a.Index.Text(), a.Cost, a.CostWithIndex)
	if b := advice[1]; b.Scan != nil || b.Index != nil || b.ActualMs <= 0 {
		t.Errorf("a primary-key lookup without parameters: want EXPLAIN ANALYZE's time and no advice, got %+v", b)
	}
	if c := advice[2]; c.CostWithIndex != a.CostWithIndex || len(c.NotAvailable) > 0 {
		t.Errorf("the same statement again on the same connection: %+v", c)
	}
	if after := indexCount(t, db); after != before {
		t.Errorf("indexes on orders: %d before, %d after: a real index was created", before, after)
	}
}

// TestAdviseWithoutHypoPGSaysSo: the proposal stands, untested, with a
// not-available line; an UPDATE is explained but never run.
func TestAdviseWithoutHypoPGSaysSo(t *testing.T) {
	dsn, db := ordersDB(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	advice, na := Advise(ctx, dsn, []string{
		"SELECT count(*) FROM orders WHERE user_id = $1 AND created_at >= $2",
		"UPDATE orders SET total_cents = 0 WHERE user_id = 5",
	}, Options{})
	if len(na) != 1 || !strings.Contains(na[0], "hypopg: not available") {
		t.Fatalf("not available: %v", na)
	}
	if a := advice[0]; a.Index == nil || a.Index.Text() != "orders (user_id, created_at)" || a.CostWithIndex != 0 {
		t.Errorf("advice without HypoPG: %+v", a)
	}
	var zero int
	if err := db.QueryRow("SELECT count(*) FROM orders WHERE user_id = 5 AND total_cents = 0").Scan(&zero); err != nil {
		t.Fatal(err)
	}
	if advice[1].ActualMs != 0 || zero > 1 {
		t.Errorf("the UPDATE ran (%d rows now 0, actual %.2f ms)", zero, advice[1].ActualMs)
	}
}

// TestAdviseUnreachableIsNotAvailable: no database, one line, no panic,
// no password shown.
func TestAdviseUnreachableIsNotAvailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	advice, na := Advise(ctx, "postgres://app:s3cretpw@127.0.0.1:1/shop?sslmode=disable&connect_timeout=2", []string{"SELECT 1"}, Options{})
	if advice != nil || len(na) != 1 || !strings.Contains(na[0], "database: not available") || strings.Contains(na[0], "s3cretpw") {
		t.Fatalf("advice %v, not available %v", advice, na)
	}
}
