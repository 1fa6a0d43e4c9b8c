package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/headroom-sre/headroom/migrations"
)

// ErrNotFound is returned (wrapped, naming what was looked for) when a row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned (wrapped) when a write contradicts the stored state:
// a duplicate key, or a job that is already finished.
var ErrConflict = errors.New("store: conflict")

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Now is the clock for every timestamp the store writes; nil means time.Now.
	Now func() time.Time
}

// Store is the repository of plans, jobs and their data on SQLite or PostgreSQL.
// It is safe for concurrent use.
type Store struct {
	db     *sqlx.DB // reads (and writes on PostgreSQL)
	w      *sqlx.DB // writes: on SQLite one connection, BEGIN IMMEDIATE
	driver string
	now    func() time.Time
}

const (
	driverSQLite   = "sqlite"
	driverPostgres = "postgres"
)

// Open opens the store at dsn and applies the schema migrations. The dsn is a
// PostgreSQL URL ("postgres://…" or "postgresql://…"), "sqlite:path", or a
// plain file path (SQLite). SQLite runs in WAL mode with a busy timeout and
// foreign keys on, with one writing connection and a small pool of readers.
func Open(ctx context.Context, dsn string, o Options) (*Store, error) {
	s := &Store{now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		err = s.openPostgres(ctx, dsn)
	} else {
		err = s.openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) openPostgres(ctx context.Context, dsn string) error {
	db, err := sqlx.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return fmt.Errorf("store: connect to postgres: %w", err)
	}
	s.db, s.w, s.driver = db, db, driverPostgres
	return nil
}

func (s *Store) openSQLite(ctx context.Context, path string) error {
	path = strings.TrimPrefix(path, "//")
	if path == "" || strings.Contains(path, ":memory:") || strings.Contains(path, "mode=memory") {
		return fmt.Errorf("store: sqlite needs a file path (in-memory databases are not shared between connections)")
	}
	if err := privateFile(path); err != nil {
		return err
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	params := "_busy_timeout=10000&_journal_mode=WAL&_foreign_keys=on&_synchronous=NORMAL"
	// The writer first: it switches the file to WAL before any reader opens it.
	w, err := sqlx.Open("sqlite3", path+sep+params+"&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	r, err := sqlx.Open("sqlite3", path+sep+params)
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	s.db, s.w, s.driver = r, w, driverSQLite
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	dialect, dir := goose.DialectSQLite3, "sqlite"
	// Features number their migrations in their own ranges (00100 agents,
	// 00300 profiles): a later one of a lower range (00101) must still
	// apply to a database already past it.
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if s.driver == driverPostgres {
		dialect, dir = goose.DialectPostgres, "postgres"
		// Several servers starting on one database take turns.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrations.FS, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.w.DB, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: apply migrations: %w", err)
	}
	return nil
}

// Close closes the database connections.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.w != s.db {
		err = errors.Join(err, s.w.Close())
	}
	return err
}

// Driver names the database: "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// write runs fn in a write transaction and commits it when fn returns nil.
func (s *Store) write(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.w.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// read runs fn in a read-only transaction, so its queries see one state.
func (s *Store) read(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, &sql.TxOptions{ReadOnly: s.driver == driverPostgres})
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	return fn(tx)
}

// ts is the store's now, in UTC, to the microsecond (PostgreSQL's resolution).
func (s *Store) ts() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// q rebinds a query written with ? placeholders to the driver's style.
func (s *Store) q(query string) string { return s.db.Rebind(query) }

// utc returns t in UTC (PostgreSQL's driver answers in the local zone).
func utc(t time.Time) time.Time { return t.UTC() }

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// jsonArg is a JSON document as a text argument; empty is NULL.
func jsonArg(what string, raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("store: %s is not valid JSON", what)
	}
	return string(raw), nil
}

// raw turns a scanned text column back into a JSON document (nil for NULL).
func raw(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}

// notFound wraps ErrNotFound for sql.ErrNoRows and passes other errors on.
func notFound(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
	}
	return dbErr(err, format, args...)
}

// dbErr wraps a database error with what was being done, turning key
// violations into ErrConflict and missing references into ErrNotFound.
func dbErr(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	what := fmt.Sprintf(format, args...)
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return fmt.Errorf("%s: %w (%v)", what, ErrConflict, err)
		case sqlite3.ErrConstraintForeignKey:
			return fmt.Errorf("%s: a referenced row is missing: %w (%v)", what, ErrNotFound, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return fmt.Errorf("%s: %w (%v)", what, ErrConflict, err)
		case "23503":
			return fmt.Errorf("%s: a referenced row is missing: %w (%v)", what, ErrNotFound, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// limitOffset is the SQL tail for a page; limit <= 0 means no limit.
func (s *Store) limitOffset(limit, offset int) string {
	var b strings.Builder
	if limit > 0 {
		fmt.Fprintf(&b, " LIMIT %d", limit)
	} else if offset > 0 && s.driver == driverSQLite {
		b.WriteString(" LIMIT -1")
	}
	if offset > 0 {
		fmt.Fprintf(&b, " OFFSET %d", offset)
	}
	return b.String()
}

// exists reports ErrNotFound unless a row with that id is in table.
func exists(ctx context.Context, tx *sqlx.Tx, table string, id int64) error {
	var n int
	err := tx.GetContext(ctx, &n, tx.Rebind("SELECT COUNT(*) FROM "+table+" WHERE id = ?"), id)
	if err != nil {
		return dbErr(err, "store: look up %s %d", strings.TrimSuffix(table, "s"), id)
	}
	if n == 0 {
		return fmt.Errorf("store: %s %d: %w", strings.TrimSuffix(table, "s"), id, ErrNotFound)
	}
	return nil
}

// privateFile creates the SQLite file readable by its owner only (0600),
// or makes an existing one so: it holds token hashes and every plan.
// SQLite gives its -wal and -shm files the main file's mode.
func privateFile(path string) error {
	file, _, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	if file == "" {
		return nil
	}
	f, err := os.OpenFile(file, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open sqlite %s: %w", file, err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("store: make %s private: %w", file, err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		if err := os.Chmod(file+side, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("store: make %s private: %w", file+side, err)
		}
	}
	return nil
}
