package generator

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// maxRedirects is how many redirects one request may follow.
const maxRedirects = 10

// newTransport is the one transport of a run: keep-alive, idle connections
// sized to the users, no proxy (load goes only where the plan says).
func newTransport(p *plan.Plan, users int, https bool, roots *x509.CertPool) *http.Transport {
	dialTimeout := p.Target.Timeout
	if dialTimeout <= 0 || dialTimeout > 30*time.Second {
		dialTimeout = 30 * time.Second
	}
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:               nil,
		DialContext:         d.DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: max(users, 2),
		MaxConnsPerHost:     p.Target.MaxConns,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: dialTimeout,
		ForceAttemptHTTP2:   https,
	}
	if p.Target.Insecure || roots != nil {
		t.TLSClientConfig = &tls.Config{
			InsecureSkipVerify: p.Target.Insecure, // target.insecure_tls asked for it
			RootCAs:            roots,
		}
	}
	return t
}

// buildURL joins base and the step's literal path and query.
func buildURL(base string, st *step) (*url.URL, error) {
	var b, scratch bytes.Buffer
	if st.absolute {
		b.WriteString(st.path.lit)
	} else {
		b.WriteString(base)
		joinPath(&b, st.path.lit)
	}
	if err := appendQuery(&b, &scratch, st, nil); err != nil {
		return nil, err
	}
	return parseURL(b.String())
}

// joinPath writes base and a relative path with exactly one slash between.
func joinPath(b *bytes.Buffer, path string) {
	if path != "" && path[0] != '/' && path[0] != '?' {
		b.WriteByte('/')
	}
	b.WriteString(path)
}

// appendQuery adds the step's query parameters to the URL in b.
func appendQuery(b, scratch *bytes.Buffer, st *step, data any) error {
	if len(st.query) == 0 {
		return nil
	}
	if bytes.IndexByte(b.Bytes(), '?') >= 0 {
		b.WriteByte('&')
	} else {
		b.WriteByte('?')
	}
	return renderPairs(b, scratch, st.query, data)
}

func parseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q is not an http or https URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q has no host", s)
	}
	return u, nil
}

// roundTrip sends req through rt and follows redirects to allowed hosts
// only; body is the request body, resent on 307/308.
func (e *engine) roundTrip(rt http.RoundTripper, req *http.Request, body []byte) (*http.Response, error) {
	resp, err := rt.RoundTrip(req)
	for n := 0; err == nil && isRedirect(resp.StatusCode); n++ {
		loc := resp.Header.Get("Location")
		if loc == "" {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		u, perr := req.URL.Parse(loc)
		if perr != nil {
			return nil, fmt.Errorf("redirect to %q: %w", loc, perr)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("redirect to %q: not http or https", loc)
		}
		if !e.plan.Allowed(u.Hostname()) || (e.plan.Sandbox != nil && !sameEndpoint(req.URL, u)) {
			// A shared server's plan was checked endpoint by endpoint: a
			// redirect may not lead to another port (127.0.0.1:22).
			return nil, fmt.Errorf("%w: %s", errRedirectBlocked, u.Host)
		}
		if n >= maxRedirects {
			return nil, fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		method := req.Method
		var rd io.Reader
		switch resp.StatusCode {
		case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			if body != nil {
				rd = bytes.NewReader(body)
			}
		default:
			if method != http.MethodGet && method != http.MethodHead {
				method = http.MethodGet
			}
			body = nil
		}
		next, nerr := http.NewRequestWithContext(req.Context(), method, u.String(), rd)
		if nerr != nil {
			return nil, nerr
		}
		if rd != nil {
			next.Body = newBodyReader(body) // rewindable, should the request be sent again
		}
		next.Header = req.Header.Clone()
		if body == nil {
			next.Header.Del("Content-Type")
		}
		req = next
		resp, err = rt.RoundTrip(req)
	}
	return resp, err
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// bodyReader is a request body over bytes that stay untouched while the
// transport may still read them.
type bodyReader struct{ bytes.Reader }

// Close does nothing; the bytes belong to the request.
func (*bodyReader) Close() error { return nil }

func newBodyReader(b []byte) *bodyReader {
	r := &bodyReader{}
	r.Reset(b)
	return r
}

// sameEndpoint reports whether two URLs reach one host and port.
func sameEndpoint(a, b *url.URL) bool {
	ea, err := plan.URLEndpoint(a.String())
	if err != nil {
		return false
	}
	eb, err := plan.URLEndpoint(b.String())
	return err == nil && ea == eb
}
