package generator

import (
	"net"
	"time"
)

// h1Sock is the TCP connection under a user's own HTTP/1.1 connection
// (directly, or under TLS). It holds a request back until the first read
// of its answer and sends it from inside that read's wait on the socket
// (h1_sock_unix.go): the poller then watches for the answer from before the
// request leaves, so the read need not first try the socket and meet
// EAGAIN. A request then costs one write and one read, as with wrk's event
// loop, instead of a write and two reads.
//
// Only what h1Client writes between hold and the read is held back; other
// writes (a TLS handshake, a body larger than the write buffer) go out at
// once, after anything held.
type h1Sock struct {
	tc   net.Conn // the TCP connection
	hold bool     // Write keeps what it is given in out
	out  []byte   // written, not yet sent
	rawRead
}

var _ net.Conn = (*h1Sock)(nil)

// maxHeld bounds what a sock holds back; past it writes go out at once.
const maxHeld = 64 << 10

func newH1Sock(tc net.Conn) *h1Sock {
	s := &h1Sock{tc: tc}
	s.useRaw()
	return s
}

// Write holds p back while hold is set (and the held bytes stay under
// maxHeld); otherwise it sends anything held, then p.
func (s *h1Sock) Write(p []byte) (int, error) {
	if s.hold && len(s.out)+len(p) <= maxHeld {
		s.out = append(s.out, p...)
		return len(p), nil
	}
	if err := s.flush(); err != nil {
		return 0, err
	}
	return s.tc.Write(p)
}

// flush sends what is held.
func (s *h1Sock) flush() error {
	if len(s.out) == 0 {
		return nil
	}
	out := s.out
	s.out = s.out[:0]
	_, err := s.tc.Write(out)
	return err
}

// Read reads from the connection; when a request is held back it is sent
// first, and the read then waits for the answer.
func (s *h1Sock) Read(p []byte) (int, error) {
	if len(s.out) == 0 || len(p) == 0 {
		return s.tc.Read(p)
	}
	return s.sendAndRead(p)
}

func (s *h1Sock) Close() error                       { return s.tc.Close() }
func (s *h1Sock) LocalAddr() net.Addr                { return s.tc.LocalAddr() }
func (s *h1Sock) RemoteAddr() net.Addr               { return s.tc.RemoteAddr() }
func (s *h1Sock) SetDeadline(t time.Time) error      { return s.tc.SetDeadline(t) }
func (s *h1Sock) SetReadDeadline(t time.Time) error  { return s.tc.SetReadDeadline(t) }
func (s *h1Sock) SetWriteDeadline(t time.Time) error { return s.tc.SetWriteDeadline(t) }
