package generator

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// rawServer answers every request it reads with answer(conn); it stops
// with the test.
func rawServer(t *testing.T, answer func(c *net.TCPConn)) string {
	t.Helper()
	return rawServerFor(t, func(c *net.TCPConn, _ *http.Request) { answer(c) })
}

// rawServerFor answers every request it reads (its body read) with
// answer(conn, request); it stops with the test.
func rawServerFor(t *testing.T, answer func(c *net.TCPConn, req *http.Request)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, req.Body)
					answer(conn.(*net.TCPConn), req)
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestBrokenConnectionsAreClassedAlike(t *testing.T) {
	eachClient(t, testBrokenConnectionsAreClassedAlike)
}

func testBrokenConnectionsAreClassedAlike(t *testing.T) {
	cases := []struct {
		name   string
		answer func(c *net.TCPConn)
		class  string
	}{
		{"closed without an answer", func(c *net.TCPConn) { c.Close() }, "reset"},
		{"reset without an answer", func(c *net.TCPConn) { _ = c.SetLinger(0); c.Close() }, "reset"},
		{"reset in the body", func(c *net.TCPConn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
			_ = c.SetLinger(0)
			c.Close()
		}, "reset"},
		{"closed in the body", func(c *net.TCPConn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
			c.Close()
		}, "reset"},
		{"closed in a chunked body", func(c *net.TCPConn) {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhal")
			c.Close()
		}, "reset"},
		{"not HTTP", func(c *net.TCPConn) { _, _ = io.WriteString(c, "SSH-2.0-x\r\n\r\n"); c.Close() }, "other"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPlan(rawServer(t, tc.answer), constant(20, time.Second, 4))
			res := mustRun(t, p, Options{})
			s := res.Summary
			if s.Requests < 15 || s.Classes[tc.class] != s.Requests {
				t.Errorf("requests %d, classes %v; want every request %s", s.Requests, s.Classes, tc.class)
			}
		})
	}
}
