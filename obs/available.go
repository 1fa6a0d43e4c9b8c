package obs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// SkipEnv is the environment variable that, set to "1", lets Require skip
// tests when the stack cannot run instead of failing them.
const SkipEnv = "HEADROOM_SKIP_OBS"

// Available reports why the stack cannot run on this machine (Prometheus not
// installed, Jaeger not built, the scripts not found), or nil when it can.
// It changes nothing; scripts/obs-deps installs what is missing.
func Available() error {
	root, err := findRoot("")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "obs-deps"), "--check")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(out.String())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("obs: the observability stack cannot run: %s", msg)
	}
	return nil
}

// Require fails t when the stack cannot run, saying why; with
// HEADROOM_SKIP_OBS=1 in the environment it skips t instead. Call it first
// in every test that starts the stack.
func Require(t testing.TB) {
	t.Helper()
	err := Available()
	if err == nil {
		return
	}
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%v (skipped: %s=1)", err, SkipEnv)
	}
	t.Fatalf("%v (run `make obs-deps`, or set %s=1 to skip)", err, SkipEnv)
}

// findRoot returns the repository root: dir when given, else the folder
// above this source file's package (tests build from source, so the path is
// known), else $HEADROOM_ROOT.
func findRoot(dir string) (string, error) {
	candidates := []string{dir}
	if dir == "" {
		candidates = []string{sourceRoot(), os.Getenv("HEADROOM_ROOT")}
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c, "scripts", "obs-up")); err == nil {
			return c, nil
		}
	}
	if dir != "" {
		return "", fmt.Errorf("obs: Config.Root %q has no scripts/obs-up", dir)
	}
	return "", errors.New("obs: cannot find the repository's scripts/obs-up (set HEADROOM_ROOT to the repository root)")
}
