package obs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config says where the stack keeps its state and what Prometheus scrapes.
// Targets are "host:port" on loopback; the stack's own ports are always free
// ones picked by Start, so tests never collide with a running demo.
type Config struct {
	// Dir is the state folder (configs, PIDs, logs, TSDB); required. Tests
	// pass t.TempDir().
	Dir string
	// ScrapeShop, ScrapeFront and ScrapeHeadroom are scraped every second as
	// the jobs "shop", "front" and "headroom".
	ScrapeShop, ScrapeFront, ScrapeHeadroom []string
	// ScrapePostgres, ScrapePgBouncer, ScrapeNode and ScrapeProcess are the
	// database tier's exporters (DB.Targets), scraped as the jobs
	// "postgres", "pgbouncer", "node" and "process".
	ScrapePostgres, ScrapePgBouncer, ScrapeNode, ScrapeProcess []string
	// MaxTraces is how many traces the trace store keeps (the newest; it
	// drops the oldest first); zero means the scripts' default, sized to a
	// whole demo study. Tests of eviction pass a few thousand.
	MaxTraces int
	// ReadyTimeout bounds the wait for readiness; zero means 30s.
	ReadyTimeout time.Duration
	// Root is the repository root holding scripts/; empty means found
	// from this package's source path or $HEADROOM_ROOT.
	Root string
}

// Stack is a running Prometheus and Jaeger pair started by Start.
type Stack struct {
	// PrometheusURL is Prometheus's base URL, e.g. "http://127.0.0.1:41234".
	PrometheusURL string
	// TracesURL is the base URL of Jaeger's query API (GET /api/traces/<id>).
	TracesURL string
	// OTLPEndpoint is the OTLP/HTTP receiver as "127.0.0.1:<port>", the form
	// otlptracehttp.WithEndpoint takes.
	OTLPEndpoint string

	root, dir string
	stopOnce  sync.Once
	stopErr   error
}

// portNames are the scripts' port variables, in the order Start fills them.
var portNames = []string{"OBS_PROM_PORT", "OBS_TRACES_PORT", "OBS_TRACES_GRPC_PORT", "OBS_OTLP_PORT", "OBS_HEALTH_PORT"}

// Start runs scripts/obs-up with free loopback ports and cfg's targets, and
// returns once Prometheus and Jaeger are ready. The caller must Stop it; if
// this process exits without doing so (a test killed by its timeout), the
// stack stops itself about a second later.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	env, err := cfg.env()
	if err != nil {
		return nil, err
	}
	root, err := findRoot(cfg.Root)
	if err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("obs: Config.Dir %q: %w", cfg.Dir, err)
	}
	s := &Stack{root: root, dir: dir}
	// A port picked free can be taken before the servers bind it; obs-up
	// then refuses it and a new set is picked.
	const attempts = 3
	for i := 1; ; i++ {
		ports, err := freePorts(len(portNames))
		if err != nil {
			return nil, err
		}
		runEnv := append([]string{"OBS_DIR=" + dir, "OBS_STOP_WITH_PID=" + strconv.Itoa(os.Getpid())}, env...)
		for j, name := range portNames {
			runEnv = append(runEnv, name+"="+strconv.Itoa(ports[j]))
		}
		out, err := s.script(ctx, "obs-up", runEnv)
		if err == nil {
			s.PrometheusURL = "http://127.0.0.1:" + strconv.Itoa(ports[0])
			s.TracesURL = "http://127.0.0.1:" + strconv.Itoa(ports[1])
			s.OTLPEndpoint = "127.0.0.1:" + strconv.Itoa(ports[3])
			return s, nil
		}
		// obs-up stops what it started when readiness fails, but not when
		// ctx killed it halfway.
		_ = s.down()
		if i < attempts && strings.Contains(out, "already in use") && ctx.Err() == nil {
			continue
		}
		return nil, fmt.Errorf("obs: scripts/obs-up: %w\n%s", err, out)
	}
}

// Stop stops Prometheus and Jaeger by the PIDs obs-up recorded (SIGTERM,
// then SIGKILL after a grace period). It is safe to call more than once.
func (s *Stack) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.down() })
	return s.stopErr
}

// down runs scripts/obs-down for the stack's state folder.
func (s *Stack) down() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := s.script(ctx, "obs-down", []string{"OBS_DIR=" + s.dir})
	if err != nil {
		return fmt.Errorf("obs: scripts/obs-down: %w\n%s", err, out)
	}
	return nil
}

// script runs scripts/<name> with extra environment and returns its output.
func (s *Stack) script(ctx context.Context, name string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.root, "scripts", name))
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.String(), err
}

// env validates cfg and renders it as the scripts' environment.
func (cfg Config) env() ([]string, error) {
	if cfg.Dir == "" {
		return nil, errors.New("obs: Config.Dir is empty (tests pass t.TempDir())")
	}
	if cfg.ReadyTimeout < 0 {
		return nil, fmt.Errorf("obs: Config.ReadyTimeout %v is negative", cfg.ReadyTimeout)
	}
	timeout := cfg.ReadyTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if cfg.MaxTraces < 0 {
		return nil, fmt.Errorf("obs: Config.MaxTraces %d is negative", cfg.MaxTraces)
	}
	env := []string{"OBS_READY_TIMEOUT=" + strconv.Itoa(int((timeout+time.Second-1)/time.Second))}
	if cfg.MaxTraces > 0 {
		env = append(env, "OBS_MAX_TRACES="+strconv.Itoa(cfg.MaxTraces))
	}
	jobs := []struct {
		field, name string
		targets     []string
	}{
		{"ScrapeShop", "OBS_SCRAPE_SHOP", cfg.ScrapeShop},
		{"ScrapeFront", "OBS_SCRAPE_FRONT", cfg.ScrapeFront},
		{"ScrapeHeadroom", "OBS_SCRAPE_HEADROOM", cfg.ScrapeHeadroom},
		{"ScrapePostgres", "OBS_SCRAPE_POSTGRES", cfg.ScrapePostgres},
		{"ScrapePgBouncer", "OBS_SCRAPE_PGBOUNCER", cfg.ScrapePgBouncer},
		{"ScrapeNode", "OBS_SCRAPE_NODE", cfg.ScrapeNode},
		{"ScrapeProcess", "OBS_SCRAPE_PROCESS", cfg.ScrapeProcess},
	}
	for _, job := range jobs {
		for i, target := range job.targets {
			if err := checkTarget(target); err != nil {
				return nil, fmt.Errorf("obs: Config.%s[%d] %q: %w", job.field, i, target, err)
			}
		}
		env = append(env, job.name+"="+strings.Join(job.targets, ","))
	}
	return env, nil
}

// checkTarget accepts "host:port" with a loopback host.
func checkTarget(target string) error {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return errors.New("want host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not 1-65535", port)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("host %q is not loopback (127.0.0.1, localhost or ::1)", host)
	}
	return nil
}

// freePorts returns n distinct TCP ports that were free on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("obs: picking a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
