//go:build linux

package generator

import (
	"net"
	"syscall"
)

// peekClosed looks at conn without waiting and without taking a byte off
// it: true when the peer has closed or reset it, or has sent something.
func peekClosed(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Nothing there (EAGAIN) is an open, quiet connection; bytes nobody
		// asked for (a 408, say), the end of stream or a reset are not.
		closed = rerr != syscall.EAGAIN && rerr != syscall.EINTR
		return true
	})
	return closed || err != nil
}
