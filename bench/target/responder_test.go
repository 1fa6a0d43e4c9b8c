package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	allModes  = []string{"epoll", "raw", "nethttp"}
	leanModes = []string{"epoll", "raw"} // ours: they also reject what they cannot serve
)

// startServer serves mode on a loopback port; stop ends it and returns its
// counts (it also runs at cleanup).
func startServer(t *testing.T, mode string) (addr string, stop func() counts) {
	t.Helper()
	serve := serverFor(mode)
	if serve == nil {
		t.Fatalf("no server %q", mode)
	}
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
		c, err := serve(ctx, ln)
		done <- result{c, err}
	}()
	var once sync.Once
	var got counts
	stop = func() counts {
		once.Do(func() {
			cancel()
			select {
			case r := <-done:
				if r.err != nil {
					t.Errorf("%s server: %v", mode, r.err)
				}
				got = r.c
			case <-time.After(10 * time.Second):
				t.Errorf("%s server did not stop within 10s", mode)
			}
		})
		return got
	}
	t.Cleanup(func() { stop() })
	return ln.Addr().String(), stop
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

// readResponses reads n responses from br.
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

func TestServersKeepOneConnectionAliveForAGoClient(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode, func(t *testing.T) {
			addr, stop := startServer(t, mode)
			client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: 10 * time.Second}
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
			client.CloseIdleConnections()
			if got := stop(); got != (counts{Requests: n, Connections: 1}) {
				t.Errorf("counts = %+v, want %d requests on 1 connection (keep-alive)", got, n)
			}
		})
	}
}

func TestServersAnswerPipelinedRequestsInOrder(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode, func(t *testing.T) {
			addr, stop := startServer(t, mode)
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
			if got := stop().Requests; got != 3 {
				t.Errorf("requests = %d, want 3", got)
			}
		})
	}
}

func TestServersHandleHeadsAndBodiesSplitAcrossReads(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode, func(t *testing.T) {
			addr, _ := startServer(t, mode)
			c := dial(t, addr)
			if err := c.(*net.TCPConn).SetNoDelay(true); err != nil {
				t.Fatal(err)
			}
			req := "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
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
		})
	}
}

func TestLeanServersRejectBadHeadsAndClose(t *testing.T) {
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
	for _, mode := range leanModes {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				addr, stop := startServer(t, mode)
				c := dial(t, addr)
				// Write in the background: the server may close before all
				// of a large request is sent.
				go func() { _, _ = io.WriteString(c, tt.req) }()
				codes, _, closes := readResponses(t, bufio.NewReader(c), 1)
				if codes[0] != tt.want || !closes[0] {
					t.Errorf("got %d close=%v, want %d close=true", codes[0], closes[0], tt.want)
				}
				if got := stop().Requests; got != 0 {
					t.Errorf("requests = %d, want 0 for a rejected request", got)
				}
			})
		}
	}
}

func TestServersStopAndCloseOpenConnections(t *testing.T) {
	for _, mode := range allModes {
		t.Run(mode, func(t *testing.T) {
			addr, stop := startServer(t, mode)
			c := dial(t, addr)
			if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			readResponses(t, br, 2)
			if got := stop(); got != (counts{Requests: 2, Connections: 1}) {
				t.Errorf("counts = %+v, want 2 requests on 1 connection", got)
			}
			if _, err := br.ReadByte(); err == nil {
				t.Error("connection still open after the server stopped")
			}
		})
	}
}

func TestEpollServerWaitsOutAFullSocket(t *testing.T) {
	// Many pipelined requests and a reader that starts late: the server's
	// writes fill the socket, so it must wait for EPOLLOUT and lose nothing.
	addr, stop := startServer(t, "epoll")
	c := dial(t, addr)
	const n = 20000
	reqs := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), n)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(reqs)
		errc <- err
	}()
	got, err := io.ReadFull(c, make([]byte, n*len(okResponse)))
	if err != nil {
		t.Fatalf("read %d of %d bytes: %v", got, n*len(okResponse), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if got := stop().Requests; got != n {
		t.Errorf("requests = %d, want %d", got, n)
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

func BenchmarkServersPipelined(b *testing.B) {
	for _, mode := range allModes {
		b.Run(mode, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { _, _ = serverFor(mode)(ctx, ln); close(done) }()
			defer func() { cancel(); <-done }()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			const batch = 64
			reqs := bytes.Repeat([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), batch)
			br := bufio.NewReaderSize(c, 64<<10)
			b.SetBytes(int64(len(reqs)))
			for b.Loop() {
				if _, err := c.Write(reqs); err != nil {
					b.Fatal(err)
				}
				for range batch {
					resp, err := http.ReadResponse(br, nil)
					if err != nil {
						b.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			b.ReportMetric(batch, "req/op")
		})
	}
}
