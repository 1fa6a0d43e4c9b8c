package generator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// TLS on the users' own connections. An https target is served like a
// plain one: each virtual user holds one connection, here a crypto/tls
// client over TCP, and writes and reads it on its own goroutine. The run
// shares one client session cache, so a user that has to dial again
// resumes its TLS session instead of a full handshake. target.insecure_tls
// skips the certificate check; otherwise the system's roots apply (Go
// reads SSL_CERT_FILE and SSL_CERT_DIR), with target.ca_pem's certificates
// added: that is how a staging target's private CA is trusted.
//
// Before the load starts the run dials the target once offering both
// "h2" and "http/1.1" (ALPN). A target that picks h2 is then driven over
// HTTP/2 with streams multiplexed over a few connections (h2.go); any
// other answer, or no answer, keeps the own HTTP/1.1 connections, which
// offer only "http/1.1".

// alpnH2 and alpnH1 are the ALPN protocol names.
const (
	alpnH2 = "h2"
	alpnH1 = "http/1.1"
)

// newTLSConfig is the run's client TLS configuration for host (host:port
// or host of the base URL), offering protos; roots nil trusts the system's.
func newTLSConfig(host string, insecure bool, roots *x509.CertPool, sessions tls.ClientSessionCache, protos ...string) *tls.Config {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	return &tls.Config{
		ServerName:         strings.Trim(name, "[]"),
		InsecureSkipVerify: insecure, // target.insecure_tls asked for it
		RootCAs:            roots,
		ClientSessionCache: sessions,
		NextProtos:         protos,
		MinVersion:         tls.VersionTLS12,
	}
}

// rootCAs is the certificate pool a run trusts: nil (the system's roots)
// when the plan adds none, else the system's roots and target.ca_pem's
// certificates (those alone where the system has no pool).
func rootCAs(p *plan.Plan) (*x509.CertPool, error) {
	if p.Target.CAPEM == "" {
		return nil, nil
	}
	certs, err := plan.ParseCAPEM(p.Target.CAPEM)
	if err != nil {
		return nil, &plan.Error{File: p.File, Field: "target.ca_pem", Msg: err.Error()}
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// dialAddr is host with the scheme's default port when it has none.
func dialAddr(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := "80"
	if scheme == "https" {
		port = "443"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port)
}

// dialTimeout is the plan's request timeout, capped at 30 s, for dials and
// handshakes.
func (e *engine) dialTimeout() time.Duration {
	t := e.plan.Target.Timeout
	if t <= 0 || t > 30*time.Second {
		t = 30 * time.Second
	}
	return t
}

// dialTLS dials addr and completes the TLS handshake under ctx.
func dialTLS(ctx context.Context, d *net.Dialer, addr string, conf *tls.Config) (*tls.Conn, net.Conn, error) {
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	tc := tls.Client(raw, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, nil, err
	}
	return tc, raw, nil
}

// setupTLS decides, for an https base URL served by the users' own
// connections, whether the target speaks HTTP/2: it dials once offering
// h2 and http/1.1 and looks at what the server picked. The dial's session
// goes into the cache the users then resume. A failed probe leaves
// HTTP/1.1: the users' requests will meet and report the same failure.
func (e *engine) setupTLS(ctx context.Context) {
	if e.ownScheme != "https" {
		return
	}
	e.tlsSessions = tls.NewLRUClientSessionCache(max(e.maxUsers(), 64))
	e.tlsH1 = newTLSConfig(e.ownHost, e.plan.Target.Insecure, e.roots, e.tlsSessions, alpnH1)
	probe := newTLSConfig(e.ownHost, e.plan.Target.Insecure, e.roots, e.tlsSessions, alpnH2, alpnH1)
	ctx, cancel := context.WithTimeout(ctx, min(e.dialTimeout(), 5*time.Second))
	defer cancel()
	d := &net.Dialer{Timeout: e.dialTimeout()}
	tc, _, err := dialTLS(ctx, d, dialAddr(e.ownHost, "https"), probe)
	if err != nil {
		return
	}
	proto := tc.ConnectionState().NegotiatedProtocol
	tc.Close() // its session stays in the cache for the users' connections
	if proto == alpnH2 {
		e.h2 = newH2Pool(e, newTLSConfig(e.ownHost, e.plan.Target.Insecure, e.roots, e.tlsSessions))
	}
}

// ownTarget returns the scheme and host the users open their own
// connections to: the base URL's, when it is http or https.
// HEADROOM_HTTP_CLIENT=net/http sends everything through net/http's
// transport instead. h1 says the users may hold one HTTP/1.1 connection
// each: target.max_conns is unset or not below the number of users (an
// HTTP/2 target multiplexes within max_conns instead, h2.go).
func (e *engine) ownTarget() (scheme, host string, h1 bool) {
	if os.Getenv("HEADROOM_HTTP_CLIENT") == "net/http" {
		return "", "", false
	}
	u, err := url.Parse(e.base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", false
	}
	mc := e.plan.Target.MaxConns
	return u.Scheme, u.Host, mc <= 0 || mc >= e.maxUsers()
}
