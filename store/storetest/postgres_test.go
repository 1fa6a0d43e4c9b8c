package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	if os.Getenv("STORETEST_ORPHAN") == "1" {
		orphan()
		return
	}
	os.Exit(Main(m))
}

func TestMissingBinariesSayHowToInstall(t *testing.T) {
	_, err := binariesIn(filepath.Join(t.TempDir(), "*", "bin", "postgres"))
	if err == nil || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("error %v, want one that says apt-get install postgresql", err)
	}
}

func TestBinariesPreferVersion15(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"13", "15", "16"} {
		dir := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "postgres"), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	got, err := binariesIn(filepath.Join(root, "*", "bin", "postgres"))
	if err != nil || got != filepath.Join(root, "15", "bin") {
		t.Fatalf("binariesIn = %q, %v; want version 15's", got, err)
	}
	os.RemoveAll(filepath.Join(root, "15"))
	if got, _ := binariesIn(filepath.Join(root, "*", "bin", "postgres")); got != filepath.Join(root, "16", "bin") {
		t.Fatalf("without 15: %q, want the newest (16)", got)
	}
}

func TestFreshDatabasePerCall(t *testing.T) {
	a, b := StartPostgres(t), StartPostgres(t)
	if a == b {
		t.Fatalf("two calls gave one database: %s", a)
	}
	if !strings.HasPrefix(a, "postgres://headroom@127.0.0.1:") {
		t.Fatalf("dsn %s is not a loopback PostgreSQL URL", a)
	}
	db := openDB(t, a)
	if _, err := db.Exec("CREATE TABLE t (x int)"); err != nil {
		t.Fatal(err)
	}
	other := openDB(t, b)
	var n int
	if err := other.QueryRow("SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 't'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("the second database sees the first's table (%d, %v)", n, err)
	}
}

func openDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// orphan is the child of TestServerStopsWhenTheBinaryDies: it starts a
// server, says its PID and folder, and dies without stopping it.
func orphan() {
	s, err := start()
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(s.cmd.Process.Pid, s.dir)
	os.Exit(0)
}

// running reports whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state …
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func TestServerStopsWhenTheBinaryDies(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "STORETEST_ORPHAN=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var pid int
	var dir string
	if _, err := fmt.Sscan(string(out), &pid, &dir); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	// The child is gone; its watchdog stops the server by PID and removes the folder.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		alive := running(pid)
		_, statErr := os.Stat(dir)
		if !alive && os.IsNotExist(statErr) {
			return
		}
		select {
		case <-ctx.Done():
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("postgres pid %d alive=%v, folder %s still there=%v, a minute after its test binary ended", pid, alive, dir, statErr == nil)
		case <-tick.C:
		}
	}
}
