package main

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
	"syscall"
	"time"
)

// measurement is one tool's run against a fresh target.
type measurement struct {
	Tool      string
	Report    report        // what the tool says
	Usage     usage         // what /usr/bin/time -v measured of the tool
	Target    targetCounts  // what the target counted
	TargetCPU time.Duration // CPU the target used while the tool ran

	// Others* are the shares of the generator's and the target's CPUs that
	// other processes took while the tool ran.
	OthersGen, OthersTarget float64
}

// measure starts a fresh target, runs t against it pinned to the generator
// CPUs under /usr/bin/time -v, stops the target and gathers the figures.
func measure(ctx context.Context, cfg config, t tool, work string) (measurement, error) {
	m := measurement{Tool: t.Name}
	target, err := startTarget(ctx, cfg)
	if err != nil {
		return m, err
	}
	defer target.stop() // on every early return; stop is idempotent
	cpuBefore, err := processCPU(target.cmd.Process.Pid)
	if err != nil {
		return m, err
	}

	timeFile := filepath.Join(work, t.Name+".time")
	argv := append([]string{"/usr/bin/time", "-v", "-o", timeFile}, t.Args...)
	if cfg.GenCPUs != "" {
		argv = append([]string{"taskset", "-c", cfg.GenCPUs}, argv...)
	}
	genBefore, err := sampleCPUs(cfg.GenCPUs)
	if err != nil {
		return m, err
	}
	targetBefore, err := sampleCPUs(cfg.TargetCPUs)
	if err != nil {
		return m, err
	}
	runCtx, cancel := context.WithTimeout(ctx, time.Duration(cfg.Seconds)*time.Second+90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	killGroupOnCancel(cmd)
	runErr := cmd.Start()
	if runErr == nil {
		stopAnon := make(chan struct{})
		anon := watchAnon(cmd.Process.Pid, stopAnon)
		runErr = cmd.Wait()
		close(stopAnon)
		m.Usage.PeakAnonKB = <-anon
	}

	cpuAfter, cpuErr := processCPU(target.cmd.Process.Pid)
	genAfter, genErr := sampleCPUs(cfg.GenCPUs)
	targetAfter, targetErr := sampleCPUs(cfg.TargetCPUs)
	counts, stopErr := target.stop()
	if runErr != nil {
		return m, fmt.Errorf("%s: %v\n%s", t.Name, runErr, tail(stderr.String(), 2000))
	}
	if cpuErr != nil {
		return m, cpuErr
	}
	if err := errors.Join(stopErr, genErr, targetErr); err != nil {
		return m, err
	}
	m.Target, m.TargetCPU = counts, cpuAfter-cpuBefore

	timeOut, err := os.ReadFile(timeFile)
	if err != nil {
		return m, fmt.Errorf("%s: %w", t.Name, err)
	}
	anonKB := m.Usage.PeakAnonKB
	if m.Usage, err = parseTimeV(timeOut); err != nil {
		return m, fmt.Errorf("%s: %w", t.Name, err)
	}
	m.Usage.PeakAnonKB = anonKB
	reportOut := stdout.Bytes()
	if t.ReportFile != "" {
		if reportOut, err = os.ReadFile(t.ReportFile); err != nil {
			return m, fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	if m.Report, err = t.Parse(reportOut); err != nil {
		return m, fmt.Errorf("%w\n%s", err, tail(stdout.String()+stderr.String(), 2000))
	}
	toolJiffies, targetJiffies := jiffies(m.Usage.CPU), jiffies(m.TargetCPU)
	if cfg.GenCPUs == cfg.TargetCPUs { // the same CPUs: both are ours
		toolJiffies += targetJiffies
		targetJiffies = toolJiffies
	}
	m.OthersGen = othersShare(genBefore, genAfter, toolJiffies)
	m.OthersTarget = othersShare(targetBefore, targetAfter, targetJiffies)
	return m, nil
}

// targetProcess is a running bench/target.
type targetProcess struct {
	cmd     *exec.Cmd
	stdout  bytes.Buffer
	stderr  bytes.Buffer
	stopped bool
	counts  targetCounts
	err     error
}

// startTarget starts bench/target on the target CPUs and returns once it
// accepts connections. It refuses a port something else already serves,
// so no other server's figures can stand in for the target's.
func startTarget(ctx context.Context, cfg config) (*targetProcess, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port))
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("-port %d: something already listens on %s; pick a free port", cfg.Port, addr)
	}
	argv := []string{cfg.Target, "-addr", addr, "-mode", targetMode(cfg)}
	if cfg.Proto == protoHTTPS || cfg.Proto == protoH2 {
		argv = append(argv, "-tls")
	}
	if cfg.TargetCPUs != "" {
		argv = append([]string{"taskset", "-c", cfg.TargetCPUs}, argv...)
	}
	p := &targetProcess{cmd: exec.Command(argv[0], argv[1:]...)}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if err := waitListening(ctx, addr, 10*time.Second); err != nil {
		p.stop()
		return nil, fmt.Errorf("target: %w\n%s", err, tail(p.stderr.String(), 2000))
	}
	return p, nil
}

// stop ends the target with SIGTERM (SIGKILL if it lingers) and returns the
// counts it printed.
func (p *targetProcess) stop() (targetCounts, error) {
	if p.stopped {
		return p.counts, p.err
	}
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		err = errors.New("did not stop within 10s of SIGTERM; killed")
	}
	if err != nil {
		p.err = fmt.Errorf("target: %v\n%s", err, tail(p.stderr.String(), 2000))
		return p.counts, p.err
	}
	p.counts, p.err = parseTargetCounts(p.stdout.Bytes())
	return p.counts, p.err
}

// waitListening polls addr until it accepts a connection or the deadline passes.
func waitListening(ctx context.Context, addr string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening after %s: %w", addr, within, err)
		case <-tick.C:
		}
	}
}

// killGroupOnCancel runs cmd in its own process group and kills that group
// (the tool and everything it started) when cmd's context ends.
func killGroupOnCancel(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
}

// clockTicks is Linux's fixed USER_HZ, the unit of /proc/<pid>/stat times.
const clockTicks = 100

// processCPU is the user+system CPU pid has used so far.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("target CPU: %w", err)
	}
	return parseProcStatCPU(b)
}

// parseProcStatCPU reads utime and stime (fields 14 and 15) of /proc/<pid>/stat.
func parseProcStatCPU(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("target CPU: /proc stat without a command name")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("target CPU: /proc stat too short")
	}
	var ticks int64
	for _, s := range f[11:13] { // fields 14 and 15; f[0] is field 3
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("target CPU: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// jiffies converts CPU time to /proc's clock ticks.
func jiffies(d time.Duration) int64 {
	return int64(d * clockTicks / time.Second)
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
