package server

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
)

// limitConns wraps ln so at most n connections are open at once: one past
// the limit is closed as soon as it is accepted (and counted in refused),
// so idle clients cannot queue up behind the limit either.
func limitConns(ln net.Listener, n int, refused prometheus.Counter) net.Listener {
	return &connLimit{Listener: ln, slots: make(chan struct{}, n), refused: refused}
}

type connLimit struct {
	net.Listener
	slots   chan struct{}
	refused prometheus.Counter
}

func (l *connLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &slotConn{Conn: c, free: func() { <-l.slots }}, nil
		default:
			l.refused.Inc()
			c.Close()
		}
	}
}

// slotConn gives its slot back once, when it closes.
type slotConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *slotConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}

// bodyLimit refuses a request body larger than n bytes, whether its
// length is declared or it comes chunked: a declared one at once (413),
// a chunked one when the reader passes n (the handler's read fails with
// *http.MaxBytesError, which is a 413 too).
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > n {
				return fmt.Errorf("%w: the body is %d bytes, more than the %d this server reads", errTooLarge, r.ContentLength, n)
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(c.Response(), r.Body, n)
			}
			return next(c)
		}
	}
}

// errTooLarge is a body past the limit (413).
var errTooLarge = errors.New("request body too large")

// isTooLarge reports whether err is a body past the limit.
func isTooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb) || errors.Is(err, errTooLarge)
}

// The content security policies: the dashboard runs its own scripts
// (and the inline ones whose hashes it was built with) and talks to this
// server only; a report runs no script at all. Neither may be framed.
const (
	reportCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; " +
		"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

// dashboardCSP is the dashboard's policy, allowing the inline scripts of
// index.html by their hashes.
func dashboardCSP(ui fs.FS) string {
	scripts := "'self'"
	if ui != nil {
		if index, err := fs.ReadFile(ui, "index.html"); err == nil {
			for _, h := range inlineScriptHashes(index) {
				scripts += " '" + h + "'"
			}
		}
	}
	return "default-src 'self'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// inlineScriptHashes are the CSP hashes of the <script> elements without
// attributes in an HTML page.
func inlineScriptHashes(page []byte) []string {
	var out []string
	for _, m := range inlineScript.FindAllSubmatch(page, -1) {
		sum := sha256.Sum256(m[1])
		out = append(out, "sha256-"+base64.StdEncoding.EncodeToString(sum[:]))
	}
	return out
}

// securityHeaders sets the headers every answer carries, and the policy
// that fits it: the API's (nothing runs), a report's or the dashboard's.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		path := c.Request().URL.Path
		switch {
		case strings.HasSuffix(path, "/report"):
			h.Set("Content-Security-Policy", reportCSP)
		case path == "/api" || strings.HasPrefix(path, "/api/") || path == "/metrics":
			h.Set("Content-Security-Policy", apiCSP)
		default:
			h.Set("Content-Security-Policy", s.csp)
		}
		return next(c)
	}
}
