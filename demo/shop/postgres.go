package shop

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// The shop on PostgreSQL (usually through PgBouncer): Config.DBPath holds a
// postgres:// DSN. Statements are written once with ? placeholders and
// rebound to $n; they go out in the simple protocol, which PgBouncer's
// transaction pooling needs (no named prepared statements), and which
// pg_stat_statements normalises back to the $n form the spans carry.

const pgSchema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS products (
	id BIGINT PRIMARY KEY, name TEXT NOT NULL, category TEXT NOT NULL, price_cents BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_products_category ON products(category, id);
CREATE TABLE IF NOT EXISTS inventory (product_id BIGINT PRIMARY KEY, stock BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
	id BIGINT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
	token TEXT PRIMARY KEY, user_id BIGINT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS carts (
	id TEXT PRIMARY KEY, user_id BIGINT, coupon TEXT, status TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS cart_items (
	cart_id TEXT NOT NULL, product_id BIGINT NOT NULL, quantity BIGINT NOT NULL,
	PRIMARY KEY (cart_id, product_id));
CREATE TABLE IF NOT EXISTS orders (
	id BIGSERIAL PRIMARY KEY, user_id BIGINT NOT NULL, cart_id TEXT, total_cents BIGINT NOT NULL,
	payment_method_id TEXT NOT NULL, shipping_address TEXT NOT NULL, status TEXT NOT NULL,
	created_at BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS order_items (
	order_id BIGINT NOT NULL, product_id BIGINT NOT NULL, quantity BIGINT NOT NULL,
	price_cents BIGINT NOT NULL, PRIMARY KEY (order_id, product_id));
`

// pgOrdersIndex is the composite index checkout's recent-orders lookup
// needs on PostgreSQL: newest first per user.
const (
	createPgOrdersIndex = "CREATE INDEX IF NOT EXISTS " + ordersByUserIndex + " ON orders (user_id, created_at DESC)"
	// seedLock serialises instances starting on one new database.
	seedLock = 7_340_031
)

// isPostgresDSN reports whether a --db value is a PostgreSQL DSN rather
// than a SQLite file.
func isPostgresDSN(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// pgDSN forces the simple protocol unless the DSN chose a mode itself.
func pgDSN(dsn string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("shop: --db: not a PostgreSQL URL: %v", err)
	}
	q := u.Query()
	if q.Get("default_query_exec_mode") == "" {
		q.Set("default_query_exec_mode", "simple_protocol")
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// appPoolOnPostgres is the shop's own connection limit on PostgreSQL when
// PgBouncer owns the pool knob: large enough that PgBouncer's pool is the
// one that runs out.
const appPoolOnPostgres = 200

// openPostgres opens the shop database at dsn, creating the schema and
// seeding it once (instances starting together take turns on an advisory
// lock), and sets the orders index as the missing_index knob says.
func openPostgres(ctx context.Context, dsn string, cfg Config) (*sql.DB, error) {
	full, err := pgDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", full)
	if err != nil {
		return nil, fmt.Errorf("shop: opening PostgreSQL: %w", err)
	}
	pool := cfg.Pool
	if cfg.PgBouncerAdmin != "" {
		pool = appPoolOnPostgres
	}
	db.SetMaxOpenConns(pool)
	db.SetMaxIdleConns(pool)
	db.SetConnMaxIdleTime(time.Minute)
	if err := initPostgres(ctx, db, cfg); err != nil {
		db.Close()
		return nil, fmt.Errorf("shop: preparing PostgreSQL: %w", err)
	}
	return db, nil
}

func initPostgres(ctx context.Context, db *sql.DB, cfg Config) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock("+strconv.Itoa(seedLock)+")"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, pgSchema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	var seeded string
	err = tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'seeded'").Scan(&seeded)
	switch {
	case err == sql.ErrNoRows:
		if err := seedPostgres(ctx, tx, cfg); err != nil {
			return fmt.Errorf("seeding: %w", err)
		}
	case err != nil:
		return err
	}
	index := createPgOrdersIndex
	if cfg.MissingIndex {
		index = dropOrdersIndex
	}
	if _, err := tx.ExecContext(ctx, index); err != nil {
		return fmt.Errorf("orders index: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "ANALYZE")
	return err
}

// seedPostgres fills a new database in set-based statements (the same
// shape as the SQLite seed: products with stock, users, twenty orders a user
// over the last 90 days), deterministic through setseed.
func seedPostgres(ctx context.Context, tx *sql.Tx, cfg Config) error {
	now := time.Now().UnixMilli()
	window := (90 * 24 * time.Hour).Milliseconds()
	cats := "ARRAY['" + strings.Join(categories, "','") + "']"
	stmts := []string{
		"SELECT setseed(0.42)",
		fmt.Sprintf(`INSERT INTO products (id, name, category, price_cents)
			SELECT i, (%[1]s)[i %% %[2]d + 1] || ' item ' || i, (%[1]s)[i %% %[2]d + 1], 199 + floor(random() * 50000)::bigint
			FROM generate_series(1, %[3]d) i`, cats, len(categories), cfg.Products),
		fmt.Sprintf("INSERT INTO inventory (product_id, stock) SELECT i, 1000000 + floor(random() * 1000)::bigint FROM generate_series(1, %d) i", cfg.Products),
		// As seedUserEmail's %04d: lpad would cut 10000 to "1000".
		fmt.Sprintf(`INSERT INTO users (id, email, password_hash)
			SELECT i, 'user' || CASE WHEN i < 1000 THEN lpad(i::text, 4, '0') ELSE i::text END || '@shop.test', '' FROM generate_series(1, %d) i`, cfg.Users),
		fmt.Sprintf(`INSERT INTO orders (id, user_id, cart_id, total_cents, payment_method_id, shipping_address, status, created_at)
			SELECT i, 1 + floor(random() * %d)::bigint, NULL, 0, 'pm-seed', '{}', 'paid', %d - floor(random() * %d)::bigint
			FROM generate_series(1, %d) i`, cfg.Users, now, window, cfg.Users*ordersPerUser),
		fmt.Sprintf(`INSERT INTO order_items (order_id, product_id, quantity, price_cents)
			SELECT o.id, p.id, 1, p.price_cents FROM orders o JOIN products p ON p.id = 1 + (o.id * 7919) %% %d`, cfg.Products),
		"UPDATE orders o SET total_cents = oi.price_cents FROM order_items oi WHERE oi.order_id = o.id",
		fmt.Sprintf("SELECT setval(pg_get_serial_sequence('orders', 'id'), %d)", cfg.Users*ordersPerUser),
		"INSERT INTO counters (name, value) VALUES ('orders', 0) ON CONFLICT DO NOTHING",
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%.60s…: %w", strings.Join(strings.Fields(s), " "), err)
		}
	}
	// Password hashes are salted with the email, so they are computed here.
	rows, err := tx.QueryContext(ctx, "SELECT id, email FROM users ORDER BY id")
	if err != nil {
		return err
	}
	var ids []int64
	var emails []string
	for rows.Next() {
		var id int64
		var email string
		if err := rows.Scan(&id, &email); err != nil {
			rows.Close()
			return err
		}
		ids, emails = append(ids, id), append(emails, email)
	}
	rows.Close()
	hashes := make([]string, len(ids))
	for i := range ids {
		hashes[i] = passwordHash(emails[i], seededPassword)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users u SET password_hash = h.hash
		FROM unnest($1::bigint[], $2::text[]) AS h(id, hash) WHERE u.id = h.id`, ids, hashes); err != nil {
		return fmt.Errorf("password hashes: %w", err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO meta (key, value) VALUES ('seeded', $1), ('products', $2), ('users', $3)",
		time.Now().UTC().Format(time.RFC3339), strconv.Itoa(cfg.Products), strconv.Itoa(cfg.Users))
	return err
}

// rebind turns ? placeholders into PostgreSQL's $1, $2, … (the shop's
// statements hold no ? inside string literals).
func rebind(stmt string) string {
	if !strings.Contains(stmt, "?") {
		return stmt
	}
	var b strings.Builder
	n := 0
	for _, r := range stmt {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// setPgBouncerPool sets PgBouncer's default_pool_size through its admin
// console: the pool knob on PostgreSQL. Pools follow it at once.
func setPgBouncerPool(ctx context.Context, adminDSN string, size int) error {
	cfg, err := pgx.ParseConfig(adminDSN)
	if err != nil {
		return fmt.Errorf("shop: --pgbouncer-admin: %v", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("shop: pool: PgBouncer's admin console: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET default_pool_size = "+strconv.Itoa(size)); err != nil {
		return fmt.Errorf("shop: pool: SET default_pool_size = %d: %w", size, err)
	}
	return nil
}
