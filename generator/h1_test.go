package generator

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// scripted is a raw TCP server: for each request it reads, it writes the
// next scripted answer; an answer ending in "\x00close" is followed by
// closing the connection.
type scripted struct {
	ln       net.Listener
	accepted atomic.Int64
	answers  chan string
	requests chan *http.Request
	bodies   chan string
	done     chan struct{} // closed when the test ends
}

func newScripted(t *testing.T, answers ...string) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{ln: ln, answers: make(chan string, len(answers)),
		requests: make(chan *http.Request, 16), bodies: make(chan string, 16), done: make(chan struct{})}
	for _, a := range answers {
		s.answers <- a
	}
	close(s.answers)
	t.Cleanup(func() { close(s.done); ln.Close() })
	go s.serve()
	return s
}

func (s *scripted) serve() {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.accepted.Add(1)
		go func() {
			defer conn.Close()
			br := bufio.NewReader(conn)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				body, _ := io.ReadAll(req.Body)
				s.requests <- req
				s.bodies <- string(body)
				a, ok := <-s.answers
				if !ok {
					<-s.done // no answer: the client waits until it gives up
					return
				}
				closeAfter := strings.HasSuffix(a, "\x00close")
				_, _ = io.WriteString(conn, strings.TrimSuffix(a, "\x00close"))
				if closeAfter {
					return
				}
			}
		}()
	}
}

func (s *scripted) url() string { return "http://" + s.ln.Addr().String() }

// newTestH1 is an h1Client of a minimal engine whose run context is ctx.
func newTestH1(t *testing.T, ctx context.Context, base string) *h1Client {
	t.Helper()
	e := &engine{plan: &plan.Plan{}, base: base, transport: &http.Transport{}, reqCtx: ctx}
	scheme, host, ok := e.ownTarget()
	if !ok {
		t.Fatalf("ownTarget(%s): not served by own connections", base)
	}
	return newH1Client(e, scheme, host)
}

// fetch sends a request through c and returns the status and body.
func fetch(t *testing.T, c *h1Client, method, url, body string) (int, string, error) {
	t.Helper()
	var rd io.ReadCloser
	if body != "" {
		rd = newBodyReader([]byte(body))
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Body, req.ContentLength = rd, int64(len(body))
	}
	resp, err := c.RoundTrip(req)
	if err != nil {
		return 0, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b), err
}

func TestOwnConnectionReadsEveryFraming(t *testing.T) {
	cases := []struct {
		name    string
		method  string
		answers []string
		want    []string // bodies of the successive requests
		dials   int64
	}{
		{"content-length keeps the connection", "GET",
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nbye"},
			[]string{"hello", "bye"}, 1},
		{"chunked with trailers", "GET",
			[]string{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 1\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
			[]string{"hello world", "ok"}, 1},
		{"connection close dials again", "GET",
			[]string{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na\x00close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
			[]string{"a", "b"}, 2},
		{"HTTP/1.0 body until close", "GET",
			[]string{"HTTP/1.0 200 OK\r\n\r\nuntil the end\x00close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
			[]string{"until the end", "b"}, 2},
		{"informational answers are skipped", "GET",
			[]string{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc"},
			[]string{"ok", "", "c"}, 1},
		{"HEAD has no body whatever its length says", "HEAD",
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n"},
			[]string{"", ""}, 1},
		{"a connection closed while idle is replaced", "GET",
			[]string{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x00close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"},
			[]string{"a", "b"}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t, tc.answers...)
			c := newTestH1(t, t.Context(), s.url())
			for i, want := range tc.want {
				if i == 1 && tc.name == "a connection closed while idle is replaced" {
					// let the server's close arrive before the next request
					waitClosed(t, c)
				}
				_, got, err := fetch(t, c, tc.method, s.url()+"/x", "")
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if got != want {
					t.Fatalf("request %d: body %q, want %q", i, got, want)
				}
			}
			if n := s.accepted.Load(); n != tc.dials {
				t.Errorf("%d connections, want %d", n, tc.dials)
			}
		})
	}
}

// waitClosed waits until the server's end of c's connection is closed.
func waitClosed(t *testing.T, c *h1Client) {
	t.Helper()
	if c.conn == nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		if _, err := c.br.Peek(1); err != nil && !isTimeout(err) {
			_ = c.conn.SetReadDeadline(time.Time{})
			return
		}
	}
	t.Fatal("the server did not close the connection")
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestOwnConnectionWritesTheRequest(t *testing.T) {
	s := newScripted(t, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	c := newTestH1(t, t.Context(), s.url())
	code, _, err := fetch(t, c, "POST", s.url()+"/v1/cart/items?x=1&y=%20z", `{"sku":"a"}`)
	if err != nil || code != 201 {
		t.Fatalf("POST: %d, %v", code, err)
	}
	req, body := <-s.requests, <-s.bodies
	if req.Method != "POST" || req.URL.RequestURI() != "/v1/cart/items?x=1&y=%20z" || req.Host != s.ln.Addr().String() {
		t.Errorf("request line/host: %s %s host %s", req.Method, req.URL.RequestURI(), req.Host)
	}
	if body != `{"sku":"a"}` || req.ContentLength != int64(len(body)) {
		t.Errorf("body %q with Content-Length %d", body, req.ContentLength)
	}
	if ua := req.Header.Get("User-Agent"); ua != userAgent {
		t.Errorf("User-Agent %q, want %q", ua, userAgent)
	}
	// An empty POST still says its length; a GET does not.
	if code, _, err := fetch(t, c, "POST", s.url()+"/", ""); err != nil || code != 200 {
		t.Fatalf("empty POST: %d, %v", code, err)
	}
	if req := <-s.requests; req.ContentLength != 0 || req.Header.Get("Content-Length") != "0" {
		t.Errorf("empty POST: Content-Length %q", req.Header.Get("Content-Length"))
	}
}

func TestOwnConnectionRefusesWhatItCannotRead(t *testing.T) {
	cases := map[string]string{
		"not HTTP":            "SSH-2.0-OpenSSH\r\n\r\n",
		"bad code":            "HTTP/1.1 2x0 OK\r\n\r\n",
		"bad length":          "HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n",
		"two lengths":         "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"header without name": "HTTP/1.1 200 OK\r\n: x\r\n\r\n",
		"gzip framing":        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			s := newScripted(t, answer)
			c := newTestH1(t, t.Context(), s.url())
			if _, _, err := fetch(t, c, "GET", s.url()+"/", ""); err == nil {
				t.Fatalf("answer %q: no error", answer)
			}
			if c.conn != nil {
				t.Error("the connection was kept after a response it could not read")
			}
		})
	}
}

func TestOwnConnectionTruncatedBodyIsAnError(t *testing.T) {
	s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf\x00close")
	c := newTestH1(t, t.Context(), s.url())
	_, _, err := fetch(t, c, "GET", s.url()+"/", "")
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err %v, want unexpected EOF", err)
	}
	if classifyError(err, false) != classReset {
		t.Errorf("class %v, want reset", classifyError(err, false))
	}
}

func TestOwnConnectionRefusesLineBreaksInHeaders(t *testing.T) {
	s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
	c := newTestH1(t, t.Context(), s.url())
	req, _ := http.NewRequest("GET", s.url()+"/", nil)
	req.Header.Set("X-Token", "a\r\nX-Injected: 1")
	if _, err := c.RoundTrip(req); err == nil || !strings.Contains(err.Error(), "X-Token") {
		t.Fatalf("err %v, want one naming the header", err)
	}
}

func TestOwnConnectionCancelInterruptsAWait(t *testing.T) {
	s := newScripted(t) // never answers
	c := newTestH1(t, t.Context(), s.url())
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.url()+"/", nil)
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := c.RoundTrip(req)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !isTimeout(err) && !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want the interrupted read", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled request kept waiting")
	}
	if c.conn != nil {
		t.Error("the interrupted connection was kept")
	}
}

func TestOwnConnectionsDoNotServeBoundedTargets(t *testing.T) {
	e := &engine{plan: &plan.Plan{}, base: "https://127.0.0.1:8443", load: plan.Load{Model: "open", MaxVUs: 10}}
	if scheme, host, ok := e.ownTarget(); !ok || scheme != "https" || host != "127.0.0.1:8443" {
		t.Errorf("https target: %q %q %v, want own TLS connections", scheme, host, ok)
	}
	e.base = "http://127.0.0.1:8080"
	e.plan.Target.MaxConns = 5
	if _, _, ok := e.ownTarget(); ok {
		t.Error("max_conns 5 with 10 users served by own connections")
	}
	e.plan.Target.MaxConns = 10
	if scheme, host, ok := e.ownTarget(); !ok || scheme != "http" || host != "127.0.0.1:8080" {
		t.Errorf("max_conns 10 with 10 users: %q %q %v", scheme, host, ok)
	}
	t.Setenv("HEADROOM_HTTP_CLIENT", "net/http")
	if _, _, ok := e.ownTarget(); ok {
		t.Error("HEADROOM_HTTP_CLIENT=net/http: served by own connections")
	}
}
