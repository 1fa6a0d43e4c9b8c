//go:build !linux

package main

import (
	"context"
	"errors"
	"net"
)

// serveEpoll needs Linux's epoll.
func serveEpoll(context.Context, net.Listener) (counts, error) {
	return counts{}, errors.New("-mode epoll works on Linux only")
}
