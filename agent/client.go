package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"connectrpc.com/connect"

	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
	"github.com/headroom-sre/headroom/proto/headroom/agent/v1/agentv1connect"
)

// Config is how an agent process runs. Server and Token are required;
// every other zero value has a default.
type Config struct {
	Server string // the server's base URL, http(s)://host:port
	Token  string // a token of role agent
	// Name shows in the server's job pages; default <hostname>-<pid>.
	Name string
	// MaxRate is the iterations/s this agent was calibrated to offer; 0
	// is unknown.
	MaxRate float64
	// Version is the headroom version it reports.
	Version string
	// Jobs is how many jobs the agent runs before it exits; default 1
	// (an agent of one job, as a Kubernetes Job's pod is); -1 serves
	// jobs until ctx ends.
	Jobs int
	// GiveUp bounds how long the server may be unreachable (registering,
	// reconnecting, pushing windows) before the agent exits; default 30s.
	GiveUp time.Duration
	// Client carries the calls; nil is an HTTP/2 client (h2c for http://).
	Client *http.Client
	// Log receives the agent's events; nil is slog.Default().
	Log *slog.Logger
}

func (c Config) withDefaults() (Config, error) {
	if c.Server == "" {
		return c, errors.New("--server: the server's URL is required")
	}
	if c.Token == "" {
		return c, errors.New("--token: an agent token is required (headroom token create --role agent)")
	}
	if c.Name == "" {
		h, _ := os.Hostname()
		c.Name = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	if c.Jobs == 0 {
		c.Jobs = 1
	}
	if c.GiveUp <= 0 {
		c.GiveUp = 30 * time.Second
	}
	if c.Client == nil {
		c.Client = NewHTTPClient()
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c, nil
}

// ErrServerGone is wrapped by Run's error when the server stayed
// unreachable for Config.GiveUp.
var ErrServerGone = errors.New("the server is gone")

// NewHTTPClient is the agent's HTTP/2 client: h2c (prior knowledge) for
// http:// servers, h2 over TLS for https:// ones.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	var p http.Protocols
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true)
	t.Protocols = &p
	t.Proxy = nil
	return &http.Client{Transport: t}
}

// bearer adds the agent token to every call.
type bearer struct {
	next  http.RoundTripper
	token string
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// Run is an agent process: it registers with the server, runs the shares
// it is given, and returns when it has run Config.Jobs jobs (nil), when
// ctx ends, or when the server stayed unreachable for Config.GiveUp.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	tr := cfg.Client.Transport
	if tr == nil {
		tr = http.DefaultTransport
	}
	hc := *cfg.Client
	hc.Transport = bearer{next: tr, token: cfg.Token}
	a := &client{cfg: cfg, rpc: agentv1connect.NewAgentServiceClient(&hc, cfg.Server), log: cfg.Log}
	return a.run(ctx)
}

// client is one agent process's state; the order loop owns it, the
// shares it runs report back through its mutex.
type client struct {
	cfg Config
	rpc agentv1connect.AgentServiceClient
	log *slog.Logger
	id  int64

	mu      sync.Mutex
	pending *share // prepared, waiting for its Start
	running *share
	jobs    int // jobs ended
	wg      sync.WaitGroup
	tmp     string
}

func (a *client) run(ctx context.Context) error {
	tmp, err := os.MkdirTemp("", "headroom-agent-")
	if err != nil {
		return err
	}
	a.tmp = tmp
	defer os.RemoveAll(tmp)
	defer a.wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for {
		if err := a.register(ctx); err != nil {
			return err
		}
		hbCtx, stopHB := context.WithCancel(ctx)
		hbDone := make(chan error, 1)
		go func() { hbDone <- a.heartbeat(hbCtx) }()
		err := a.orders(ctx)
		stopHB()
		hbErr := <-hbDone
		switch {
		case err == nil:
			return nil // its jobs are done
		case ctx.Err() != nil:
			a.stopShares()
			return ctx.Err()
		case connect.CodeOf(err) == connect.CodeNotFound:
			a.log.Warn("the server does not know this agent any more: registering again", "agent", a.id)
			a.stopShares()
			continue
		case errors.Is(err, ErrServerGone) || errors.Is(hbErr, ErrServerGone):
			a.stopShares()
			return err
		}
		return err
	}
}

// register announces the agent, retrying until the server answers or
// GiveUp passes.
func (a *client) register(ctx context.Context) error {
	req := connect.NewRequest(&agentv1.RegisterRequest{Name: a.cfg.Name, Cores: int32(runtime.GOMAXPROCS(0)), MaxRate: a.cfg.MaxRate, Version: a.cfg.Version})
	return a.retry(ctx, "register", func(ctx context.Context) error {
		res, err := a.rpc.Register(ctx, req)
		if err != nil {
			return err
		}
		a.id = res.Msg.GetAgentId()
		a.log.Info("agent registered", "agent", a.id, "server", a.cfg.Server, "name", a.cfg.Name)
		return nil
	})
}

// retry calls fn until it succeeds, fails for a reason retrying cannot
// mend (a refused token, an unknown agent), or GiveUp passes.
func (a *client) retry(ctx context.Context, what string, fn func(context.Context) error) error {
	deadline := time.Now().Add(a.cfg.GiveUp)
	wait := 100 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := fn(cctx)
		cancel()
		if err == nil {
			return nil
		}
		switch connect.CodeOf(err) {
		case connect.CodeUnauthenticated, connect.CodePermissionDenied, connect.CodeNotFound,
			connect.CodeInvalidArgument, connect.CodeFailedPrecondition:
			return fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w: no answer from %s for %s: %v", what, ErrServerGone, a.cfg.Server, a.cfg.GiveUp, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// stopShares cancels the shares the agent holds.
func (a *client) stopShares() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range []*share{a.pending, a.running} {
		if s != nil {
			s.cancel()
		}
	}
	a.pending = nil
}

// tempDir is a fresh folder for one share's plan and data.
func (a *client) tempDir(job, round int64) (string, error) {
	dir := filepath.Join(a.tmp, fmt.Sprintf("job%d-round%d", job, round))
	return dir, os.MkdirAll(dir, 0o700)
}
