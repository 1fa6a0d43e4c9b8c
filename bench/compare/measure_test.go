package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// buildTarget compiles bench/target for the test.
func buildTarget(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "target")
	out, err := exec.Command("go", "build", "-o", bin, "../target").CombinedOutput()
	if err != nil {
		t.Fatalf("go build ../target: %v\n%s", err, out)
	}
	return bin
}

// freePort is a loopback port nothing listened on a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestMeasureCountsWhatAFakeToolSent(t *testing.T) {
	for _, need := range []string{"/usr/bin/time", "bash"} {
		if _, err := exec.LookPath(need); err != nil {
			t.Skipf("%s not installed", need)
		}
	}
	cfg := config{Seconds: 1, Conns: 1, Port: freePort(t), TargetMode: "raw", Target: buildTarget(t)}
	// The fake tool sends three pipelined requests over bash's /dev/tcp,
	// reads the three responses, and prints a wrk-style report.
	script := fmt.Sprintf(`exec 3<>/dev/tcp/127.0.0.1/%d
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nConnection: close\r\n\r\n' >&3
n=$(grep -o 'HTTP/1.1 200' <&3 | wc -l)
echo "  $n requests in 0.01s, 1KB read"
echo "Requests/sec: 300.00"`, cfg.Port)
	fake := tool{Name: "fake", Args: []string{"bash", "-c", script}, Parse: parseWrk}
	began := time.Now()
	m, err := measure(context.Background(), cfg, fake, t.TempDir())
	took := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	// Two connections: the tool's and the readiness probe's.
	if m.Report.Requests != 3 || m.Target.Requests != 3 || m.Target.Connections != 2 {
		t.Errorf("tool saw %d, target counted %d on %d connections; want 3, 3 on 2",
			m.Report.Requests, m.Target.Requests, m.Target.Connections)
	}
	// GNU time prints the wall time in hundredths of a second: a fast tool
	// reads 0:00.00. What holds at any speed: it was read (parseTimeV
	// requires the line), and it is no longer than measure took, within
	// that resolution.
	if m.Usage.MaxRSSKB <= 0 || m.Usage.PeakAnonKB <= 0 || m.Usage.PeakAnonKB > m.Usage.MaxRSSKB {
		t.Errorf("usage = %+v, want a positive RSS and a positive anon part of it", m.Usage)
	}
	if m.Usage.Wall < 0 || m.Usage.Wall > took+10*time.Millisecond {
		t.Errorf("wall time %s, want 0 to %s (measure's own duration)", m.Usage.Wall, took+10*time.Millisecond)
	}
	// The target is gone: its port no longer answers.
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Port), time.Second); err == nil {
		c.Close()
		t.Error("target still listening after measure returned")
	}
}

func TestMeasureRefusesAPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := config{Seconds: 1, Conns: 1, Port: ln.Addr().(*net.TCPAddr).Port, TargetMode: "raw", Target: "/nonexistent"}
	_, err = measure(context.Background(), cfg, tool{Name: "none"}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "-port") {
		t.Errorf("err = %v, want one naming -port", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-seconds", "0"}, "-seconds"},
		{[]string{"-conns", "-1"}, "-conns"},
		{[]string{"-port", "80"}, "-port"},
		{[]string{"-repeat", "0"}, "-repeat"},
		{[]string{"-target-mode", "fast"}, "-target-mode"},
		{[]string{"-tools", "ab"}, "-tools"},
		{[]string{"-tools", ","}, "-tools"},
		{[]string{"-gen-cpus", "0;rm"}, "-gen-cpus"},
		{[]string{"-tools", "wrk", "-wrk", "/nonexistent/wrk"}, "-wrk"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit code = %d, want 2 (stderr %q)", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not name %s", stderr.String(), tt.want)
			}
		})
	}
}
