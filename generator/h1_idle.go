package generator

import (
	"net/http"
	"time"
)

// A server may close a kept-alive connection while it sits idle (its
// keep-alive timeout), or answer it with an unasked 408 first. net/http's
// transport notices that with a reader goroutine per connection; a user's
// own connection instead looks before it reuses a connection that has been
// idle for staleAfter, with one non-blocking peek (peekClosed), and then
// dials a fresh one. A request that still meets a closed connection before
// any answer is sent again only when it is safe to repeat.

// staleAfter is how long a connection may sit idle before a request checks
// that the server has not closed it. Connections kept busy, as at maximum
// rate, are never checked.
const staleAfter = 500 * time.Millisecond

// closedWhileIdle reports whether the connection, at now, has been idle
// long enough to be checked and the check finds it closed, reset, or
// holding bytes nobody asked for. (Bytes already buffered never get this
// far: a body's Close drops a connection holding any.) Idle is counted from
// when the last request was sent, which needs no clock reading when its
// answer ends, and checks a connection at least as often as from that end.
func (c *h1Client) closedWhileIdle(now time.Duration) bool {
	return now-c.lastUse >= staleAfter && peekClosed(c.raw)
}

// replayable reports whether req may be sent again after its connection
// broke before any answer came: the server may have acted on it, so only
// methods that are idempotent, or a request carrying an idempotency key,
// are repeated (as net/http does).
func replayable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}
