//go:build unix

package generator

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// rawRead is what reading through the raw descriptor needs: the
// descriptor, and one sendThenRead's arguments and results (fields, not a
// closure, so a read allocates nothing).
type rawRead struct {
	rc     syscall.RawConn // nil when the connection has none (then a plain write and read)
	p      []byte
	n      int
	err    error
	sent   bool
	readFn func(fd uintptr) bool
}

// useRaw sets up reading through the connection's raw descriptor.
func (s *h1Sock) useRaw() {
	if sc, ok := s.tc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			s.rc = rc
		}
	}
	s.readFn = s.sendThenRead
}

// sendAndRead sends the held request and reads its answer into p. It runs
// on the socket's raw descriptor: RawConn.Read readies the poller for the
// socket before sendThenRead first runs, and sendThenRead sends the request
// on that first call and waits (returns false). An answer that arrives
// from then on wakes it, however fast the server is; a wake-up with
// nothing to read (EAGAIN) waits again.
func (s *h1Sock) sendAndRead(p []byte) (int, error) {
	if s.rc == nil {
		if err := s.flush(); err != nil {
			return 0, err
		}
		return s.tc.Read(p)
	}
	s.p, s.n, s.err, s.sent = p, 0, nil, false
	err := s.rc.Read(s.readFn)
	n, rerr := s.n, s.err
	s.p, s.err = nil, nil
	if s.sent {
		s.out = s.out[:0] // sent, or failed: not to be sent again
	}
	switch {
	case rerr != nil:
		return n, rerr
	case err != nil: // a deadline passed or the connection was closed while waiting
		var oe *net.OpError
		if errors.As(err, &oe) {
			err = oe.Err
		}
		return 0, s.opError(err)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// sendThenRead is RawConn.Read's callback: the first call sends what is
// held (through the connection's own Write, which waits for room in the
// socket's buffer as needed), later ones read.
func (s *h1Sock) sendThenRead(fd uintptr) bool {
	if !s.sent {
		s.sent = true
		if _, err := s.tc.Write(s.out); err != nil {
			s.err = err
			return true
		}
		return false
	}
	for {
		n, err := syscall.Read(int(fd), s.p)
		switch err {
		case nil:
			s.n = n
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		s.err = s.opError(os.NewSyscallError("read", err))
		return true
	}
}

// opError wraps err as the connection's Read would.
func (s *h1Sock) opError(err error) error {
	return &net.OpError{Op: "read", Net: "tcp", Source: s.tc.LocalAddr(), Addr: s.tc.RemoteAddr(), Err: err}
}
