package fleet

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/headroom-sre/headroom/demo/shop"
)

// Config configures a fleet. Zero values take the documented defaults.
type Config struct {
	Min, Max int // replicas; default 1 and 4
	// Startup is how long a new instance takes before it serves (a pod's
	// image pull, start and readiness probe); default 10s.
	Startup time.Duration
	// TargetRPS is the request rate per serving instance the autoscaler
	// aims at (the HPA's target average value); required.
	TargetRPS float64
	// Sync is how often the autoscaler decides; default 5s (Kubernetes: 15s).
	Sync time.Duration
	// Window is what the request rate is averaged over; default 10s.
	Window time.Duration
	// ScaleDownWindow is the stabilisation window: the fleet scales down
	// only to the highest replica count recommended within it; default
	// 60s (Kubernetes: 5m).
	ScaleDownWindow time.Duration
	// Tolerance: no change while metric ÷ target is within 1 ± this; default 0.1.
	Tolerance float64
	// Shop is each instance's configuration (its Addr is set per instance).
	// Products and Users default to 1000 and 100 to start fast.
	Shop shop.Config
	// Launch starts instance i; default an in-process shop on a free
	// loopback port with Shop's configuration.
	Launch func(ctx context.Context, i int) (Instance, error)
}

// Instance is one running instance behind the fleet.
type Instance interface {
	URL() string
	Stop(ctx context.Context) error
}

func (c Config) withDefaults() Config {
	if c.Min == 0 {
		c.Min = 1
	}
	if c.Max == 0 {
		c.Max = max(4, c.Min)
	}
	if c.Startup == 0 {
		c.Startup = 10 * time.Second
	}
	if c.Sync == 0 {
		c.Sync = 5 * time.Second
	}
	if c.Window == 0 {
		c.Window = 10 * time.Second
	}
	if c.ScaleDownWindow == 0 {
		c.ScaleDownWindow = time.Minute
	}
	if c.Tolerance == 0 {
		c.Tolerance = 0.1
	}
	if c.Shop.Products == 0 {
		c.Shop.Products = 1000
	}
	if c.Shop.Users == 0 {
		c.Shop.Users = 100
	}
	return c
}

// Validate names the first bad field of c after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Min < 1 || c.Min > 64:
		return fmt.Errorf("fleet: min: %d is outside 1..64", c.Min)
	case c.Max < c.Min || c.Max > 64:
		return fmt.Errorf("fleet: max: %d is outside min (%d)..64", c.Max, c.Min)
	case c.Startup < 0 || c.Startup > 10*time.Minute:
		return fmt.Errorf("fleet: startup: %s is outside 0..10m", c.Startup)
	case !(c.TargetRPS > 0):
		return fmt.Errorf("fleet: target_rps: %g must be > 0", c.TargetRPS)
	case c.Sync < 100*time.Millisecond || c.Window < time.Second || c.ScaleDownWindow < 0:
		return fmt.Errorf("fleet: sync (%s) must be ≥ 100ms, window (%s) ≥ 1s, scale_down_window (%s) ≥ 0", c.Sync, c.Window, c.ScaleDownWindow)
	case c.Tolerance < 0 || c.Tolerance >= 1:
		return fmt.Errorf("fleet: tolerance: %g is outside 0..1", c.Tolerance)
	}
	return c.Shop.Validate()
}

// Event is one decision of the autoscaler that changed the replicas.
type Event struct {
	At      time.Time `json:"at"`
	From    int       `json:"from"`
	To      int       `json:"to"`
	Metric  float64   `json:"metric"` // requests/s per serving instance over the window
	Serving int       `json:"serving"`
	Reason  string    `json:"reason"`
}

// pod is one instance: starting, serving, or stopping.
type pod struct {
	id      int
	inst    Instance // nil until launched
	proxy   *httputil.ReverseProxy
	created time.Time
	ready   bool
}

// Fleet is a running autoscaled fleet.
type Fleet struct {
	cfg       Config
	ctx       context.Context
	cancel    context.CancelFunc
	transport *http.Transport
	handler   http.Handler
	srv       *http.Server
	wg        sync.WaitGroup

	arrivals atomic.Int64
	rr       atomic.Uint64
	serving  atomic.Pointer[[]*pod]

	mu        sync.Mutex
	pods      []*pod // desired replicas, oldest first
	nextID    int
	desired   int
	counts    []int64 // arrivals total, one sample a second, newest last
	history   []recommendation
	events    []Event
	launchErr error
	metrics   *metrics
}

type recommendation struct {
	at      time.Time
	desired int
}

// New starts Min instances (without the startup delay: the fleet was up
// before the test) and the autoscaler. Shutdown stops them all.
func New(ctx context.Context, cfg Config) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	f := &Fleet{cfg: cfg, transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}}
	if f.cfg.Launch == nil {
		f.cfg.Launch = f.launchShop
	}
	f.ctx, f.cancel = context.WithCancel(context.WithoutCancel(ctx))
	f.serving.Store(&[]*pod{})
	f.metrics = newMetrics(f)
	f.handler = f.routes()
	f.desired = cfg.Min
	for range cfg.Min {
		p := f.newPod()
		if err := f.launch(ctx, p); err != nil {
			_ = f.Shutdown(ctx)
			return nil, err
		}
		_ = f.markReady(p)
	}
	f.wg.Add(1)
	go f.loop()
	return f, nil
}

// Handler serves the fleet: /metrics, /fleet (its state as JSON),
// /healthz, and everything else proxied to a serving instance.
func (f *Fleet) Handler() http.Handler { return f.handler }

// Serve serves on ln until Shutdown.
func (f *Fleet) Serve(ln net.Listener) error {
	f.mu.Lock()
	f.srv = &http.Server{Handler: f.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := f.srv
	f.mu.Unlock()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops serving, the autoscaler, and every instance.
func (f *Fleet) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	srv := f.srv
	f.mu.Unlock()
	var errs []error
	if srv != nil {
		errs = append(errs, srv.Shutdown(ctx))
	}
	f.cancel()
	f.wg.Wait()
	f.mu.Lock()
	pods := f.pods
	f.pods = nil
	f.mu.Unlock()
	for _, p := range pods {
		if p.inst != nil {
			errs = append(errs, p.inst.Stop(ctx))
		}
	}
	f.transport.CloseIdleConnections()
	return errors.Join(errs...)
}

// Replicas are the instances the fleet wants now and those serving.
func (f *Fleet) Replicas() (current, serving int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.pods), len(*f.serving.Load())
}

// Events are the autoscaler's changes so far, oldest first.
func (f *Fleet) Events() []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Event(nil), f.events...)
}

// newPod adds a pod (not yet launched) to the desired replicas.
func (f *Fleet) newPod() *pod {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	p := &pod{id: f.nextID, created: time.Now()}
	f.pods = append(f.pods, p)
	return p
}

// launch starts p's instance.
func (f *Fleet) launch(ctx context.Context, p *pod) error {
	inst, err := f.cfg.Launch(ctx, p.id)
	if err != nil {
		return fmt.Errorf("fleet: starting instance %d: %w", p.id, err)
	}
	u, err := url.Parse(inst.URL())
	if err != nil {
		_ = inst.Stop(ctx)
		return fmt.Errorf("fleet: instance %d URL %q: %w", p.id, inst.URL(), err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = f.transport
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, "fleet: instance unreachable: "+err.Error(), http.StatusBadGateway)
	}
	f.mu.Lock()
	p.inst, p.proxy = inst, proxy
	f.mu.Unlock()
	return nil
}

// markReady puts p into rotation if it is still wanted, and says whether it was.
func (f *Fleet) markReady(p *pod) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	wanted := false
	for _, q := range f.pods {
		if q == p {
			p.ready, wanted = true, true
		}
	}
	f.publish()
	return wanted
}

// wanted says whether p is still one of the desired replicas.
func (f *Fleet) wanted(p *pod) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, q := range f.pods {
		if q == p {
			return true
		}
	}
	return false
}

// discard stops the instance of a pod scaled away while it was starting.
func (f *Fleet) discard(p *pod) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), 15*time.Second)
	defer cancel()
	_ = p.inst.Stop(ctx)
}

// publish rebuilds the serving list; f.mu held.
func (f *Fleet) publish() {
	var s []*pod
	for _, p := range f.pods {
		if p.ready {
			s = append(s, p)
		}
	}
	f.serving.Store(&s)
}

// start brings up one new pod: launched at once, serving after Startup.
func (f *Fleet) start() {
	p := f.newPod()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		err := f.launch(f.ctx, p)
		if err != nil {
			f.mu.Lock()
			f.launchErr = err
			f.removeLocked(p)
			f.mu.Unlock()
			return
		}
		if !f.wanted(p) {
			f.discard(p)
			return
		}
		t := time.NewTimer(time.Until(p.created.Add(f.cfg.Startup)))
		defer t.Stop()
		select {
		case <-t.C:
			if !f.markReady(p) {
				f.discard(p)
			}
		case <-f.ctx.Done():
			if !f.wanted(p) {
				f.discard(p)
			}
		}
	}()
}

// removeLocked drops p from the pods; f.mu held.
func (f *Fleet) removeLocked(p *pod) {
	for i, q := range f.pods {
		if q == p {
			f.pods = append(f.pods[:i], f.pods[i+1:]...)
			break
		}
	}
	f.publish()
}

// stopNewest takes the newest pod out of rotation and stops it after
// letting its requests finish.
func (f *Fleet) stopNewest() {
	f.mu.Lock()
	p := f.pods[len(f.pods)-1]
	f.removeLocked(p)
	inst := p.inst
	f.mu.Unlock()
	if inst == nil {
		return // still launching: its goroutine finds it gone
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), 15*time.Second)
		defer cancel()
		_ = inst.Stop(ctx)
	}()
}

func (f *Fleet) loop() {
	defer f.wg.Done()
	second := time.NewTicker(time.Second)
	defer second.Stop()
	sync := time.NewTicker(f.cfg.Sync)
	defer sync.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-second.C:
			f.mu.Lock()
			f.counts = append(f.counts, f.arrivals.Load())
			if keep := int(f.cfg.Window/time.Second) + 1; len(f.counts) > keep {
				f.counts = f.counts[len(f.counts)-keep:]
			}
			f.mu.Unlock()
		case now := <-sync.C:
			f.decide(now)
		}
	}
}

// decide is one autoscaler sync, as the HPA's: the recommendation
// ⌈serving × metric ÷ target⌉ (unchanged within the tolerance), clamped to
// [Min, Max]; up at once, down only to the highest recommendation of the
// stabilisation window.
func (f *Fleet) decide(now time.Time) {
	f.mu.Lock()
	current := len(f.pods)
	serving := len(*f.serving.Load())
	if len(f.counts) < 2 || serving == 0 {
		f.mu.Unlock()
		return
	}
	span := float64(len(f.counts) - 1)
	total := float64(f.counts[len(f.counts)-1]-f.counts[0]) / span
	metric := total / float64(serving)
	ratio := metric / f.cfg.TargetRPS
	rec := current
	if math.Abs(ratio-1) > f.cfg.Tolerance {
		// ⌈current × metric ÷ target⌉ with the instances still starting
		// counted at no load (as the HPA counts unready pods going up):
		// the total rate over the target.
		rec = int(math.Ceil(total / f.cfg.TargetRPS))
	}
	rec = min(max(rec, f.cfg.Min), f.cfg.Max)
	f.history = append(f.history, recommendation{at: now, desired: rec})
	stable := rec
	keep := f.history[:0]
	for _, h := range f.history {
		if now.Sub(h.at) <= f.cfg.ScaleDownWindow {
			keep = append(keep, h)
			stable = max(stable, h.desired)
		}
	}
	f.history = keep
	target := current
	reason := ""
	switch {
	case rec > current:
		target = rec
		reason = fmt.Sprintf("%.1f req/s per instance over %d serving > target %.1f: ⌈%.1f req/s ÷ %.1f⌉ = %d",
			metric, serving, f.cfg.TargetRPS, total, f.cfg.TargetRPS, rec)
	case stable < current:
		target = stable
		reason = fmt.Sprintf("%.1f req/s per instance < target %.1f; highest recommendation in the last %s is %d",
			metric, f.cfg.TargetRPS, f.cfg.ScaleDownWindow, stable)
	}
	f.desired = target
	if target != current {
		f.events = append(f.events, Event{At: now, From: current, To: target, Metric: metric, Serving: serving, Reason: reason})
	}
	f.mu.Unlock()
	for i := current; i < target; i++ {
		f.start()
	}
	for i := target; i < current; i++ {
		f.stopNewest()
	}
}

// serve proxies r to the next serving instance, round-robin.
func (f *Fleet) serve(w http.ResponseWriter, r *http.Request) {
	f.arrivals.Add(1)
	s := *f.serving.Load()
	if len(s) == 0 {
		http.Error(w, "fleet: no instance serving", http.StatusServiceUnavailable)
		return
	}
	p := s[int(f.rr.Add(1)%uint64(len(s)))]
	p.proxy.ServeHTTP(w, r)
}
