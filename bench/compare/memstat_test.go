package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseRssAnon(t *testing.T) {
	status := "Name:\tfortio\nVmRSS:\t   27648 kB\nRssAnon:\t    9216 kB\nRssFile:\t   18432 kB\n"
	if kb, err := parseRssAnon([]byte(status)); err != nil || kb != 9216 {
		t.Errorf("RssAnon = %d, %v; want 9216", kb, err)
	}
	for _, bad := range []string{"Name:\tx\n", "RssAnon:\t12 MB\n", "RssAnon:\tlots kB\n"} {
		if _, err := parseRssAnon([]byte(bad)); err == nil || !strings.Contains(err.Error(), "RssAnon") {
			t.Errorf("%q: err = %v, want one naming RssAnon", bad, err)
		}
	}
}

func TestParsePPID(t *testing.T) {
	if ppid, ok := parsePPID([]byte("4242 (a) (b c) S 17 4242 4242 0 -1 4194560")); !ok || ppid != 17 {
		t.Errorf("ppid = %d, %v; want 17 (after the last parenthesis)", ppid, ok)
	}
	for _, bad := range []string{"", "4242 (x", "4242 (x) S", "4242 (x) S y"} {
		if _, ok := parsePPID([]byte(bad)); ok {
			t.Errorf("%q: read a parent pid", bad)
		}
	}
}

// TestWatchAnonSeesADescendant: a shell that starts a bash holding 32 MiB
// of anonymous memory (a 32 MiB string) is seen through the shell: the
// peak is the child's, far above the shell's own.
func TestWatchAnonSeesADescendant(t *testing.T) {
	cmd := exec.Command("sh", "-c", `bash -c 'x=$(head -c 33554432 /dev/zero | tr "\0" a); sleep 0.6; echo ${#x}'; true`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	peak := watchAnon(cmd.Process.Pid, stop)
	deadline := time.Now().Add(5 * time.Second)
	for len(descendants(cmd.Process.Pid)) < 3 && time.Now().Before(deadline) { // sh, bash, and head or sleep
		time.Sleep(10 * time.Millisecond)
	}
	tree := descendants(cmd.Process.Pid)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	kb := <-peak
	if len(tree) < 3 || !slices.Contains(tree, cmd.Process.Pid) {
		t.Errorf("descendants of the shell = %v, want it, bash and bash's child", tree)
	}
	if kb < 30<<10 {
		t.Errorf("peak anon %d kB, want at least bash's 32 MiB string", kb)
	}
}
