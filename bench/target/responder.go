package main

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
)

// The fixed answers. okResponse is what every well-formed request gets.
var (
	okResponse      = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
	okCloseResponse = []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
)

// errorResponse is the closing answer to a request head that cannot be served.
func errorResponse(err error) []byte {
	status := "400 Bad Request"
	switch {
	case errors.Is(err, errHeadTooLarge):
		status = "431 Request Header Fields Too Large"
	case errors.Is(err, errNotSupported):
		status = "501 Not Implemented"
	case errors.Is(err, errWrongProtocol):
		status = "505 HTTP Version Not Supported"
	}
	return []byte("HTTP/1.1 " + status + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
}

// responder is a raw-TCP HTTP/1.1 server that answers every request with
// okResponse: keep-alive, pipelined requests answered in order, request
// bodies (Content-Length) read and dropped. It counts what it serves.
type responder struct {
	served   atomic.Int64 // responses written, error responses excluded
	accepted atomic.Int64 // connections accepted

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newResponder() *responder {
	return &responder{conns: make(map[net.Conn]struct{})}
}

// Serve accepts connections on ln until ln is closed; it then closes every
// open connection and returns once all of them have ended.
func (r *responder) Serve(ln net.Listener) error {
	defer r.closeAll()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		r.accepted.Add(1)
		r.mu.Lock()
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serveConn(c)
			r.mu.Lock()
			delete(r.conns, c)
			r.mu.Unlock()
		}()
	}
}

func (r *responder) closeAll() {
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// serveConn answers the requests on c until the peer closes, a request asks
// to close, or a head is malformed. All answers to the requests found in one
// read go out in one write.
func (r *responder) serveConn(c net.Conn) {
	defer c.Close()
	s := newSession()
	out := make([]byte, 0, 4096)
	for {
		nr, err := c.Read(s.free())
		var served int64
		var closing bool
		out, served, closing = s.answer(nr, out[:0])
		if len(out) > 0 {
			if _, werr := c.Write(out); werr != nil {
				return
			}
			r.served.Add(served)
		}
		if closing || err != nil {
			// A read error is io.EOF or a reset: the peer is gone.
			return
		}
	}
}
