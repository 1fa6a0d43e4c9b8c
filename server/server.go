package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// Config is how a Server runs. Every zero value has a working default.
type Config struct {
	// Allow is the server's allow-list on top of each plan's own; nil is
	// DefaultAllow (this machine only).
	Allow []string
	// MaxRate caps every rate a job offers (min with the plan's
	// abort.max_rate); 0 = no cap beyond the plan's.
	MaxRate float64
	// MaxJobs is how many jobs this server runs at once (one per target
	// host in any case); default 2.
	MaxJobs int
	// Owner names this server in the store's job claims; default
	// "<hostname>-<pid>".
	Owner string
	// Poll is how often the runner looks for queued jobs and cancel
	// requests other servers wrote; default 500ms.
	Poll time.Duration
	// ShutdownTimeout bounds how long Serve waits for running jobs to end
	// and connections to close; default 30s.
	ShutdownTimeout time.Duration
	// MaxBody is the largest request body accepted; default 1 MiB.
	MaxBody int64
	// DataDir is where the relative data files (data.<name>.csv) of stored
	// plans are read from at run time; default the working directory.
	DataDir string
	// UI is the dashboard served at /; nil serves none.
	UI fs.FS
	// Logger receives the structured log; nil is slog.Default().
	Logger *slog.Logger
	// WebhookAllow are the hosts review webhooks may POST to (the same forms
	// as Allow); nil is DefaultAllow.
	WebhookAllow []string
	// PublicURL is the base of the links in review webhooks; "" is
	// http://<listen address>.
	PublicURL string

	// PlanEnv are the environment variables a plan's target.env may read
	// (--plan-env); nil is none.
	PlanEnv []string
	// ObserveAllow are where a plan's observe URLs may point (host[:port]
	// entries, --observe-allow); nil is DefaultAllow.
	ObserveAllow []string
	// MaxVUs caps load.max_vus and a closed model's virtual users; a plan
	// asking for more is refused at that field's line. Default 1000.
	MaxVUs int
	// MaxDataBytes and MaxDataRows bound one data file; defaults 16 MiB
	// and 1,000,000 rows.
	MaxDataBytes int64
	MaxDataRows  int
	// MaxConns caps the open connections; one past it is closed at once.
	// Default 512.
	MaxConns int
	// ReadTimeout bounds reading a whole request (headers and body),
	// WriteTimeout writing an answer (the event stream excepted), and
	// IdleTimeout a kept-alive connection between requests. Defaults 30s,
	// 2m and 60s.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MinScheduleInterval is the shortest time between two runs of a
	// schedule; default 1 minute.
	MinScheduleInterval time.Duration
}

func (c Config) withDefaults() Config {
	if c.Allow == nil {
		c.Allow = DefaultAllow
	}
	if c.MaxJobs <= 0 {
		c.MaxJobs = 2
	}
	if c.Owner == "" {
		h, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if c.Poll <= 0 {
		c.Poll = 500 * time.Millisecond
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 1 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ObserveAllow == nil {
		c.ObserveAllow = DefaultAllow
	}
	if c.WebhookAllow == nil {
		c.WebhookAllow = DefaultAllow
	}
	if c.MaxVUs <= 0 {
		c.MaxVUs = 1000
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 512
	}
	c.ReadTimeout = cmp.Or(max(c.ReadTimeout, 0), 30*time.Second)
	c.WriteTimeout = cmp.Or(max(c.WriteTimeout, 0), 2*time.Minute)
	c.IdleTimeout = cmp.Or(max(c.IdleTimeout, 0), 60*time.Second)
	c.MinScheduleInterval = cmp.Or(max(c.MinScheduleInterval, 0), time.Minute)
	return c
}

// Server is the Echo application, its job runner and its metrics, over one
// store.
type Server struct {
	cfg     Config
	st      *store.Store
	log     *slog.Logger
	rules   plan.Rules // what a plan may do here
	own     *ownAddr   // the address Serve listens on
	csp     string     // the dashboard's content security policy
	tickets *tickets   // event-stream tickets
	echo    *echo.Echo
	metrics *metrics
	runner  *runner
	sched   *scheduler
	live    *hub
	windows *windowCache
	pdfSlot chan struct{} // one PDF print at a time
	closing chan struct{} // closed when Serve begins to shut down
}

// New builds a server over st. It does not start the runner; Serve does.
func New(st *store.Store, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.MaxRate < 0 {
		return nil, fmt.Errorf("max rate %g: must not be negative", cfg.MaxRate)
	}
	own := &ownAddr{}
	rules, err := rulesFrom(cfg, own)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		st:      st,
		log:     cfg.Logger,
		rules:   rules,
		own:     own,
		csp:     dashboardCSP(cfg.UI),
		tickets: newTickets(),
		live:    newHub(),
		windows: newWindowCache(),
		pdfSlot: make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	s.metrics = newMetrics(st)
	s.runner = newRunner(s.deps())
	if s.sched, err = newScheduler(s.deps(), cfg); err != nil {
		return nil, err
	}
	s.echo = s.routes()
	return s, nil
}

// Handler is the HTTP handler of the whole server (API, metrics, UI).
func (s *Server) Handler() http.Handler { return s.echo }

// Serve marks the jobs this server's owner left running as interrupted,
// starts the runner and answers on ln until ctx ends. Then it stops
// claiming jobs, cancels the running ones (they end as cancelled, with
// their data written) and closes the connections.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if err := s.Recover(ctx); err != nil {
		return err
	}
	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	runnerDone := make(chan struct{})
	go func() {
		defer close(runnerDone)
		s.runner.loop(runCtx)
	}()
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		s.own.v.Store(a)
	}
	schedDone := s.sched.start(runCtx, ln.Addr())
	hs := &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout, // the event stream lifts its own
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(limitConns(ln, s.cfg.MaxConns, s.metrics.refused)) }()
	s.log.Info("serving", "addr", ln.Addr().String(), "owner", s.cfg.Owner, "allow", s.rules.Load.String(),
		"observe_allow", s.rules.Observe.String(), "plan_env", s.cfg.PlanEnv, "max_rate", s.cfg.MaxRate, "max_vus", s.cfg.MaxVUs)

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.log.Info("shutting down: cancelling running jobs")
	deadline, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	s.runner.shutdown()
	stopRunner()
	<-schedDone
	select {
	case <-runnerDone:
	case <-deadline.Done():
		s.log.Warn("jobs did not end before the shutdown timeout")
	}
	close(s.closing)
	if serr := hs.Shutdown(deadline); serr != nil && err == nil {
		err = serr
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Recover marks every job this server's owner had running as interrupted
// (a server that died left them so) and, with SQLite, every running job
// at all: one file has one server.
func (s *Server) Recover(ctx context.Context) error {
	owner := s.cfg.Owner
	if s.st.Driver() == "sqlite" {
		owner = ""
	}
	n, err := s.st.MarkInterrupted(ctx, owner)
	if err != nil {
		return fmt.Errorf("mark interrupted jobs: %w", err)
	}
	if n > 0 {
		s.log.Warn("jobs left running by an earlier server marked interrupted", "jobs", n)
	}
	return nil
}

// ErrNoAdmin is EnsureAdmin's answer for a store whose admin tokens were
// all revoked: none is made behind the operators' backs.
var ErrNoAdmin = errors.New("the store has no admin token left")

// EnsureAdmin creates an admin token when the store never had a token and
// returns its plaintext, for the caller to hand over once ("" when the
// store had tokens). A store that has tokens but no admin among them gets
// ErrNoAdmin: an admin is made with `headroom token create --role admin`.
func (s *Server) EnsureAdmin(ctx context.Context) (string, error) {
	had, err := s.st.HadTokens(ctx)
	if err != nil {
		return "", fmt.Errorf("count tokens: %w", err)
	}
	if had {
		toks, err := s.st.ListTokens(ctx)
		if err != nil {
			return "", fmt.Errorf("list tokens: %w", err)
		}
		for _, t := range toks {
			if t.Role == store.Admin {
				return "", nil
			}
		}
		return "", ErrNoAdmin
	}
	plain, _, err := s.st.CreateToken(ctx, "admin", store.Admin)
	if err != nil {
		return "", fmt.Errorf("create the first admin token: %w", err)
	}
	return plain, nil
}

// routes wires every path.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.Recover())
	e.Use(s.metrics.middleware)
	e.Use(s.logRequests)
	e.Use(s.securityHeaders)
	e.Use(bodyLimit(s.cfg.MaxBody))

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(s.metrics.handler()))

	s.routeOpenAPI(e)
	api := e.Group("/api/v1", s.authenticate)
	viewer, operator, admin := require(store.Viewer), require(store.Operator), require(store.Admin)
	api.GET("/me", s.me, viewer)

	api.POST("/plans", s.createPlan, operator)
	api.POST("/plans/validate", s.validatePlan, viewer)
	api.GET("/plans", s.listPlans, viewer)
	api.GET("/plans/:id", s.getPlan, viewer)
	api.POST("/plans/:id/versions", s.addPlanVersion, operator)
	api.PUT("/plans/:id/baseline", s.setBaseline, operator)
	api.GET("/plans/:id/baseline", s.getBaseline, viewer)

	api.POST("/jobs", s.createJob, operator)
	api.GET("/jobs", s.listJobs, viewer)
	api.GET("/jobs/:id", s.getJob, viewer)
	api.GET("/jobs/:id/result", s.getResult, viewer)
	api.GET("/jobs/:id/windows", s.getWindows, viewer)
	api.GET("/jobs/:id/steps", s.getSteps, viewer)
	api.GET("/jobs/:id/findings", s.getFindings, viewer)
	api.GET("/jobs/:id/events", s.streamEvents, viewer)
	api.POST("/jobs/:id/events/ticket", s.createTicket, viewer)
	api.POST("/jobs/:id/cancel", s.cancelJob, operator)
	api.GET("/jobs/:id/report", s.getReport, viewer)
	api.GET("/jobs/:id/profiles", s.getProfiles, viewer)
	api.GET("/jobs/:id/profiles/:pid", s.getProfile, viewer)
	api.GET("/jobs/:id/profiles/:pid/flame", s.getFlame, viewer)

	api.GET("/compare", s.compareJobs, viewer)

	api.GET("/tokens", s.listTokens, admin)
	api.POST("/tokens", s.createToken, admin)
	api.DELETE("/tokens/:id", s.revokeToken, admin)

	s.routeSchedules(api, viewer, admin)
	api.Any("/*", func(c echo.Context) error { return echo.ErrNotFound })
	if s.cfg.UI != nil {
		s.routeUI(e)
	}
	return e
}

// logRequests writes one structured line per request.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status, _ = classify(err)
		}
		lvl := slog.LevelDebug
		if status >= 500 {
			lvl = slog.LevelWarn
		}
		s.log.Log(c.Request().Context(), lvl, "request", "method", c.Request().Method, "path", c.Request().URL.Path,
			"status", status, "ms", float64(time.Since(start).Microseconds())/1000)
		return err
	}
}
