package generator

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// h2Pool drives an HTTP/2 target (ALPN "h2", found by setupTLS): the
// virtual users share a few connections and each request is a stream on
// one of them. Framing, HPACK and flow control are net/http's HTTP/2 client
// connection (http.ClientConn, the maintained successor of
// golang.org/x/net/http2's); the pool only decides which connection a
// user's streams go on: user i always uses connection i mod n, where n is
// target.max_conns, or one connection per 100 users when it is unset (100
// concurrent streams is the usual server limit). A connection that broke
// or can take no more streams (the server's GOAWAY) is replaced by the next
// request that finds it so. Latency is measured by the engine from each
// request's intended time, as on every path.
type h2Pool struct {
	e     *engine
	host  string
	addr  string
	t     *http.Transport
	slots []h2Slot
}

// h2Slot is one of the pool's connections.
type h2Slot struct {
	mu      sync.Mutex // held while (re)dialling, so a slot dials once at a time
	cc      *http.ClientConn
	retired []*http.ClientConn // replaced, closed at the end (their streams may still run)
}

// h2PerConn is how many users share a connection when target.max_conns
// does not say.
const h2PerConn = 100

// newH2Pool makes the pool; its connections use conf (the run's session
// cache) and speak only HTTP/2.
func newH2Pool(e *engine, conf *tls.Config) *h2Pool {
	users := max(e.maxUsers(), 1)
	n := e.plan.Target.MaxConns
	if n <= 0 {
		n = (users + h2PerConn - 1) / h2PerConn
	}
	n = min(n, users)
	protos := new(http.Protocols)
	protos.SetHTTP2(true)
	d := &net.Dialer{Timeout: e.dialTimeout(), KeepAlive: 30 * time.Second}
	return &h2Pool{e: e, host: e.ownHost, addr: dialAddr(e.ownHost, "https"), slots: make([]h2Slot, n),
		t: &http.Transport{
			Proxy:               nil, // load goes only where the plan says
			DialContext:         d.DialContext,
			TLSClientConfig:     conf,
			TLSHandshakeTimeout: e.dialTimeout(),
			DisableCompression:  true, // as on HTTP/1.1: bodies are what the server sends
			Protocols:           protos,
			HTTP2:               &http.HTTP2Config{StrictMaxConcurrentRequests: true},
		}}
}

// start closes every connection when the run's requests end.
func (p *h2Pool) start(reqCtx context.Context) {
	context.AfterFunc(reqCtx, p.closeAll)
}

func (p *h2Pool) closeAll() {
	for i := range p.slots {
		s := &p.slots[i]
		s.mu.Lock()
		if s.cc != nil {
			s.cc.Close()
		}
		for _, cc := range s.retired {
			cc.Close()
		}
		s.retired = nil
		s.mu.Unlock()
	}
}

// usable reports whether cc can still carry new streams: not broken, and
// not closed to new streams with none running (a GOAWAY).
func usable(cc *http.ClientConn) bool {
	return cc.Err() == nil && (cc.Available() > 0 || cc.InFlight() > 0)
}

// conn returns slot i's connection, dialling one when there is none or
// stale (the connection the caller's last request failed on) is it.
func (p *h2Pool) conn(ctx context.Context, i int, stale *http.ClientConn) (*http.ClientConn, error) {
	s := &p.slots[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cc != nil && s.cc != stale && usable(s.cc) {
		return s.cc, nil
	}
	if s.cc != nil {
		s.retired = append(s.retired, s.cc)
		s.cc = nil
	}
	if err := p.e.reqCtx.Err(); err != nil {
		return nil, err
	}
	cc, err := p.t.NewClientConn(ctx, "https", p.addr)
	if err != nil {
		return nil, err
	}
	s.cc = cc
	return cc, nil
}

// h2User is one virtual user's view of the pool.
type h2User struct {
	p    *h2Pool
	slot int
}

func (p *h2Pool) user(id int) *h2User {
	return &h2User{p: p, slot: id % len(p.slots)}
}

// RoundTrip sends req as a stream on the user's connection. A request for
// another host goes through the run's net/http transport. A replayable
// request that met a connection no longer usable (closed, or told to go
// away) is sent once more on a fresh one.
func (u *h2User) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.URL.Host != u.p.host {
		return u.p.e.transport.RoundTrip(req)
	}
	var stale *http.ClientConn
	for attempt := 0; ; attempt++ {
		cc, err := u.p.conn(req.Context(), u.slot, stale)
		if err != nil {
			return nil, err
		}
		resp, err := cc.RoundTrip(req)
		if err == nil {
			return resp, nil
		}
		if usable(cc) {
			return nil, err
		}
		stale = cc
		if attempt > 0 || req.Context().Err() != nil || !replayable(req) || !rewind(req) {
			return nil, err
		}
	}
}
