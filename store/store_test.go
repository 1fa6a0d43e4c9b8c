package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/store/storetest"
)

func TestMain(m *testing.M) {
	if os.Getenv("STORE_CRASH_DSN") != "" {
		crashChild()
		return
	}
	os.Exit(storetest.Main(m))
}

// clock is an injectable clock that moves one millisecond per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 123456000, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// Peek returns the time the next reading will be.
func (c *clock) Peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.Add(time.Millisecond)
}

// backend opens a fresh store of one kind; dsn is what it opened.
type backend struct {
	name string
	dsn  func(t *testing.T) string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "headroom.db") }},
	{"postgres", func(t *testing.T) string { return storetest.StartPostgres(t) }},
}

// each runs fn against a fresh SQLite store and a fresh PostgreSQL one.
func each(t *testing.T, fn func(t *testing.T, s *Store, c *clock, dsn string)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			c := newClock()
			s := open(t, dsn, c)
			if s.Driver() != b.name {
				t.Fatalf("Driver() = %q, want %q", s.Driver(), b.name)
			}
			fn(t, s, c, dsn)
		})
	}
}

func open(t *testing.T, dsn string, c *clock) *Store {
	t.Helper()
	o := Options{}
	if c != nil {
		o.Now = c.Now
	}
	s, err := Open(context.Background(), dsn, o)
	if err != nil {
		t.Fatalf("Open(%s): %v", dsn, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func wantErr(t *testing.T, err, want error, what string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var ctx = context.Background()

func TestOpenTwiceKeepsData(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p, err := s.CreatePlan(ctx, "checkout", "name: checkout\n")
		must(t, err)
		s.Close()
		// Migrations already applied: a second open (a restart, or a second
		// server) applies nothing and sees the data.
		s2 := open(t, dsn, nil)
		got, err := s2.GetPlan(ctx, p.ID, 0)
		must(t, err)
		if got.Name != "checkout" {
			t.Fatalf("after reopen: %+v", got)
		}
	})
}

func TestOpenConcurrently(t *testing.T) {
	// Two servers starting at once on one new database both end up with the schema.
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st, err := Open(ctx, dsn, Options{})
				if err == nil {
					_, err = st.ListPlans(ctx)
					st.Close()
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("open %d: %v", i, err)
			}
		}
	})
}

func TestOpenRejectsMemory(t *testing.T) {
	if _, err := Open(ctx, ":memory:", Options{}); err == nil {
		t.Fatal("Open(:memory:) succeeded; each pooled connection would see its own database")
	}
}

func TestSQLitePragmas(t *testing.T) {
	s := open(t, "sqlite:"+filepath.Join(t.TempDir(), "x.db"), nil)
	var mode string
	var fk, timeout int
	must(t, s.db.GetContext(ctx, &mode, "PRAGMA journal_mode"))
	must(t, s.db.GetContext(ctx, &fk, "PRAGMA foreign_keys"))
	must(t, s.db.GetContext(ctx, &timeout, "PRAGMA busy_timeout"))
	if mode != "wal" || fk != 1 || timeout <= 0 {
		t.Fatalf("journal_mode=%s foreign_keys=%d busy_timeout=%d, want wal, 1, > 0", mode, fk, timeout)
	}
	if n := s.w.Stats().MaxOpenConnections; n != 1 {
		t.Fatalf("writer pool allows %d connections, want 1", n)
	}
}
