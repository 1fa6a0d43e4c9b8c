package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildHeadroom builds the binary once per test run.
func buildHeadroom(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "headroom")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/headroom-sre/headroom/cmd/headroom")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess is `headroom serve` running as a subprocess.
type serveProcess struct {
	cmd *exec.Cmd
	URL string
	log *strings.Builder
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServe starts `headroom serve` on a free loopback port over db and
// waits for it to say where it listens.
func startServe(t *testing.T, bin, db string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--log-level", "debug")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, log: &strings.Builder{}}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // by its PID
			_ = cmd.Wait()
		}
	})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.log.WriteString(line + "\n")
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	select {
	case p.URL = <-found:
	case <-time.After(time.Minute):
		t.Fatalf("headroom serve did not start")
	}
	return p
}

func TestKilledMidStudyShowsInterrupted(t *testing.T) {
	bin := buildHeadroom(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "headroom.db")
	out, err := exec.Command(bin, "token", "create", "--db", db, "--role", "operator", "--name", "kill-test").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	if !strings.HasPrefix(token, "hr_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q, want the token alone", out)
	}

	tgt := target(t)
	p := startServe(t, bin, db)
	ts := &testServer{URL: p.URL, viewer: token, operator: token}
	planID := ts.createPlan(t, studyPlan("kill", tgt.URL, "4s", 5000))
	id := ts.startJob(t, planID, "study", nil)

	// Kill it just after a window lands, some seconds into the study.
	var w windowsBody
	path := fmt.Sprintf("/api/v1/jobs/%d/windows", id)
	deadline := time.Now().Add(2 * time.Minute)
	for ts.getJSON(t, token, path, &w); len(w.Windows) < 5; ts.getJSON(t, token, path, &w) {
		if time.Now().After(deadline) {
			t.Fatalf("study wrote %d windows; server log:\n%s", len(w.Windows), p.log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	seen := len(w.Windows)
	for ts.getJSON(t, token, path, &w); len(w.Windows) == seen; ts.getJSON(t, token, path, &w) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	_ = p.cmd.Wait()

	p2 := startServe(t, bin, db)
	ts.URL = p2.URL
	j := ts.waitJob(t, id, time.Minute, func(j job) bool { return j.Status != "running" })
	if j.Status != "interrupted" {
		t.Fatalf("after the restart the study is %s, want interrupted", j.Status)
	}
	var after windowsBody
	ts.getJSON(t, token, path, &after)
	if len(after.Windows) < len(w.Windows) {
		t.Fatalf("%d windows after the restart, %d seen before the kill", len(after.Windows), len(w.Windows))
	}
	last := after.Windows[len(after.Windows)-1]
	end := last.Start.Add(time.Duration(last.DurationS * float64(time.Second)))
	gap := killed.Sub(end)
	if gap > time.Second {
		t.Errorf("the last stored window ends %s before the kill, want at most 1s", gap)
	}
	t.Logf("%d windows kept; the last ends %s before the SIGKILL", len(after.Windows), gap.Round(time.Millisecond))
	// A study's finished steps are kept too.
	var steps struct{ Steps []struct{ Index int } }
	if ts.getJSON(t, token, fmt.Sprintf("/api/v1/jobs/%d/steps", id), &steps); len(steps.Steps) == 0 {
		t.Errorf("no steps kept")
	}
	// The restarted server still serves and stops on SIGTERM.
	if code := ts.getJSON(t, "", "/readyz", nil); code != http.StatusOK {
		t.Errorf("readyz: %d", code)
	}
	_ = p2.cmd.Process.Signal(os.Interrupt)
	if err := p2.cmd.Wait(); err != nil {
		t.Errorf("serve after SIGINT: %v\n%s", err, p2.log)
	}
}
