//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
)

// serveEpoll answers like the raw responder, but from one event loop on
// one OS thread: epoll says which connections have bytes, and each gets one
// read and one write, with no goroutine parked and woken per request. It
// is the cheapest server per request here, so on one core it leaves the
// tools, not the target, to set the pace.
func serveEpoll(ctx context.Context, ln net.Listener) (counts, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return counts{}, fmt.Errorf("epoll_create1: %w", err)
	}
	l := &eventLoop{ep: ep, open: make(map[int]struct{}), sessions: make(map[int]*epollConn)}
	var stopping atomic.Bool
	acceptDone := make(chan error, 1)
	go func() { acceptDone <- l.acceptAll(ln) }()
	go func() {
		<-ctx.Done()
		stopping.Store(true)
		ln.Close()
	}()
	loopErr := l.run(&stopping)
	ln.Close()
	acceptErr := <-acceptDone
	l.closeAll()
	syscall.Close(ep)
	return counts{l.served.Load(), l.accepted.Load()}, errors.Join(loopErr, acceptErr)
}

// eventLoop is the epoll set and the connections in it. The accept
// goroutine adds connections; the loop alone reads, writes and closes them.
type eventLoop struct {
	ep       int
	served   atomic.Int64
	accepted atomic.Int64

	mu   sync.Mutex
	open map[int]struct{} // every registered fd, for closing at the end

	sessions map[int]*epollConn // owned by run
}

// epollConn is one connection's state inside the loop.
type epollConn struct {
	*session
	out        []byte
	pending    []byte // answers the socket did not take yet
	waitingOut bool   // registered for EPOLLOUT until pending is written
	closeAfter bool   // close once pending is written
}

// acceptAll hands every accepted connection's socket to epoll until ln closes.
func (l *eventLoop) acceptAll(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		l.accepted.Add(1)
		fd, err := detach(c)
		if err != nil {
			return err
		}
		l.mu.Lock()
		l.open[fd] = struct{}{}
		err = syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)})
		l.mu.Unlock()
		if err != nil {
			return fmt.Errorf("epoll_ctl add: %w", err)
		}
	}
}

// detach takes a non-blocking duplicate of c's socket and closes c.
func detach(c net.Conn) (int, error) {
	defer c.Close()
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(s uintptr) { fd, dupErr = syscall.Dup(int(s)) }); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, fmt.Errorf("dup: %w", dupErr)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

// run serves events until stopping is set (it looks at least every 100 ms).
func (l *eventLoop) run(stopping *atomic.Bool) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	events := make([]syscall.EpollEvent, 256)
	for !stopping.Load() {
		n, err := syscall.EpollWait(l.ep, events, 100)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			fd := int(ev.Fd)
			c := l.sessions[fd]
			if c == nil {
				c = &epollConn{session: newSession(), out: make([]byte, 0, 4096)}
				l.sessions[fd] = c
			}
			if !l.serve(fd, c, ev.Events) {
				l.drop(fd)
			}
		}
	}
	return nil
}

// serve handles one readiness event; false means the connection is done.
func (l *eventLoop) serve(fd int, c *epollConn, ev uint32) bool {
	if c.waitingOut { // nothing is read until the last answers are out
		return l.flush(fd, c)
	}
	if ev&(syscall.EPOLLERR|syscall.EPOLLHUP) != 0 && ev&syscall.EPOLLIN == 0 {
		return false
	}
	n, err := syscall.Read(fd, c.free())
	if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
		return true
	}
	if err != nil || n == 0 {
		return false
	}
	out, served, closing := c.answer(n, c.out[:0])
	c.out, c.pending, c.closeAfter = out, out, closing
	l.served.Add(served)
	return l.flush(fd, c)
}

// flush writes what is pending. When the socket is full it waits for
// EPOLLOUT instead of EPOLLIN, and goes back once all is written.
func (l *eventLoop) flush(fd int, c *epollConn) bool {
	for len(c.pending) > 0 {
		n, err := syscall.Write(fd, c.pending)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EAGAIN):
			if c.waitingOut {
				return true
			}
			c.waitingOut = true
			return l.watch(fd, syscall.EPOLLOUT)
		case err != nil:
			return false
		}
		c.pending = c.pending[n:]
	}
	if c.closeAfter {
		return false
	}
	if c.waitingOut {
		c.waitingOut = false
		return l.watch(fd, syscall.EPOLLIN)
	}
	return true
}

// watch sets the events epoll reports for fd.
func (l *eventLoop) watch(fd int, events uint32) bool {
	ev := &syscall.EpollEvent{Events: events, Fd: int32(fd)}
	return syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_MOD, fd, ev) == nil
}

// drop closes a finished connection.
func (l *eventLoop) drop(fd int) {
	delete(l.sessions, fd)
	l.mu.Lock()
	delete(l.open, fd)
	_ = syscall.EpollCtl(l.ep, syscall.EPOLL_CTL_DEL, fd, nil)
	syscall.Close(fd)
	l.mu.Unlock()
}

// closeAll closes every connection still open.
func (l *eventLoop) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for fd := range l.open {
		syscall.Close(fd)
	}
	clear(l.open)
	clear(l.sessions)
}
