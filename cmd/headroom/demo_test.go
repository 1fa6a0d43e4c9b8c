package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is an io.Writer safe to read while a command writes to it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDemoRejectsBadArguments(t *testing.T) {
	cases := []struct {
		args    []string
		mention string
	}{
		{nil, "usage"},
		{[]string{"bank"}, `unknown demo "bank"`},
		{[]string{"shop", "--pool", "many"}, "pool"},
		{[]string{"shop", "--pool", "0"}, "pool"},
		{[]string{"shop", "--cpu-burn", "-1ms"}, "cpu_burn"},
		{[]string{"shop", "--cpu-limit", "-0.5"}, "cpu_limit"},
		{[]string{"shop", "--cpu-limit", "0.001"}, "cpu_limit"},
		{[]string{"shop", "--cpu-limit", "half"}, "cpu-limit"},
		{[]string{"shop", "--products", "-5"}, "products"},
		{[]string{"shop", "--addr", "0.0.0.0:18081"}, "--addr"},
		{[]string{"shop", "--addr", "nohost"}, "--addr"},
		{[]string{"shop", "extra"}, "extra"},
		{[]string{"front"}, "--backends"},
		{[]string{"front", "--backends", "127.0.0.1:18082"}, "--backends"},
		{[]string{"front", "--backends", "http://127.0.0.1:1", "--dead-for", "0s"}, "--dead-for"},
		{[]string{"front", "--backends", "http://127.0.0.1:1", "--addr", "10.0.0.1:80"}, "--addr"},
		{[]string{"front", "--backends", "http://127.0.0.1:1,http://127.0.0.1:2", "--weights", "2"}, "--weights"},
		{[]string{"front", "--backends", "http://127.0.0.1:1,http://127.0.0.1:2", "--weights", "2,zero"}, "--weights"},
		{[]string{"front", "--backends", "http://127.0.0.1:1,http://127.0.0.1:2", "--weights", "2,0"}, "--weights"},
	}
	// A cancelled context: a case that wrongly passes validation ends at
	// once instead of serving forever.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := runDemo(ctx, c.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), c.mention) {
			t.Errorf("demo %q = exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr.String(), exitUsage, c.mention)
		}
	}
}

// startDemo runs `headroom demo args...` until the test ends and returns
// the URL it printed it listens on.
func startDemo(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- runDemo(ctx, args, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("demo %q exited %d after cancel: %s", args, code, stderr.String())
		}
	})
	listening := regexp.MustCompile(`listening on (http://\S+?),? `)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo %q exited %d before listening: %s", args, code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo %q did not say where it listens; stdout %q", args, stdout.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoShopAndFrontServeUntilCancelled(t *testing.T) {
	shopURL := startDemo(t, "shop", "--addr", "127.0.0.1:0", "--products", "500", "--users", "20", "--pool", "4")
	frontURL := startDemo(t, "front", "--addr", "127.0.0.1:0", "--backends", shopURL, "--weights", "3")
	if code, body := getBody(t, frontURL+"/v1/products/7"); code != http.StatusOK || !strings.Contains(body, `"id":7`) {
		t.Errorf("product through the front: %d %s", code, body)
	}
	if code, body := getBody(t, shopURL+"/admin/knobs"); code != http.StatusOK || !strings.Contains(body, `"pool":4`) {
		t.Errorf("knobs: %d %s", code, body)
	}
	if code, body := getBody(t, frontURL+"/metrics"); code != http.StatusOK || !strings.Contains(body, "front_requests_total") ||
		!strings.Contains(body, fmt.Sprintf("front_backend_weight{backend=%q} 3", shopURL)) {
		t.Errorf("front metrics (want requests and the --weights 3 of %s): %d %s", shopURL, code, body)
	}
}
