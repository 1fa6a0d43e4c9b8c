package derive_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// nginx is Debian's nginx run as a child process of the test: one process
// (master_process off), its own config, logs and temp folders in dir, on a
// free loopback port.
type nginx struct {
	URL      string
	Combined string // access log in the combined format
	JSON     string // access log as JSON lines (with $msec and the visitor cookie)
	ErrorLog string
	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
}

// nginxBinary finds the nginx binary: PATH, then Debian's /usr/sbin.
func nginxBinary() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx is not installed: run `make derive-deps` (installs Debian's nginx)")
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startNginx starts nginx in front of upstream (host:port) and waits until
// it proxies /healthz; t.Cleanup stops it by PID.
func startNginx(t *testing.T, upstream string) *nginx {
	t.Helper()
	bin, err := nginxBinary()
	if err != nil {
		t.Fatalf("precondition: %v", err)
	}
	dir := t.TempDir()
	port := freeLoopbackPort(t)
	n := &nginx{
		URL:      "http://127.0.0.1:" + strconv.Itoa(port),
		Combined: filepath.Join(dir, "access.log"),
		JSON:     filepath.Join(dir, "access.json"),
		ErrorLog: filepath.Join(dir, "error.log"),
		exited:   make(chan struct{}),
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[2]s warn;
events { worker_connections 1024; }
http {
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    log_format headroom_json escape=json '{"time":"$msec","method":"$request_method","path":"$request_uri",'
        '"status":$status,"remote_addr":"$remote_addr","user_agent":"$http_user_agent","visitor":"$cookie_visitor"}';
    access_log %[3]s combined;
    access_log %[4]s headroom_json;
    upstream shop {
        server %[5]s;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:%[6]d;
        location / {
            proxy_pass http://shop;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
`, dir, n.ErrorLog, n.Combined, n.JSON, upstream, port)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	n.cmd = exec.Command(bin, "-p", dir, "-c", confPath, "-e", n.ErrorLog)
	out, _ := os.Create(filepath.Join(dir, "nginx.out"))
	n.cmd.Stdout, n.cmd.Stderr = out, out
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("starting nginx: %v", err)
	}
	go func() { n.waitErr = n.cmd.Wait(); out.Close(); close(n.exited) }()
	t.Cleanup(func() { n.stop(t) })

	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(n.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case <-n.exited:
			log, _ := os.ReadFile(n.ErrorLog)
			o, _ := os.ReadFile(filepath.Join(dir, "nginx.out"))
			t.Fatalf("nginx (PID %d) exited before it was ready: %v\n%s%s", n.cmd.Process.Pid, n.waitErr, log, o)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(n.ErrorLog)
			t.Fatalf("nginx did not proxy %s/healthz within 20 s: %v\n%s", n.URL, err, log)
		}
	}
}

// stop ends nginx by its PID: SIGQUIT (graceful, logs flushed), then kill.
func (n *nginx) stop(t *testing.T) {
	select {
	case <-n.exited:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.exited
		t.Errorf("nginx (PID %d) did not stop within 10 s of SIGQUIT; killed", n.cmd.Process.Pid)
	}
}

// waitLines polls until path holds at least n lines (nginx writes its
// access log as each request ends).
func waitLines(ctx context.Context, path string, n int64) (int64, error) {
	var got int64
	for {
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		got = 0
		for _, c := range data {
			if c == '\n' {
				got++
			}
		}
		if got >= n {
			return got, nil
		}
		select {
		case <-ctx.Done():
			return got, fmt.Errorf("%s: %d lines, want %d: %w", path, got, n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
