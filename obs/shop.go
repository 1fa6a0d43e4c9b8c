package obs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ShopConfig says how to run the demo shop as a process of its own
// (`headroom demo shop`), for tests in which the shop must not share the
// test's process: under a CPU quota (--cpu-limit), which holds back every
// thread of the process it is set on.
type ShopConfig struct {
	// Dir holds the binary, the shop's database and its log; required.
	Dir string
	// Addr is the loopback host:port to listen on; "" picks a free port.
	// Pick it (FreeAddr) before Start when Prometheus must scrape it.
	Addr string
	// Args are more flags of `headroom demo shop`, e.g. --cpu-limit 0.5,
	// --otlp, --service, --products.
	Args []string
	// Root is the repository root; "" finds it as Start does.
	Root string
}

// ShopProcess is a running `headroom demo shop` started by StartShop.
type ShopProcess struct {
	// URL is its base URL, e.g. "http://127.0.0.1:41235".
	URL string
	// Addr is the host:port it listens on (its Prometheus instance label).
	Addr string
	// PID is its process ID.
	PID int
	// Log is the file its output goes to.
	Log string

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// FreeAddr returns a loopback host:port that was free just now.
func FreeAddr() (string, error) {
	ports, err := freePorts(1)
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(ports[0]), nil
}

// StartShop builds the headroom command into cfg.Dir, starts `headroom demo
// shop --addr ... cfg.Args...` and returns once it answers /healthz. The
// caller must Stop it; a test process that dies first takes it along
// (SIGTERM on the parent's death).
func StartShop(ctx context.Context, cfg ShopConfig) (*ShopProcess, error) {
	if cfg.Dir == "" {
		return nil, errors.New("obs: ShopConfig.Dir is empty (tests pass t.TempDir())")
	}
	root, err := findRoot(cfg.Root)
	if err != nil && cfg.Root != "" {
		return nil, fmt.Errorf("obs: ShopConfig.Root %q has no scripts/obs-up", cfg.Root)
	}
	if err != nil {
		return nil, err
	}
	addr := cfg.Addr
	if addr == "" {
		if addr, err = FreeAddr(); err != nil {
			return nil, err
		}
	}
	if err := checkTarget(addr); err != nil {
		return nil, fmt.Errorf("obs: ShopConfig.Addr %q: %w", addr, err)
	}
	bin, err := buildHeadroom(ctx, root, cfg.Dir)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.Dir, "shop-"+addrFileName(addr)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("obs: %w", err)
	}
	defer logFile.Close()
	args := append([]string{"demo", "shop", "--addr", addr,
		"--db", filepath.Join(cfg.Dir, "shop-"+addrFileName(addr)+".db")}, cfg.Args...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("obs: starting %s: %w", bin, err)
	}
	p := &ShopProcess{URL: "http://" + addr, Addr: addr, PID: cmd.Process.Pid, Log: logPath, cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := p.waitHealthy(ctx); err != nil {
		_ = p.Stop()
		return nil, err
	}
	return p, nil
}

// waitHealthy polls /healthz until it answers 200, failing early when the
// process exits (its log says why, e.g. a CPU limit without cgroups).
func (p *ShopProcess) waitHealthy(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		if _, status, err := get(ctx, p.URL+"/healthz"); err == nil && status == http.StatusOK {
			return nil
		}
		select {
		case <-p.exited:
			out, _ := os.ReadFile(p.Log)
			return fmt.Errorf("obs: the shop (PID %d) exited before it was ready: %v\n%s", p.PID, p.waitErr, out)
		case <-ctx.Done():
			return fmt.Errorf("obs: the shop (PID %d) did not answer %s/healthz: %w", p.PID, p.URL, ctx.Err())
		case <-time.After(pollEvery):
		}
	}
}

// Stop sends SIGTERM (the shop shuts down gracefully: its CPU-limit cgroup
// is removed), waits up to 15 s, then kills it. It returns an error when the
// shop did not exit cleanly. It is safe to call more than once.
func (p *ShopProcess) Stop() error {
	p.stopOnce.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
			p.stopErr = fmt.Errorf("obs: the shop (PID %d) did not stop within 15 s of SIGTERM; killed", p.PID)
			return
		}
		if p.waitErr != nil {
			out, _ := os.ReadFile(p.Log)
			p.stopErr = fmt.Errorf("obs: the shop (PID %d) exited with %v:\n%s", p.PID, p.waitErr, out)
		}
	})
	return p.stopErr
}

// buildHeadroom builds ./cmd/headroom into dir/headroom (Go's build cache
// makes a second build cheap).
func buildHeadroom(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "headroom")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	gobin := "go"
	if _, err := exec.LookPath(gobin); err != nil {
		gobin = "/usr/local/go/bin/go"
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "./cmd/headroom")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("obs: go build ./cmd/headroom: %w\n%s", err, out)
	}
	return bin, nil
}

// addrFileName is host:port as a file name part.
func addrFileName(addr string) string {
	b := []byte(addr)
	for i, c := range b {
		if c == ':' || c == '[' || c == ']' {
			b[i] = '_'
		}
	}
	return string(b)
}
