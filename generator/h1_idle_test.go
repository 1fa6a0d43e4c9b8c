package generator

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// idled makes c's connection look idle for longer than staleAfter, without
// the test waiting that long.
func idled(c *h1Client) { c.lastUse -= 2 * staleAfter }

func TestOwnConnectionChecksAnIdleConnectionBeforeAPost(t *testing.T) {
	// The server closes the connection after its first answer (a keep-alive
	// timeout). A POST is not repeated after a broken send, so only the
	// check before reuse keeps it from failing.
	s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na\x00close", "HTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\nb")
	c := newTestH1(t, t.Context(), s.url())
	if _, got, err := fetch(t, c, "GET", s.url()+"/", ""); err != nil || got != "a" {
		t.Fatalf("first request: %q, %v", got, err)
	}
	waitClosed(t, c)
	idled(c)
	code, got, err := fetch(t, c, "POST", s.url()+"/", "x")
	if err != nil || code != 201 || got != "b" {
		t.Fatalf("POST after the server closed the idle connection: %d %q, %v", code, got, err)
	}
	if n := s.accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

func TestOwnConnectionRepeatsOnlyReplayableRequests(t *testing.T) {
	for _, tc := range []struct {
		method   string
		key      string // Idempotency-Key
		repeated bool
	}{
		{"GET", "", true},
		{"PUT", "", true},
		{"POST", "", false},
		{"POST", "k-1", true},
	} {
		t.Run(tc.method+" "+tc.key, func(t *testing.T) {
			// The second request reaches the server, which closes the
			// connection without an answer; the connection was not idle
			// long enough to be checked.
			s := newScripted(t, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na", "\x00close", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nc")
			c := newTestH1(t, t.Context(), s.url())
			if _, _, err := fetch(t, c, "GET", s.url()+"/", ""); err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequestWithContext(t.Context(), tc.method, s.url()+"/", nil)
			if tc.key != "" {
				req.Header.Set("Idempotency-Key", tc.key)
			}
			resp, err := c.RoundTrip(req)
			if tc.repeated {
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s was not sent again: %v", tc.method, err)
				}
				resp.Body.Close()
			} else if err == nil || classifyError(err, false) != classReset {
				t.Fatalf("%s: err %v, want a reset and no second send", tc.method, err)
			}
			want := 2
			if tc.repeated {
				want = 3
			}
			if got := len(s.requests); got != want {
				t.Errorf("the server got %d requests, want %d", got, want)
			}
		})
	}
}

func TestOwnConnectionDropsAnIdleConnectionWithAnUnaskedAnswer(t *testing.T) {
	// The server answers, then some time later sends a 408 nobody asked
	// for and closes: the next request must get its own answer, not the 408.
	sent := make(chan struct{}) // the 408 is written and the connection closed
	base := rawServerFor(t, func(conn *net.TCPConn, req *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		if req.URL.Path == "/first" {
			time.Sleep(50 * time.Millisecond) // after the client has read its answer
			_, _ = io.WriteString(conn, "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
			conn.Close()
			close(sent)
		}
	})
	c := newTestH1(t, t.Context(), base)
	if code, _, err := fetch(t, c, "GET", base+"/first", ""); err != nil || code != 200 {
		t.Fatalf("first: %d, %v", code, err)
	}
	<-sent
	if c.br.Buffered() > 0 {
		t.Fatal("the 408 was read with the first answer; the test proves nothing")
	}
	idled(c)
	if code, got, err := fetch(t, c, "GET", base+"/second", ""); err != nil || code != 200 || got != "ok" {
		t.Fatalf("second: %d %q, %v; want its own 200", code, got, err)
	}
}
