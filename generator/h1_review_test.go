package generator

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Tests from a second reading of h1.go: each names a defect the first
// version had.

func TestOwnConnectionDoesNotResendAfterAnInformationalAnswer(t *testing.T) {
	// The second request on the kept connection gets a 103 and then the
	// connection closes: the server has seen the request, so it must not be
	// sent again (the third answer would be its resend's).
	s := newScripted(t,
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
		"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n\x00close",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc")
	c := newTestH1(t, t.Context(), s.url())
	if _, got, err := fetch(t, c, "POST", s.url()+"/", "x"); err != nil || got != "a" {
		t.Fatalf("first request: %q, %v", got, err)
	}
	code, got, err := fetch(t, c, "POST", s.url()+"/", "x")
	if err == nil {
		t.Fatalf("second request: %d %q, want an error (it was answered, then the connection closed)", code, got)
	}
	if n := s.accepted.Load(); n != 1 {
		t.Errorf("%d connections: the answered request was sent again", n)
	}
}

func TestOwnConnectionHonoursCloseInAConnectionList(t *testing.T) {
	// The server says it closes but keeps the socket open: the client must
	// still dial a fresh connection for the next request.
	cases := []struct {
		name, head string
		dials      int64
	}{
		{"close among other options", "HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\n", 2},
		{"close before other options", "HTTP/1.1 200 OK\r\nConnection: close, Upgrade\r\n", 2},
		{"close on a second Connection line", "HTTP/1.1 200 OK\r\nConnection: close\r\nConnection: keep-alive\r\n", 2},
		{"HTTP/1.0 keep-alive in a list", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive, TE\r\n", 1},
		{"HTTP/1.1 other options only", "HTTP/1.1 200 OK\r\nConnection: TE\r\n", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t, tc.head+"Content-Length: 1\r\n\r\na", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb")
			c := newTestH1(t, t.Context(), s.url())
			for i, want := range []string{"a", "b"} {
				if _, got, err := fetch(t, c, "GET", s.url()+"/", ""); err != nil || got != want {
					t.Fatalf("request %d: %q, %v; want %q", i, got, err, want)
				}
			}
			if n := s.accepted.Load(); n != tc.dials {
				t.Errorf("%d connections, want %d", n, tc.dials)
			}
		})
	}
}

func TestOwnConnectionDropsBytesBeyondTheResponse(t *testing.T) {
	// Bytes after a complete response were never asked for: they must not
	// be read as the next request's answer.
	cases := []struct {
		name, method, first string
	}{
		{"a body longer than its length", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"},
		{"a second, unasked response", "GET", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"},
		{"a body after a HEAD", "HEAD", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"},
		{"a body after a 204", "GET", "HTTP/1.1 204 No Content\r\n\r\nhello"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t, tc.first, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh")
			c := newTestH1(t, t.Context(), s.url())
			if _, _, err := fetch(t, c, tc.method, s.url()+"/", ""); err != nil {
				t.Fatalf("first request: %v", err)
			}
			if code, got, err := fetch(t, c, "GET", s.url()+"/", ""); err != nil || code != 200 || got != "fresh" {
				t.Fatalf("second request: %d %q, %v; want 200 \"fresh\"", code, got, err)
			}
		})
	}
}

func TestOwnConnectionRefusesHeadersThatWouldBreakTheRequest(t *testing.T) {
	cases := []struct {
		name  string
		set   func(r *http.Request)
		names string // in the error
	}{
		{"line break in a name", func(r *http.Request) { r.Header["X-A\r\nX-Injected"] = []string{"1"} }, "X-A"},
		{"colon in a name", func(r *http.Request) { r.Header["X-A: 1\r\nX-B"] = []string{"2"} }, "X-A"},
		{"empty name", func(r *http.Request) { r.Header[""] = []string{"1"} }, "header"},
		{"control byte in a value", func(r *http.Request) { r.Header["X-Token"] = []string{"a\x00b"} }, "X-Token"},
		{"line break in Host", func(r *http.Request) { r.Host = "example.com\r\nX-Injected: 1" }, "Host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
			c := newTestH1(t, t.Context(), s.url())
			req, err := http.NewRequestWithContext(t.Context(), "GET", s.url()+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.set(req)
			if _, err := c.RoundTrip(req); err == nil || !strings.Contains(err.Error(), tc.names) {
				t.Fatalf("err %v, want one naming %s", err, tc.names)
			}
		})
	}
}

func TestOwnConnectionWritesFramingHeadersItself(t *testing.T) {
	// Like net/http, the client writes Host and Content-Length from the
	// request and ignores them (and Transfer-Encoding) in its header map, so
	// a plan's header cannot give a request two Hosts or two framings.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, r.Host+" "+strconv.FormatInt(r.ContentLength, 10)+" "+string(b))
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	cases := []struct {
		name, key, val string
	}{
		{"Host", "Host", "other.example"},
		{"Content-Length", "Content-Length", "99"},
		{"Transfer-Encoding", "Transfer-Encoding", "chunked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestH1(t, t.Context(), srv.URL)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // a misframed body would leave both ends waiting
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, "POST", srv.URL+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Body, req.ContentLength = newBodyReader([]byte("ok")), 2
			req.Header.Set(tc.key, tc.val)
			resp, err := c.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := host + " 2 ok"; err != nil || resp.StatusCode != 200 || string(b) != want {
				t.Errorf("%d %q, %v; want 200 %q", resp.StatusCode, b, err, want)
			}
		})
	}
}
