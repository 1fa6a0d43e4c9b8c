package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDemoShopServesProfilesApart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runDemo(ctx, []string{"shop", "--addr", "127.0.0.1:0", "--pprof-addr", "127.0.0.1:0",
			"--products", "20", "--users", "2"}, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("demo exited %d: %s", code, stderr.String())
		}
	})
	api := regexp.MustCompile(`shop listening on (http://\S+)`)
	prof := regexp.MustCompile(`shop profiles on (http://\S+)/debug/pprof/`)
	deadline := time.Now().Add(30 * time.Second)
	var a, p []string
	for a == nil || p == nil {
		a, p = api.FindStringSubmatch(stdout.String()), prof.FindStringSubmatch(stdout.String())
		if time.Now().After(deadline) {
			t.Fatalf("the shop did not say where it listens: %q %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	get := func(u string) (int, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get(p[1] + "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "profile") {
		t.Errorf("pprof index: %d %.200s", code, body)
	}
	if code, body := get(p[1] + "/debug/pprof/heap?debug=1"); code != http.StatusOK || !strings.Contains(body, "heap profile") {
		t.Errorf("heap: %d %.200s", code, body)
	}
	if code, _ := get(a[1] + "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("the API serves /debug/pprof/: %d", code)
	}
	if _, body := get(a[1] + "/metrics"); strings.Contains(body, "pprof") {
		t.Errorf("the shop's metrics count profile requests")
	}
}

func TestDemoShopRejectsANonLoopbackPprofAddr(t *testing.T) {
	var stdout, stderr syncBuffer
	code := runDemo(context.Background(), []string{"shop", "--addr", "127.0.0.1:0", "--pprof-addr", "192.0.2.1:0",
		"--products", "20", "--users", "2"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "--pprof-addr") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
