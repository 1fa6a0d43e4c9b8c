package generator

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// h2Pool drives an HTTP/2 target (ALPN "h2", found by setupTLS): the
// virtual users share a few connections and each request is a stream on
// one of them. Framing, HPACK and flow control are golang.org/x/net/http2's
// client connection; the pool only decides which connection a user's
// streams go on: user i always uses connection i mod n, where n is
// target.max_conns, or one connection per 100 users when it is unset (100
// concurrent streams is the usual server limit). A connection that breaks
// or is told to go away is redialled by the next request that finds it
// unusable. Latency is measured by the engine from each request's
// intended time, as on every path.
type h2Pool struct {
	e      *engine
	host   string
	addr   string
	conf   *tls.Config
	dialer *net.Dialer
	t      *http2.Transport
	slots  []h2Slot
}

// h2Slot is one of the pool's connections.
type h2Slot struct {
	mu sync.Mutex // held while (re)dialling, so a slot dials once at a time
	cc *http2.ClientConn
}

// h2PerConn is how many users share a connection when target.max_conns
// does not say.
const h2PerConn = 100

// newH2Pool makes the pool; first, the probe's connection, becomes its
// first connection.
func newH2Pool(e *engine, conf *tls.Config, first *tls.Conn) *h2Pool {
	users := max(e.maxUsers(), 1)
	n := e.plan.Target.MaxConns
	if n <= 0 {
		n = (users + h2PerConn - 1) / h2PerConn
	}
	n = min(n, users)
	p := &h2Pool{e: e, host: e.ownHost, addr: dialAddr(e.ownHost, "https"), conf: conf,
		dialer: &net.Dialer{Timeout: e.dialTimeout(), KeepAlive: 30 * time.Second},
		slots:  make([]h2Slot, n)}
	p.t = &http2.Transport{
		TLSClientConfig:            conf,
		DisableCompression:         true, // as the HTTP/1.1 path: bodies are what the server sends
		StrictMaxConcurrentStreams: true,
	}
	if cc, err := p.t.NewClientConn(first); err == nil {
		p.slots[0].cc = cc
	} else {
		first.Close()
	}
	return p
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
		s.mu.Unlock()
	}
}

// conn returns slot i's connection, dialling it when there is none or it
// can take no more requests.
func (p *h2Pool) conn(ctx context.Context, i int) (*http2.ClientConn, error) {
	s := &p.slots[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cc != nil && s.cc.CanTakeNewRequest() {
		return s.cc, nil
	}
	if s.cc != nil {
		go s.cc.Shutdown(context.Background()) // lets its streams in flight finish
		s.cc = nil
	}
	if err := p.e.reqCtx.Err(); err != nil {
		return nil, err
	}
	tc, _, err := dialTLS(ctx, p.dialer, p.addr, p.conf)
	if err != nil {
		return nil, err
	}
	if proto := tc.ConnectionState().NegotiatedProtocol; proto != alpnH2 {
		tc.Close()
		return nil, errors.New("the target no longer offers HTTP/2 (ALPN " + proto + ")")
	}
	cc, err := p.t.NewClientConn(tc)
	if err != nil {
		tc.Close()
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
// request that met a connection closing under it (the server's GOAWAY) is
// sent once more on a fresh one.
func (u *h2User) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" || req.URL.Host != u.p.host {
		return u.p.e.transport.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		cc, err := u.p.conn(req.Context(), u.slot)
		if err != nil {
			return nil, err
		}
		resp, err := cc.RoundTrip(req)
		if err == nil {
			return resp, nil
		}
		if attempt > 0 || req.Context().Err() != nil || cc.CanTakeNewRequest() || !replayable(req) || !rewind(req) {
			return nil, err
		}
	}
}
