package generator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/plan"
)

// Options tune one run; the zero value runs the plan's own load profile.
type Options struct {
	BaseURL  string       // overrides plan.Target.BaseURL; its host must be allowed by the plan (else error)
	Load     *plan.Load   // overrides plan.Load (the capacity engine passes constant-rate stages)
	OnSecond func(Second) // called after each 1 s window closes, in time order, from one goroutine; it must not retain the *hdrhistogram.Histogram pointers past the call (copy/merge them)

	// Warn receives one-time warnings (a rate capped by abort.max_rate, data
	// rows run out). nil writes them to os.Stderr.
	Warn func(msg string)
	// LookupEnv reads the environment variables listed in target.env. nil
	// uses os.LookupEnv.
	LookupEnv func(name string) (string, bool)

	// Split makes this run one agent's part of a fleet's load. In the
	// open model it takes arrivals Split.Index, Index+Count, … of the
	// plan's schedule, so Count runs together offer exactly its rate; in
	// the closed model it runs users Index, Index+Count, … of the plan's
	// target, so Count runs together hold exactly its users, and each
	// paces its starts at its users' share of abort.max_rate (paceRate).
	// The zero value takes everything.
	Split Split
	// StartAt, when set, is the instant the load begins (the engine is
	// compiled and ready before it), so a fleet's agents start together;
	// an instant already past starts at once.
	StartAt time.Time
}

// Split is one share of a fleet's load: of an open-model schedule,
// arrivals Index, Index+Count, …; of a closed model's users, users Index,
// Index+Count, ….
type Split struct {
	Index, Count int
}

// check validates a split.
func (s Split) check() *plan.Error {
	switch {
	case s.Count == 0 && s.Index == 0:
		return nil
	case s.Count < 1 || s.Index < 0 || s.Index >= s.Count:
		return &plan.Error{Field: "split", Msg: fmt.Sprintf("share %d of %d: want 0 ≤ index < count", s.Index, s.Count)}
	}
	return nil
}

// of is how many shares there are (1 when not split).
func (s Split) of() int { return max(s.Count, 1) }

// users is this share's part of n closed-model users: how many of 0 … n-1
// are Index plus a multiple of Count. The shares' parts add up to n.
func (s Split) users(n int) int {
	if s.Count <= 1 {
		return n
	}
	if n <= s.Index {
		return 0
	}
	return (n - s.Index + s.Count - 1) / s.Count
}

// Result is what a run measured.
type Result struct {
	Start   time.Time      `json:"start"`
	End     time.Time      `json:"end"`
	Summary Summary        `json:"summary"`           // overall
	ByName  []Summary      `json:"by_name"`           // per request name, sorted by name
	Seconds []SecondRecord `json:"windows"`           // one compact record per second
	Aborted string         `json:"aborted,omitempty"` // why an abort rule stopped the run; "" if it ran to the end
	// CappedAt is abort.max_rate when it held the load back: the open
	// model's profile asked for more, or the closed model's users would
	// have started more iterations a second; 0 when it did not.
	CappedAt float64                 `json:"capped_at,omitempty"`
	Hist     *hdrhistogram.Histogram `json:"-"` // merged overall histogram (µs)
}

// Run sends the plan's load (or opts.Load) to the plan's target (or
// opts.BaseURL) and returns what it measured. It returns an error only for
// a bad plan, options or data file, before any load is sent; a cancelled
// or aborted run returns what it has, with Result.Aborted saying why an
// abort rule stopped it.
func Run(ctx context.Context, p *plan.Plan, opts Options) (*Result, error) {
	e, err := newEngine(ctx, p, opts)
	if err != nil {
		return nil, err
	}
	defer e.transport.CloseIdleConnections()
	return e.run(ctx), nil
}

// engine is one run's compiled plan and shared state.
type engine struct {
	plan     *plan.Plan
	opts     Options
	load     plan.Load
	prof     profile
	base     string
	journeys []*journey
	weights  []int // cumulative
	names    []string
	steps    int
	data     *dataSet
	env      map[string]string

	transport *http.Transport
	// The users' own connections (h1.go, h1_tls.go, h2.go): the base URL's
	// scheme and host ("" when net/http serves everything), whether each
	// user may hold its own HTTP/1.1 connection, the TLS settings they
	// share, and the HTTP/2 pool when the target speaks h2.
	ownScheme, ownHost string
	ownH1              bool
	tlsSessions        tls.ClientSessionCache
	roots              *x509.CertPool // nil: the system's
	tlsH1              *tls.Config
	h2                 *h2Pool
	shards             []*shard
	grace              time.Duration // longest request timeout

	start    time.Time
	loadCtx  context.Context // ends with the profile, an abort or the caller
	stopLoad context.CancelFunc
	reqCtx   context.Context // ends requests in flight
	stopReqs context.CancelFunc
	pace     *pacer         // closed model under abort.max_rate; nil otherwise
	cappedAt float64        // open model: abort.max_rate when it capped the profile
	cutoffs  []atomic.Int64 // per request name: requests the run cut off
	users    atomic.Int64   // virtual users (open: the pool; closed: running)
	dropped  atomic.Int64
	target   atomic.Int64 // closed model: users that should run
	stopping atomic.Bool  // set once loadCtx (or reqCtx) is done; read through stopped()
	wg       sync.WaitGroup
	warned   sync.Map // warning key → struct{}
}

func newEngine(ctx context.Context, p *plan.Plan, opts Options) (*engine, error) {
	if p == nil {
		return nil, fmt.Errorf("generator: no plan")
	}
	e := &engine{plan: p, opts: opts, load: p.Load}
	if opts.Load != nil {
		e.load = *opts.Load
	}
	if err := validateLoad(e.load); err != nil {
		err.File = p.File
		return nil, err
	}
	if err := opts.Split.check(); err != nil {
		err.File = p.File
		return nil, err
	}
	if e.load.MaxVUs == 0 {
		e.load.MaxVUs = 1000
	}
	if e.opts.Warn == nil {
		e.opts.Warn = func(msg string) { fmt.Fprintln(os.Stderr, "headroom: warning:", msg) }
	}
	base, err := e.baseURL()
	if err != nil {
		return nil, err
	}
	e.base = base
	maxRate := 0.0
	if e.load.Model == "open" {
		maxRate = p.Abort.MaxRate
	}
	prof, capped := newProfile(e.load, maxRate)
	e.prof = prof
	if capped {
		e.cappedAt = maxRate
		e.warn("max_rate", fmt.Sprintf("the load profile asks for more than abort.max_rate %g/s; the offered rate is capped at %g/s", maxRate, maxRate))
	}
	if e.data, err = loadData(ctx, p); err != nil {
		return nil, err
	}
	e.env = readEnv(p.Target.Env, opts.LookupEnv)
	if e.journeys, e.names, err = compileJourneys(p, e.base, e.data, e.env); err != nil {
		return nil, err
	}
	e.cutoffs = make([]atomic.Int64, len(e.names))
	total := 0
	for _, j := range e.journeys {
		total += j.weight
		e.weights = append(e.weights, total)
		e.steps += len(j.steps)
		for _, st := range j.steps {
			e.grace = max(e.grace, st.timeout)
		}
	}
	users := e.maxUsers()
	if e.roots, err = rootCAs(p); err != nil {
		return nil, err
	}
	e.transport = newTransport(p, users, strings.HasPrefix(e.base, "https:"), e.roots)
	e.ownScheme, e.ownHost, e.ownH1 = e.ownTarget()
	n := min(max(users, 1), 4*runtime.GOMAXPROCS(0), 16)
	for range n {
		e.shards = append(e.shards, newShard(len(e.names)))
	}
	return e, nil
}

// baseURL picks and checks the base URL requests are relative to.
func (e *engine) baseURL() (string, error) {
	field, raw := "target.base_url", e.plan.Target.BaseURL
	if e.opts.BaseURL != "" {
		field, raw = "base URL override", e.opts.BaseURL
	}
	if raw == "" {
		return "", &plan.Error{File: e.plan.File, Field: field, Msg: "no base URL"}
	}
	u, err := parseURL(raw)
	if err != nil {
		return "", &plan.Error{File: e.plan.File, Field: field, Msg: err.Error()}
	}
	if !e.plan.Allowed(u.Hostname()) {
		return "", &plan.Error{File: e.plan.File, Field: field, Msg: fmt.Sprintf("host %q is not allowed by the plan (target.allow)", u.Hostname())}
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// maxUsers is the most virtual users the profile can use.
func (e *engine) maxUsers() int {
	if e.load.Model == "closed" {
		return e.opts.Split.users(int(e.prof.peak() + 0.5)) // this share's, on an agent
	}
	return e.load.MaxVUs
}

// paceRate is this run's part of abort.max_rate in the closed model: all
// of it, or on an agent the share of it its users are of the plan's peak
// (2 of 4 users: half), so a fleet whose users do not divide evenly still
// starts up to the whole rate. 0 when this share has no users.
func (e *engine) paceRate() float64 {
	r := e.plan.Abort.MaxRate
	all := int(e.prof.peak() + 0.5)
	if e.opts.Split.of() == 1 || all == 0 {
		return r
	}
	return r * float64(e.opts.Split.users(all)) / float64(all)
}

func readEnv(names []string, lookup func(string) (string, bool)) map[string]string {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := make(map[string]string, len(names))
	for _, n := range names {
		v, _ := lookup(n)
		env[n] = v
	}
	return env
}

// warn passes msg to the warning hook once per key.
func (e *engine) warn(key, msg string) {
	if _, seen := e.warned.LoadOrStore(key, struct{}{}); !seen {
		e.opts.Warn(msg)
	}
}

// pick chooses a journey by weight.
func (e *engine) pick(r *rng) *journey {
	if len(e.journeys) == 1 {
		return e.journeys[0]
	}
	n := r.intn(e.weights[len(e.weights)-1])
	for i, w := range e.weights {
		if n < w {
			return e.journeys[i]
		}
	}
	return e.journeys[len(e.journeys)-1]
}

// run drives the profile to its end (or an abort or ctx), waits for the
// requests in flight at most their timeout, and returns the Result.
func (e *engine) run(ctx context.Context) *Result {
	e.reqCtx, e.stopReqs = context.WithCancel(ctx)
	defer e.stopReqs()
	e.setupTLS(e.reqCtx)
	if e.h2 != nil {
		e.h2.start(e.reqCtx)
	}
	if d := time.Until(e.opts.StartAt); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-e.reqCtx.Done():
			t.Stop()
		}
	}
	e.start = time.Now()
	end := e.start.Add(time.Duration(e.prof.total * float64(time.Second)))
	e.loadCtx, e.stopLoad = context.WithDeadline(e.reqCtx, end)
	defer e.stopLoad()
	go func() {
		<-e.loadCtx.Done()
		e.stopping.Store(true)
	}()

	c := newCollector(e)
	go c.loop()
	if e.load.Model == "open" {
		e.runOpen()
	} else {
		if r := e.paceRate(); r > 0 {
			e.pace = newPacer(r, e.start)
		}
		e.runClosed()
	}
	<-e.loadCtx.Done()
	e.waitUsers()
	return c.finish()
}

// stopped reports whether the load has stopped (the profile ended, an
// abort fired or the caller cancelled). The flag makes the common answer a
// single atomic load; the channel makes it exact.
func (e *engine) stopped() bool {
	if e.stopping.Load() {
		return true
	}
	select {
	case <-e.loadCtx.Done():
		e.stopping.Store(true)
		return true
	default:
		return false
	}
}

// stopRequests stops the load, then cancels the requests in flight.
func (e *engine) stopRequests() {
	e.stopLoad()
	e.stopReqs()
}

// waitUsers waits for the virtual users to finish their requests in
// flight, at most the longest request timeout, then cancels what is left.
func (e *engine) waitUsers() {
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(e.grace)
	defer t.Stop()
	select {
	case <-done:
		return
	case <-t.C:
	case <-e.reqCtx.Done():
	}
	e.stopReqs()
	<-done
}

// dataFor returns the template data of virtual user id, or ok=false when the
// data rows have run out.
func (e *engine) dataFor(id int) (row map[string]map[string]string, ok bool) {
	row, ok = e.data.row(id)
	if !ok {
		e.warn("data", fmt.Sprintf("the data files have %d rows; virtual users beyond that cannot start (counted as data_exhausted errors)", e.data.limit))
	}
	return row, ok
}
