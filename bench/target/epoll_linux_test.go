//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"syscall"
	"testing"
)

// socketPair is a connected pair of non-blocking stream sockets; the
// server end has a small send buffer so writes to it fill up quickly.
func socketPair(t *testing.T) (server int, peer *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetsockoptInt(fds[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	peer = os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { syscall.Close(fds[0]); peer.Close() })
	return fds[0], peer
}

func TestEpollFlushWaitsForAFullSocketAndResumes(t *testing.T) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(ep)
	fd, peer := socketPair(t)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
		t.Fatal(err)
	}
	l := &eventLoop{ep: ep}
	want := bytes.Repeat(okResponse, 20000) // far more than the socket holds
	c := &epollConn{session: newSession(), pending: want}

	if !l.flush(fd, c) {
		t.Fatal("flush gave up on a full socket")
	}
	if !c.waitingOut || len(c.pending) == 0 {
		t.Fatalf("waitingOut=%v pending=%d: want waiting with bytes left", c.waitingOut, len(c.pending))
	}

	// Drain the peer; each EPOLLOUT event lets the loop write more.
	got := make(chan []byte, 1)
	go func() { b, _ := io.ReadAll(io.LimitReader(peer, int64(len(want)))); got <- b }()
	events := make([]syscall.EpollEvent, 1)
	for rounds := 0; c.waitingOut; rounds++ {
		if rounds > 100000 {
			t.Fatal("never finished writing")
		}
		n, err := syscall.EpollWait(ep, events, 5000)
		if err != nil && err != syscall.EINTR {
			t.Fatal(err)
		}
		if n == 1 && events[0].Events&syscall.EPOLLOUT == 0 {
			t.Fatalf("event %#x while waiting to write, want EPOLLOUT", events[0].Events)
		}
		if n == 1 && !l.serve(fd, c, events[0].Events) {
			t.Fatal("serve dropped the connection while writing")
		}
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Errorf("peer got %d bytes, want %d, equal=%v", len(b), len(want), bytes.Equal(b, want))
	}

	// Back to reading: a request is answered.
	if _, err := peer.Write([]byte("GET / HTTP/1.1\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	if n, err := syscall.EpollWait(ep, events, 5000); err != nil || n != 1 || events[0].Events&syscall.EPOLLIN == 0 {
		t.Fatalf("after writing: %d events %#x, %v; want EPOLLIN", n, events[0].Events, err)
	}
	c.out = make([]byte, 0, 128)
	if !l.serve(fd, c, events[0].Events) {
		t.Fatal("serve dropped the connection")
	}
	resp := make([]byte, len(okResponse))
	if _, err := io.ReadFull(peer, resp); err != nil || !bytes.Equal(resp, okResponse) {
		t.Errorf("answer %q, %v; want okResponse", resp, err)
	}
	if got := l.served.Load(); got != 1 {
		t.Errorf("served = %d, want 1", got)
	}
}
