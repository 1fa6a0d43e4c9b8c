// Package storetest runs a real PostgreSQL for tests: Debian's server
// binaries (/usr/lib/postgresql/<version>/bin, preferring 15) in a temporary
// folder on a free loopback port, one server per test binary, a fresh
// database per call.
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) } // stops the server after the tests
//
//	func TestSomething(t *testing.T) {
//		dsn := storetest.StartPostgres(t) // postgres://headroom@127.0.0.1:<port>/hr_<n>?sslmode=disable
//		st, err := store.Open(ctx, dsn, store.Options{})
//		…
//	}
//
// Without Main the server still stops when the test binary exits: a watchdog
// process started beside it stops it by its PID once the binary is gone.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the admin connection
)

// InstallHint says how to get the server binaries when they are missing.
const InstallHint = "install Debian's PostgreSQL server: apt-get install postgresql (or run make store-deps)"

// startTimeout bounds initdb and the wait for the server to accept connections.
const startTimeout = 2 * time.Minute

var (
	mu      sync.Mutex
	shared  *server
	failed  error
	counter int
)

// StartPostgres returns the DSN of a new, empty database on this test
// binary's PostgreSQL server, starting the server on first use. The database
// is dropped when t ends (close what uses it in an earlier cleanup). It fails
// t with how to install PostgreSQL when the binaries are missing.
func StartPostgres(t testing.TB) string {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if failed != nil {
		t.Fatalf("storetest: %v", failed)
	}
	if shared == nil {
		srv, err := start()
		if err != nil {
			failed = err
			t.Fatalf("storetest: %v", err)
		}
		shared = srv
	}
	counter++
	name := fmt.Sprintf("hr_%d_%d", os.Getpid(), counter)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := shared.admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	srv := shared
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := srv.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})
	return srv.dsn(name)
}

// Main runs the tests of m, then stops the PostgreSQL server if one was
// started, and returns m's exit code.
func Main(m *testing.M) int {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "storetest:", err)
	}
	return code
}

// Stop stops the server started by StartPostgres, if any, by its PID and
// removes its folder. A later StartPostgres starts a new one.
func Stop() error {
	mu.Lock()
	defer mu.Unlock()
	if shared == nil {
		return nil
	}
	err := shared.stop()
	shared = nil
	return err
}

// Binaries returns the folder of the PostgreSQL server binaries, preferring
// version 15, or an error that says how to install them.
func Binaries() (string, error) { return binariesIn("/usr/lib/postgresql/*/bin/postgres") }

func binariesIn(pattern string) (string, error) {
	matches, _ := filepath.Glob(pattern)
	if len(matches) == 0 {
		return "", fmt.Errorf("no PostgreSQL server binaries (%s); %s", pattern, InstallHint)
	}
	sort.Slice(matches, func(i, j int) bool { return version(matches[i]) > version(matches[j]) })
	for _, m := range matches {
		if version(m) == 15 {
			return filepath.Dir(m), nil
		}
	}
	return filepath.Dir(matches[0]), nil
}

func version(postgresPath string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(postgresPath))))
	return v
}

type server struct {
	dir      string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
	watchdog *exec.Cmd
	watchW   *os.File
	admin    *sql.DB
}

func (s *server) dsn(db string) string {
	return fmt.Sprintf("postgres://headroom@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// asPostgres is the command prefix that runs a server binary as the postgres
// user when we are root (initdb and postgres refuse to run as root).
func asPostgres() ([]string, *user.User, error) {
	if os.Geteuid() != 0 {
		return nil, nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, nil, fmt.Errorf("running as root, and there is no postgres user to run the server as (%v); %s", err, InstallHint)
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		return nil, nil, fmt.Errorf("running as root needs setpriv (util-linux) to start PostgreSQL as the postgres user: %v", err)
	}
	return []string{"setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups"}, u, nil
}

func start() (*server, error) {
	bin, err := Binaries()
	if err != nil {
		return nil, err
	}
	prefix, pgUser, err := asPostgres()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "headroom-pg-")
	if err != nil {
		return nil, err
	}
	if pgUser != nil {
		uid, _ := strconv.Atoi(pgUser.Uid)
		gid, _ := strconv.Atoi(pgUser.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("give %s to the postgres user: %w", dir, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	initdb := command(ctx, prefix, filepath.Join(bin, "initdb"), "-D", data, "-A", "trust", "-U", "headroom",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := launch(ctx, prefix, bin, dir)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func command(ctx context.Context, prefix []string, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, prefix...), name), args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// launch starts postgres on a free port with its watchdog and waits until it
// accepts connections.
func launch(ctx context.Context, prefix []string, bin, dir string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "postgres.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	// Not CommandContext: the server outlives ctx, which only bounds the start.
	argv := append(append([]string{}, prefix...), filepath.Join(bin, "postgres"), "-D", filepath.Join(dir, "data"),
		"-h", "127.0.0.1", "-p", strconv.Itoa(port), "-k", dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=200")
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a ^C to the tests reaches it only through us
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	s := &server{dir: dir, port: port, cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	if err := s.startWatchdog(); err != nil {
		s.stopServer()
		return nil, err
	}
	if err := s.waitReady(ctx, logPath); err != nil {
		s.stopWatchdog()
		s.stopServer()
		return nil, err
	}
	return s, nil
}

// startWatchdog starts a shell that stops the server by its PID (and removes
// its folder) when its stdin closes: when this process ends, however it ends.
func (s *server) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	pid := strconv.Itoa(s.cmd.Process.Pid)
	script := "read _; kill -TERM " + pid + " 2>/dev/null; i=0; while kill -0 " + pid +
		" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -KILL " + pid + " 2>/dev/null; rm -rf '" + s.dir + "'"
	wd := exec.Command("sh", "-c", script)
	wd.Stdin = r
	wd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := wd.Start(); err != nil {
		r.Close()
		w.Close()
		return fmt.Errorf("start the server's watchdog: %w", err)
	}
	r.Close()
	s.watchdog, s.watchW = wd, w
	return nil
}

func (s *server) waitReady(ctx context.Context, logPath string) error {
	db, err := sql.Open("pgx", s.dsn("postgres"))
	if err != nil {
		return err
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = db.PingContext(pctx)
		cancel()
		if err == nil {
			db.SetMaxOpenConns(4)
			s.admin = db
			return nil
		}
		select {
		case <-s.exited:
			db.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres on port %d exited before accepting connections:\n%s", s.port, tail(log, 2000))
		case <-ctx.Done():
			db.Close()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres on port %d did not accept connections within %v (last error: %v):\n%s", s.port, startTimeout, err, tail(log, 2000))
		case <-tick.C:
		}
	}
}

func (s *server) stop() error {
	if s.admin != nil {
		s.admin.Close()
	}
	s.stopWatchdog()
	err := s.stopServer()
	return errors.Join(err, os.RemoveAll(s.dir))
}

func (s *server) stopWatchdog() {
	if s.watchdog == nil {
		return
	}
	s.watchdog.Process.Kill()
	s.watchdog.Wait()
	s.watchW.Close()
	s.watchdog = nil
}

// stopServer sends SIGTERM to the server's PID and waits for it to exit,
// then SIGKILL after 10 s.
func (s *server) stopServer() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
	}
	s.cmd.Process.Kill()
	<-s.exited
	return fmt.Errorf("postgres (pid %d) did not stop within 10 s of SIGTERM; killed", s.cmd.Process.Pid)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	s := string(b)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return strings.TrimSpace(s)
}
