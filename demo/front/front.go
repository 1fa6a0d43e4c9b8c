package front

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headroom-sre/headroom/demo/internal/httpstatus"
)

// Config configures a front.
type Config struct {
	// Backends are the base URLs (http://host:port) requests are spread over.
	Backends []string
	// DeadFor is how long a backend that refused a connection is skipped;
	// default 2s.
	DeadFor time.Duration
	// MaxIdleConnsPerBackend bounds the kept-alive connections to each
	// backend; default 512, enough for a demo's concurrency.
	MaxIdleConnsPerBackend int
	// Weights, when set, has one weight (1–100) per backend: a backend of
	// weight 2 gets twice the requests of one of weight 1, interleaved
	// (smooth weighted round-robin). Nil or all equal is plain
	// round-robin. A deliberately unbalanced front for the demo.
	Weights []int
}

// maxWeight bounds a backend's weight, so the schedule stays short.
const maxWeight = 100

// maxBody bounds a request body the front buffers (to retry it elsewhere).
const maxBody = 1 << 20

// Front is a running round-robin reverse proxy.
type Front struct {
	cfg       Config
	backends  []*backend
	schedule  []int // backend indices in the order requests go to them, repeated
	next      atomic.Uint64
	transport *http.Transport
	metrics   *metrics
	handler   http.Handler

	mu  sync.Mutex
	srv *http.Server
}

// backend is one instance behind the front.
type backend struct {
	name      string // the base URL, the metrics' label
	weight    int
	proxy     *httputil.ReverseProxy
	deadUntil atomic.Int64 // unix nanoseconds; skipped before then
}

// attempt carries a proxy error out of ReverseProxy's ErrorHandler, which
// deliberately writes nothing so the request can go to another backend.
type attempt struct{ err error }

type attemptKey struct{}

// New checks the backends and builds the front; it does not listen.
func New(cfg Config) (*Front, error) {
	if len(cfg.Backends) == 0 {
		return nil, errors.New("front: backends: at least one backend URL is required")
	}
	if cfg.DeadFor == 0 {
		cfg.DeadFor = 2 * time.Second
	}
	if cfg.DeadFor < 0 {
		return nil, fmt.Errorf("front: dead_for: %s is negative", cfg.DeadFor)
	}
	if cfg.MaxIdleConnsPerBackend <= 0 {
		cfg.MaxIdleConnsPerBackend = 512
	}
	if cfg.Weights != nil && len(cfg.Weights) != len(cfg.Backends) {
		return nil, fmt.Errorf("front: weights: %d weights for %d backends; give one per backend", len(cfg.Weights), len(cfg.Backends))
	}
	for i, w := range cfg.Weights {
		if w < 1 || w > maxWeight {
			return nil, fmt.Errorf("front: weights[%d]: %d is not a weight from 1 to %d", i, w, maxWeight)
		}
	}
	f := &Front{cfg: cfg, transport: newTransport(cfg)}
	seen := map[string]bool{}
	for i, raw := range cfg.Backends {
		if seen[raw] {
			return nil, fmt.Errorf("front: backends[%d]: %q is listed twice", i, raw)
		}
		seen[raw] = true
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("front: backends[%d]: %q is not an http(s)://host:port URL", i, raw)
		}
		b := &backend{name: raw, weight: 1}
		if cfg.Weights != nil {
			b.weight = cfg.Weights[i]
		}
		b.proxy = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(u)
				pr.SetXForwarded()
			},
			Transport: f.transport,
			ErrorHandler: func(_ http.ResponseWriter, r *http.Request, err error) {
				if a, ok := r.Context().Value(attemptKey{}).(*attempt); ok {
					a.err = err
				}
			},
		}
		f.backends = append(f.backends, b)
	}
	f.schedule = schedule(f.backends)
	f.metrics = newMetrics(f.backends)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", f.metrics.handler())
	mux.HandleFunc("GET /healthz", f.handleHealth)
	mux.HandleFunc("/", f.proxy)
	f.handler = mux
	return f, nil
}

func newTransport(cfg Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConns = cfg.MaxIdleConnsPerBackend * len(cfg.Backends)
	t.MaxIdleConnsPerHost = cfg.MaxIdleConnsPerBackend
	t.IdleConnTimeout = 90 * time.Second
	return t
}

// Handler is the front: /metrics and /healthz of its own, everything else
// proxied.
func (f *Front) Handler() http.Handler { return f.handler }

// Serve answers requests on ln until Shutdown; it then returns nil.
func (f *Front) Serve(ln net.Listener) error {
	f.mu.Lock()
	f.srv = &http.Server{Handler: f.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := f.srv
	f.mu.Unlock()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops serving, letting requests in progress finish until ctx
// ends, and closes the idle backend connections.
func (f *Front) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	var err error
	if srv != nil {
		err = srv.Shutdown(ctx)
	}
	f.transport.CloseIdleConnections()
	return err
}

// schedule is one round of smooth weighted round-robin over the backends:
// each appears as often as its weight, spread out (weights 2,1,1 give
// 0,1,0,2). Equal weights give each backend once, in order.
func schedule(bs []*backend) []int {
	total := 0
	for _, b := range bs {
		total += b.weight
	}
	current := make([]int, len(bs))
	out := make([]int, 0, total)
	for range total {
		best := 0
		for i, b := range bs {
			current[i] += b.weight
			if current[i] > current[best] {
				best = i
			}
		}
		current[best] -= total
		out = append(out, best)
	}
	return out
}

// pick returns the next backend of the schedule that is not being
// skipped; when all are, the next one regardless (it may have come back).
func (f *Front) pick() *backend {
	n := uint64(len(f.schedule))
	now := time.Now().UnixNano()
	for range n {
		b := f.backends[f.schedule[(f.next.Add(1)-1)%n]]
		if b.deadUntil.Load() <= now {
			return b
		}
	}
	return f.backends[f.schedule[(f.next.Add(1)-1)%n]]
}

// proxy sends the request to the backends in turn; one that cannot be
// reached is marked dead and the request goes to the next, at most once
// per backend.
func (f *Front) proxy(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body: %v", err))
		return
	}
	var lastErr error
	for range f.backends {
		b := f.pick()
		a := &attempt{}
		out := r.WithContext(context.WithValue(r.Context(), attemptKey{}, a))
		out.Body, out.ContentLength = http.NoBody, 0
		if len(body) > 0 {
			out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		sw := &httpstatus.Recorder{ResponseWriter: w}
		b.proxy.ServeHTTP(sw, out)
		if a.err == nil {
			f.metrics.requests.WithLabelValues(b.name, strconv.Itoa(max(sw.Code, http.StatusOK))).Inc()
			return
		}
		lastErr = a.err
		if sw.Code != 0 { // the answer had started: nothing more to send
			f.metrics.errors.WithLabelValues(b.name, "proxy").Inc()
			return
		}
		if !unreachable(a.err) || r.Context().Err() != nil {
			f.metrics.errors.WithLabelValues(b.name, "proxy").Inc()
			writeError(w, http.StatusBadGateway, fmt.Sprintf("backend %s: %v", b.name, a.err))
			return
		}
		f.metrics.errors.WithLabelValues(b.name, "unreachable").Inc()
		b.deadUntil.Store(time.Now().Add(f.cfg.DeadFor).UnixNano())
	}
	writeError(w, http.StatusBadGateway, fmt.Sprintf("no backend reachable: %v", lastErr))
}

// unreachable reports whether err means the request never reached the
// backend (the connection was refused or could not be made), so it is
// safe to send it elsewhere.
func unreachable(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func (f *Front) handleHealth(w http.ResponseWriter, _ *http.Request) {
	now := time.Now().UnixNano()
	alive := 0
	for _, b := range f.backends {
		if b.deadUntil.Load() <= now {
			alive++
		}
	}
	code := http.StatusOK
	if alive == 0 {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]int{"backends": len(f.backends), "backends_alive": alive})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
