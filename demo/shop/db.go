package shop

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mattn/go-sqlite3" // the "sqlite3" database/sql driver
)

// categories of the seeded catalogue; listings filter on them.
var categories = []string{
	"books", "electronics", "games", "garden", "home",
	"kitchen", "music", "outdoor", "sports", "toys",
}

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('orders', 0);
CREATE TABLE IF NOT EXISTS products (
	id INTEGER PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price_cents INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS idx_products_category ON products(category, id);
CREATE TABLE IF NOT EXISTS inventory (product_id INTEGER PRIMARY KEY, stock INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS users (
	id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
	token TEXT PRIMARY KEY, user_id INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS carts (
	id TEXT PRIMARY KEY, user_id INTEGER, coupon TEXT, status TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cart_items (
	cart_id TEXT NOT NULL, product_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
	PRIMARY KEY (cart_id, product_id));
CREATE TABLE IF NOT EXISTS orders (
	id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, cart_id TEXT, total_cents INTEGER NOT NULL,
	payment_method_id TEXT NOT NULL, shipping_address TEXT NOT NULL, status TEXT NOT NULL,
	created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS order_items (
	order_id INTEGER NOT NULL, product_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
	price_cents INTEGER NOT NULL, PRIMARY KEY (order_id, product_id));
`

// ordersByUserIndex is the index checkout's recent-orders lookup needs; the
// missing_index knob drops it.
const (
	ordersByUserIndex = "idx_orders_user_created"
	createOrdersIndex = "CREATE INDEX IF NOT EXISTS " + ordersByUserIndex + " ON orders(user_id, created_at)"
	dropOrdersIndex   = "DROP INDEX IF EXISTS " + ordersByUserIndex
)

// seededPassword is every seeded user's password.
const seededPassword = "secret"

// openDB opens (creating and seeding when new) the shop database at path.
// Every connection runs in WAL mode with a busy timeout, and transactions
// take the write lock at BEGIN, so instances sharing the file queue their
// writes instead of failing.
func openDB(ctx context.Context, path string, cfg Config) (*sql.DB, error) {
	dsn := path + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate&_synchronous=NORMAL&_foreign_keys=off"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("shop: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(cfg.Pool)
	db.SetMaxIdleConns(cfg.Pool)
	if err := initDBRetrying(ctx, db, cfg); err != nil {
		db.Close()
		return nil, fmt.Errorf("shop: preparing %s: %w", path, err)
	}
	return db, nil
}

// initDBRetrying runs initDB until it is not refused as busy. Instances
// starting at once on a new file can find it locked without SQLite's busy
// timeout coming into play (a connection switching the file to WAL while
// another holds it), so the attempt is repeated for a while.
func initDBRetrying(ctx context.Context, db *sql.DB, cfg Config) error {
	deadline := time.Now().Add(30 * time.Second)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		err := initDB(ctx, db, cfg)
		if err == nil || !isBusy(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
	}
}

// isBusy reports whether err is SQLite's "database is locked" or "table is
// locked".
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}

// initDB creates the schema and seeds the data once. The whole of it runs
// in one write transaction, so of several instances starting on one file
// exactly one seeds and the others wait for it, then find it done.
func initDB(ctx context.Context, db *sql.DB, cfg Config) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // a no-op after Commit
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	var seeded string
	err = tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'seeded'").Scan(&seeded)
	switch {
	case err == sql.ErrNoRows:
		if err := seed(ctx, tx, cfg); err != nil {
			return fmt.Errorf("seeding: %w", err)
		}
	case err != nil:
		return err
	}
	index := createOrdersIndex
	if cfg.MissingIndex {
		index = dropOrdersIndex
	}
	if _, err := tx.ExecContext(ctx, index); err != nil {
		return fmt.Errorf("orders index: %w", err)
	}
	return tx.Commit()
}

// passwordHash is how users' passwords are stored: salted with the email.
func passwordHash(email, password string) string {
	sum := sha256.Sum256([]byte("shop:" + email + ":" + password))
	return hex.EncodeToString(sum[:])
}

// seedUserEmail is the email of the i-th seeded user (1-based).
func seedUserEmail(i int) string { return fmt.Sprintf("user%04d@shop.test", i) }

// seed fills a new database: products with stock, users, and a history of
// orders spread over the last 90 days. Deterministic for a given config.
func seed(ctx context.Context, tx *sql.Tx, cfg Config) error {
	rng := rand.New(rand.NewPCG(1, 2))
	insProduct, err := tx.PrepareContext(ctx, "INSERT INTO products (id, name, category, price_cents) VALUES (?, ?, ?, ?)")
	if err != nil {
		return err
	}
	insStock, err := tx.PrepareContext(ctx, "INSERT INTO inventory (product_id, stock) VALUES (?, ?)")
	if err != nil {
		return err
	}
	prices := make([]int64, cfg.Products+1)
	for id := 1; id <= cfg.Products; id++ {
		cat := categories[id%len(categories)]
		prices[id] = 199 + rng.Int64N(50000)
		name := fmt.Sprintf("%s item %d", cat, id)
		if _, err := insProduct.ExecContext(ctx, id, name, cat, prices[id]); err != nil {
			return err
		}
		if _, err := insStock.ExecContext(ctx, id, 1_000_000+rng.Int64N(1000)); err != nil {
			return err
		}
	}
	insUser, err := tx.PrepareContext(ctx, "INSERT INTO users (id, email, password_hash) VALUES (?, ?, ?)")
	if err != nil {
		return err
	}
	for id := 1; id <= cfg.Users; id++ {
		email := seedUserEmail(id)
		if _, err := insUser.ExecContext(ctx, id, email, passwordHash(email, seededPassword)); err != nil {
			return err
		}
	}
	if err := seedOrders(ctx, tx, cfg, rng, prices); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('seeded', ?), ('products', ?), ('users', ?)",
		time.Now().UTC().Format(time.RFC3339), cfg.Products, cfg.Users)
	return err
}

func seedOrders(ctx context.Context, tx *sql.Tx, cfg Config, rng *rand.Rand, prices []int64) error {
	insOrder, err := tx.PrepareContext(ctx, `INSERT INTO orders
		(id, user_id, cart_id, total_cents, payment_method_id, shipping_address, status, created_at)
		VALUES (?, ?, NULL, ?, 'pm-seed', '{}', 'paid', ?)`)
	if err != nil {
		return err
	}
	insItem, err := tx.PrepareContext(ctx, "INSERT INTO order_items (order_id, product_id, quantity, price_cents) VALUES (?, ?, ?, ?)")
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	const window = 90 * 24 * time.Hour
	orders := cfg.Users * ordersPerUser
	for id := 1; id <= orders; id++ {
		user := 1 + rng.IntN(cfg.Users)
		created := now - rng.Int64N(window.Milliseconds())
		items := 1 + rng.IntN(3)
		first := 1 + rng.IntN(cfg.Products)
		var total int64
		for j := range items {
			total += prices[1+(first-1+j)%cfg.Products]
		}
		if _, err := insOrder.ExecContext(ctx, id, user, total, created); err != nil {
			return err
		}
		seen := map[int]bool{}
		for j := range items {
			product := 1 + (first-1+j)%cfg.Products
			if seen[product] {
				continue
			}
			seen[product] = true
			if _, err := insItem.ExecContext(ctx, id, product, 1, prices[product]); err != nil {
				return err
			}
		}
	}
	return nil
}
