package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startResponder serves a responder on a loopback port for the test's life.
func startResponder(t *testing.T) (*responder, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := newResponder()
	done := make(chan error, 1)
	go func() { done <- r.Serve(ln) }()
	t.Cleanup(func() {
		ln.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return r, ln.Addr().String()
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	return c
}

// readResponses reads n responses from br and returns their status codes
// and bodies.
func readResponses(t *testing.T, br *bufio.Reader, n int) (codes []int, bodies []string, closes []bool) {
	t.Helper()
	for i := 0; i < n; i++ {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("response %d: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("response %d body: %v", i, err)
		}
		codes = append(codes, resp.StatusCode)
		bodies = append(bodies, string(body))
		closes = append(closes, resp.Close)
	}
	return codes, bodies, closes
}

func TestResponderKeepsOneConnectionAliveForAGoClient(t *testing.T) {
	r, addr := startResponder(t)
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	const n = 50
	for i := 0; i < n; i++ {
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || string(body) != "ok" {
			t.Fatalf("request %d: %d %q %v", i, resp.StatusCode, body, err)
		}
	}
	if got := r.served.Load(); got != n {
		t.Errorf("served = %d, want %d", got, n)
	}
	if got := r.accepted.Load(); got != 1 {
		t.Errorf("accepted = %d connections, want 1 (keep-alive)", got)
	}
}

func TestResponderAnswersPipelinedRequestsInOrder(t *testing.T) {
	r, addr := startResponder(t)
	c := dial(t, addr)
	reqs := "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 25\r\n\r\nGET /fake HTTP/1.1\r\n\r\nxx" +
		"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(c, reqs); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	codes, bodies, closes := readResponses(t, br, 3)
	for i := range codes {
		if codes[i] != 200 || bodies[i] != "ok" {
			t.Errorf("response %d = %d %q, want 200 \"ok\"", i, codes[i], bodies[i])
		}
	}
	if closes[0] || closes[1] || !closes[2] {
		t.Errorf("close flags = %v, want only the last", closes)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after Connection: close, read = %v, want EOF", err)
	}
	// The body that looked like a request was dropped, not answered.
	if got := r.served.Load(); got != 3 {
		t.Errorf("served = %d, want 3", got)
	}
}

func TestResponderHandlesHeadsAndBodiesSplitAcrossReads(t *testing.T) {
	_, addr := startResponder(t)
	c := dial(t, addr)
	c.(*net.TCPConn).SetNoDelay(true)
	req := "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello" + "GET / HTTP/1.1\r\n\r\n"
	br := bufio.NewReader(c)
	for i := 0; i < len(req); i++ {
		if _, err := c.Write([]byte{req[i]}); err != nil {
			t.Fatal(err)
		}
	}
	codes, _, _ := readResponses(t, br, 2)
	if codes[0] != 200 || codes[1] != 200 {
		t.Errorf("codes = %v, want [200 200]", codes)
	}
}

func TestResponderRejectsBadHeadsAndCloses(t *testing.T) {
	tests := []struct {
		name string
		req  string
		want int
	}{
		{"malformed", "GARBAGE\r\n\r\n", 400},
		{"chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
		{"too large", "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 2*maxHeadBytes), 431},
		{"only blank lines", strings.Repeat("\r\n", maxHeadBytes+1), 431},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, addr := startResponder(t)
			c := dial(t, addr)
			// Write in the background: the server may close before all of a
			// large request is sent.
			go func() { _, _ = io.WriteString(c, tt.req) }()
			br := bufio.NewReader(c)
			codes, _, closes := readResponses(t, br, 1)
			if codes[0] != tt.want || !closes[0] {
				t.Errorf("got %d close=%v, want %d close=true", codes[0], closes[0], tt.want)
			}
			if got := r.served.Load(); got != 0 {
				t.Errorf("served = %d, want 0 for a rejected request", got)
			}
		})
	}
}

func TestServeRawStopsOnCancelAndClosesConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		c   counts
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := serveRaw(ctx, ln)
		done <- result{c, err}
	}()
	c := dial(t, ln.Addr().String())
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	readResponses(t, br, 2)
	cancel()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.c != (counts{Requests: 2, Connections: 1}) {
		t.Errorf("counts = %+v, want 2 requests on 1 connection", res.c)
	}
	if _, err := br.ReadByte(); err == nil {
		t.Error("connection still open after the server stopped")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-addr", "0.0.0.0:18999"}, "-addr"},
		{[]string{"-addr", "example.com:80"}, "-addr"},
		{[]string{"-addr", "nonsense"}, "-addr"},
		{[]string{"-addr", "127.0.0.1:0", "-mode", "fast"}, "-mode"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit code = %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not name %s", stderr.String(), tt.want)
			}
		})
	}
}

func TestServeNetHTTPCountsRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan counts, 1)
	go func() {
		c, err := serveNetHTTP(ctx, ln)
		if err != nil {
			t.Errorf("serveNetHTTP: %v", err)
		}
		done <- c
	}()
	client := &http.Client{Timeout: 10 * time.Second}
	for i := 0; i < 3; i++ {
		resp, err := client.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "ok" {
			t.Fatalf("body = %q", body)
		}
	}
	client.CloseIdleConnections()
	cancel()
	if got := <-done; got.Requests != 3 {
		t.Errorf("requests = %d, want 3", got.Requests)
	}
}

func BenchmarkResponderPipelined(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	r := newResponder()
	go func() { _ = r.Serve(ln) }()
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	const batch = 64
	reqs := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), batch)
	want := batch * len(okResponse)
	buf := make([]byte, want)
	b.SetBytes(int64(len(reqs)))
	for b.Loop() {
		if _, err := c.Write(reqs); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batch), "req/op")
}
