package shop

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is one running shop instance.
type Server struct {
	cfg     Config
	db      *sql.DB
	pg      bool   // on PostgreSQL: statements rebound to $n
	dbSys   string // db.system of the spans: "sqlite" or "postgresql"
	tempDir string // removed on Shutdown when the database is private
	metrics *metrics
	tracing tracing
	handler http.Handler
	http    *http.Server

	knobMu  sync.Mutex // serialises SetKnobs
	knobs   atomic.Pointer[Knobs]
	limit   atomic.Pointer[limiter] // nil: no capacity limit
	garbage allocator
	shared  sharedLock // the mutex_hold knob's lock
	leaked  leaker
	cpu     *cpuLimit

	// inHandler, when set (tests), runs inside the capacity limit before
	// every /v1 handler.
	inHandler func(ctx context.Context)

	shutdownOnce sync.Once
	shutdownErr  error
}

// New opens (creating and seeding when needed) the database, sets up
// metrics and tracing, and applies cfg's knobs. It does not listen: call
// Serve, or mount Handler in a server of your own.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, dbSys: "sqlite"}
	path := cfg.DBPath
	var db *sql.DB
	var err error
	if isPostgresDSN(path) {
		s.pg, s.dbSys = true, "postgresql"
		db, err = openPostgres(ctx, path, cfg)
	} else {
		db, err = s.openSQLite(ctx, path, cfg)
	}
	if err != nil {
		return nil, err
	}
	s.db = db
	if s.tracing, err = newTracing(ctx, cfg); err != nil {
		db.Close()
		s.removeTemp()
		return nil, err
	}
	if s.pg && cfg.PgBouncerAdmin != "" {
		if err := setPgBouncerPool(ctx, cfg.PgBouncerAdmin, cfg.Pool); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s.finishNew(ctx, cfg)
}

// openSQLite opens the SQLite file at path ("" = a private temporary one).
func (s *Server) openSQLite(ctx context.Context, path string, cfg Config) (*sql.DB, error) {
	if path == "" {
		dir, err := os.MkdirTemp("", "headroom-shop-")
		if err != nil {
			return nil, err
		}
		s.tempDir = dir
		path = filepath.Join(dir, "shop.db")
	}
	db, err := openDB(ctx, path, cfg)
	if err != nil {
		s.removeTemp()
		return nil, err
	}
	return db, nil
}

// finishNew sets up metrics, the CPU limit and the knobs of a server whose
// database and tracing are open.
func (s *Server) finishNew(ctx context.Context, cfg Config) (*Server, error) {
	db := s.db
	s.cpu = newCPULimit(cfg.cgroups)
	s.metrics = newMetrics(db, newCFSCollector(s.cpu, cfg.ServiceName))
	k := cfg.knobs()
	if err := s.cpu.set(k.CPULimit); err != nil {
		_ = s.tracing.shutdown(ctx)
		db.Close()
		s.removeTemp()
		return nil, err
	}
	s.knobs.Store(&k)
	if k.Capacity > 0 {
		s.limit.Store(newLimiter(k.Capacity))
	}
	s.metrics.setKnobs(k)
	s.handler = s.routes()
	return s, nil
}

// Handler is the shop's whole HTTP API, /metrics and /admin/knobs included.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until Shutdown; it then returns nil.
func (s *Server) Serve(ln net.Listener) error {
	s.knobMu.Lock()
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := s.http
	s.knobMu.Unlock()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops serving (letting requests in progress finish until ctx
// ends), flushes the traces and closes the database. It is safe to call
// more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		s.knobMu.Lock()
		srv := s.http
		s.knobMu.Unlock()
		var errs []error
		if srv != nil {
			errs = append(errs, srv.Shutdown(ctx))
		}
		errs = append(errs, s.tracing.shutdown(ctx), s.db.Close(), s.cpu.close())
		s.removeTemp()
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}

func (s *Server) removeTemp() {
	if s.tempDir != "" {
		os.RemoveAll(s.tempDir)
	}
}

// Knobs returns the knobs in force.
func (s *Server) Knobs() Knobs { return *s.knobs.Load() }

// SetKnobs validates k and applies it: the pool size at once, the orders
// index dropped or recreated, the CPU quota set, the capacity limit replaced
// (requests already admitted finish under the old one); the other knobs
// take effect with the next request.
func (s *Server) SetKnobs(k Knobs) error {
	if err := k.validate(); err != nil {
		return err
	}
	s.knobMu.Lock()
	defer s.knobMu.Unlock()
	old := s.Knobs()
	// First the knob that can fail for want of a cgroup, so a refused
	// update changes nothing.
	if k.CPULimit != old.CPULimit {
		if err := s.cpu.set(k.CPULimit); err != nil {
			return err
		}
	}
	if k.MissingIndex != old.MissingIndex {
		stmt := createOrdersIndex
		if s.pg {
			stmt = createPgOrdersIndex
		}
		if k.MissingIndex {
			stmt = dropOrdersIndex
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return errors.New("shop: missing_index: " + err.Error())
		}
	}
	if k.Pool != old.Pool && s.pg && s.cfg.PgBouncerAdmin != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := setPgBouncerPool(ctx, s.cfg.PgBouncerAdmin, k.Pool); err != nil {
			return err
		}
	} else if k.Pool != old.Pool {
		s.db.SetMaxOpenConns(k.Pool)
		s.db.SetMaxIdleConns(k.Pool)
	}
	if k.Capacity != old.Capacity {
		var l *limiter
		if k.Capacity > 0 {
			l = newLimiter(k.Capacity)
		}
		s.limit.Store(l)
	}
	s.knobs.Store(&k)
	s.metrics.setKnobs(k)
	return nil
}

// routes wires every endpoint. All go through instrument (metrics and a
// server span named by the pattern); the /v1 ones also through the capacity
// limit and the cpu_burn and alloc knobs.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	routes := []struct {
		pattern string
		handle  http.HandlerFunc
	}{
		{"POST /v1/login", s.handleLogin},
		{"GET /v1/products", s.handleListProducts},
		{"GET /v1/products/{id}", s.handleGetProduct},
		{"POST /v1/cart/items", s.handleAddToCart},
		{"POST /v1/cart/{id}/coupons", s.handleApplyCoupon},
		{"POST /v1/checkout", s.handleCheckout},
		{"GET /v1/orders/{id}", s.handleGetOrder},
		{"GET /healthz", s.handleHealth},
		{"/admin/knobs", s.handleKnobs},
		{metricsRoute, promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP},
		{"/", handleNotFound},
	}
	for _, r := range routes {
		mux.Handle(r.pattern, s.instrument(r.pattern, strings.Contains(r.pattern, " /v1/"), r.handle))
	}
	return mux
}

func handleNotFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.PingContext(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, "database: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "instance": s.cfg.Instance})
}
