package generator

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// h1Client is one virtual user's own HTTP/1.1 connection to an http or
// https target (TLS: h1_tls.go). The user writes the request and reads the response on its own
// goroutine, so a request costs one write and one read on the socket and no
// hand-over between goroutines (net/http's transport runs a reader and a
// writer goroutine per connection). It is used when target.max_conns is unset
// or not below the users and the target does not speak HTTP/2; bounded
// HTTP/1.1 connections and redirects to other hosts go through the run's
// net/http transport.
//
// Cancelling a request's context interrupts its socket I/O (the connection
// is then closed); the end of the run closes the connection.
type h1Client struct {
	e      *engine
	scheme string // http or https
	host   string // the URL host it serves: requests for any other go to e.transport
	addr   string // host:port to dial
	dialer *net.Dialer
	tls    *tls.Config // https: the run's, shared (its session cache above all)

	mu      sync.Mutex      // guards conn and watched against interrupt and closeAtEnd; only the user writes them
	conn    net.Conn        // the TLS connection over sock for https, else sock
	raw     net.Conn        // the TCP connection, peeked while idle
	sock    *h1Sock         // raw, sending each request with the first read of its answer
	watched context.Context // the context whose cancellation interrupts conn
	br      *bufio.Reader
	bw      *bufio.Writer

	stopWatch func() bool
	lastUse   time.Duration // when the connection was last given a request (since e.start)

	// Set by the virtual user that owns the client: when it sends the
	// current request (since e.start), its prepared request for the step,
	// and its traceparent, sent with every request (h1_write.go).
	now  time.Duration
	prep *h1Prepared
	tp   *[traceparentLen]byte

	resp http.Response // reused: the user reads one response at a time
	body h1Body
	line []byte // a header line longer than br's buffer
}

// h1BufSize is the size of the connection's read and write buffers.
const h1BufSize = 8 << 10

// userAgent is sent unless the plan sets a User-Agent header.
const userAgent = "headroom"

func newH1Client(e *engine, scheme, host string) *h1Client {
	c := &h1Client{e: e, scheme: scheme, host: host, addr: dialAddr(host, scheme),
		dialer: &net.Dialer{Timeout: e.dialTimeout(), KeepAlive: 30 * time.Second}}
	if scheme == "https" {
		c.tls = e.tlsH1
	}
	c.body.c = c
	c.resp.Body = &c.body
	context.AfterFunc(e.reqCtx, c.closeAtEnd)
	return c
}

// RoundTrip sends req and reads the response head; the body is read from
// resp.Body, which must be closed before the next request. A connection
// that sat idle is checked before it is reused, and a replayable request on
// a reused connection that got no byte of answer (the server had closed it)
// is sent once more on a fresh connection (h1_idle.go).
func (c *h1Client) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != c.scheme || req.URL.Host != c.host {
		if c.tp != nil && req.Header != nil { // the user's traceparent is not in its headers
			req.Header["Traceparent"] = []string{string(c.tp[:])}
		}
		return c.e.transport.RoundTrip(req)
	}
	ctx := req.Context()
	c.watch(ctx)
	now := c.now
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		reused := c.conn != nil
		if reused && c.closedWhileIdle(now) {
			c.close()
			reused = false
		}
		c.lastUse = now
		if !reused {
			if err := c.dial(ctx); err != nil {
				return nil, err
			}
		}
		resp, answered, err := c.exchange(req)
		if err == nil {
			return resp, nil
		}
		c.close()
		if !reused || answered || attempt > 0 || ctx.Err() != nil || !isStaleConn(err) || !replayable(req) || !rewind(req) {
			return nil, err
		}
	}
}

// rewind makes req's body readable from its start again.
func rewind(req *http.Request) bool {
	switch b := req.Body.(type) {
	case nil:
		return true
	case *bodyReader:
		_, err := b.Seek(0, io.SeekStart)
		return err == nil
	}
	return req.Body == http.NoBody
}

// watch makes the cancellation of ctx interrupt the connection's I/O. A
// connection an earlier context may have interrupted is closed.
func (c *h1Client) watch(ctx context.Context) {
	if ctx == c.watched {
		return
	}
	if c.stopWatch != nil && !c.stopWatch() {
		c.close()
	}
	c.mu.Lock()
	c.watched = ctx
	c.mu.Unlock()
	c.stopWatch = context.AfterFunc(ctx, func() { c.interrupt(ctx) })
}

// interrupt makes any blocked read or write on the connection return, if
// ctx is still the context watched (a late call for an earlier one must
// not cut a fresh connection's request short).
func (c *h1Client) interrupt(ctx context.Context) {
	c.mu.Lock()
	if c.conn != nil && c.watched == ctx {
		_ = c.conn.SetDeadline(time.Unix(1, 0))
	}
	c.mu.Unlock()
}

func (c *h1Client) dial(ctx context.Context) error {
	raw, err := c.dialer.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	sock := newH1Sock(raw)
	var conn net.Conn = sock
	if c.tls != nil {
		tc := tls.Client(sock, c.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return err
		}
		conn = tc
	}
	c.mu.Lock()
	c.conn, c.raw = conn, raw
	c.mu.Unlock()
	c.sock = sock
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, h1BufSize)
		c.bw = bufio.NewWriterSize(conn, h1BufSize)
	} else {
		c.br.Reset(conn)
		c.bw.Reset(conn)
	}
	if ctx.Err() != nil { // cancelled while dialling: interrupt may have missed it
		c.close()
		return ctx.Err()
	}
	return nil
}

// closeAtEnd closes the connection when the run ends. It leaves c.conn to
// the user, who alone sets it: a request still using it fails, and the user
// then drops it.
func (c *h1Client) closeAtEnd() {
	c.mu.Lock()
	if c.conn != nil {
		c.conn.Close()
	}
	c.mu.Unlock()
}

// close closes the connection, if any; the next request dials a new one.
// Only the user calls it.
func (c *h1Client) close() {
	c.mu.Lock()
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.raw = nil, nil
	}
	c.mu.Unlock()
}

// exchange writes req and reads the response head. answered says a byte of
// the answer arrived (so the request must not be sent again).
func (c *h1Client) exchange(req *http.Request) (resp *http.Response, answered bool, err error) {
	if err := c.writeRequest(req); err != nil {
		return nil, false, err
	}
	return c.readResponse(req)
}

// readResponse reads the status line and headers (skipping informational
// 1xx answers) and sets up the body reader.
func (c *h1Client) readResponse(req *http.Request) (*http.Response, bool, error) {
	r := &c.resp
	answered := false // an informational answer counts: the server has the request
	for {
		line, err := c.readLine()
		if err != nil {
			return nil, answered || len(line) > 0 || c.br.Buffered() > 0, err
		}
		answered = true
		if err := parseStatusLine(line, r); err != nil {
			return nil, true, err
		}
		h, err := c.readHeader(r.StatusCode)
		if err != nil {
			return nil, true, err
		}
		if r.StatusCode >= 100 && r.StatusCode < 200 && r.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		r.Request = req
		r.ContentLength = h.length
		c.body.start(req, r, h)
		return r, true, nil
	}
}

// h1Head is what the connection needs of a response's headers.
type h1Head struct {
	length  int64 // -1 when not given
	chunked bool
	close   bool // Connection: close, or HTTP/1.0 without keep-alive
}

// readHeader reads header lines up to the blank one. It keeps Location
// (for redirects) in resp.Header and reads the framing headers.
func (c *h1Client) readHeader(status int) (h1Head, error) {
	r := &c.resp
	h := h1Head{length: -1}
	closeOpt, keepAlive := false, false // options of the Connection lines
	if r.Header != nil {
		clear(r.Header)
	}
	for {
		line, err := c.readLine()
		if err != nil {
			return h, err
		}
		if len(line) == 0 {
			h.close = closeOpt || (r.ProtoMinor == 0 && !keepAlive)
			return h, nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return h, fmt.Errorf("malformed response header line %q", truncate(line))
		}
		key, val := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(key, "content-length"):
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n < 0 || (h.length >= 0 && n != h.length) {
				return h, fmt.Errorf("malformed Content-Length %q", truncate(val))
			}
			h.length = n
		case asciiEqualFold(key, "transfer-encoding"):
			h.chunked = asciiEqualFold(val, "chunked")
			if !h.chunked {
				return h, fmt.Errorf("unsupported Transfer-Encoding %q", truncate(val))
			}
		case asciiEqualFold(key, "connection"):
			for rest, more := val, true; more; {
				var opt []byte
				opt, rest, more = bytes.Cut(rest, []byte(","))
				opt = bytes.TrimSpace(opt)
				closeOpt = closeOpt || asciiEqualFold(opt, "close")
				keepAlive = keepAlive || asciiEqualFold(opt, "keep-alive")
			}
		case asciiEqualFold(key, "location") && isRedirect(status):
			if r.Header == nil {
				r.Header = make(http.Header, 1)
			}
			r.Header.Set("Location", string(val))
		}
	}
}

// readLine returns the next line without its CR LF; the bytes are valid
// until the next read.
func (c *h1Client) readLine() ([]byte, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.line = append(c.line[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(c.line) > maxHeaderLine {
				return c.line, fmt.Errorf("response header line longer than %d bytes", maxHeaderLine)
			}
			line, err = c.br.ReadSlice('\n')
			c.line = append(c.line, line...)
		}
		line = c.line
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return line, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// maxHeaderLine bounds one response header line.
const maxHeaderLine = 1 << 20

// parseStatusLine reads "HTTP/1.x NNN reason" into r.
func parseStatusLine(line []byte, r *http.Response) error {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' ||
		(line[7] != '0' && line[7] != '1') || (len(line) > 12 && line[12] != ' ') {
		return fmt.Errorf("malformed HTTP status line %q", truncate(line))
	}
	code := 0
	for _, d := range line[9:12] {
		if d < '0' || d > '9' {
			return fmt.Errorf("malformed HTTP status code in %q", truncate(line))
		}
		code = code*10 + int(d-'0')
	}
	if code < 100 {
		return fmt.Errorf("malformed HTTP status code in %q", truncate(line))
	}
	r.StatusCode = code
	r.Proto = "HTTP/1.1"
	r.ProtoMajor, r.ProtoMinor = 1, int(line[7]-'0')
	if r.ProtoMinor == 0 {
		r.Proto = "HTTP/1.0"
	}
	r.Status = "" // not kept: the generator needs only the code
	return nil
}

func truncate(b []byte) string {
	if len(b) > 80 {
		return string(b[:80]) + "…"
	}
	return string(b)
}

// asciiEqualFold reports whether b equals the lower-case ASCII word s,
// ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		ch := b[i]
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		if ch != s[i] {
			return false
		}
	}
	return true
}

// h1Body reads one response body off the connection. Once the body has
// been read to its end the connection serves the next request, unless the
// response asked to close it; a body closed early closes the connection.
type h1Body struct {
	c       *h1Client
	mode    int
	left    int64     // bytesMode: bytes still to read
	chunks  io.Reader // chunkedMode
	done    bool
	closeIt bool
}

const (
	bytesMode   = iota // Content-Length (or no body at all)
	chunkedMode        // Transfer-Encoding: chunked
	eofMode            // until the server closes the connection
)

func (b *h1Body) start(req *http.Request, r *http.Response, h h1Head) {
	*b = h1Body{c: b.c, closeIt: h.close || r.StatusCode == http.StatusSwitchingProtocols}
	switch {
	case req.Method == http.MethodHead || r.StatusCode == http.StatusNoContent ||
		r.StatusCode == http.StatusNotModified || r.StatusCode < 200:
		b.mode = bytesMode
	case h.chunked:
		b.mode = chunkedMode
		b.chunks = httputil.NewChunkedReader(b.c.br)
	case h.length >= 0:
		b.mode, b.left = bytesMode, h.length
	default:
		b.mode, b.closeIt = eofMode, true
	}
	if b.mode == bytesMode && b.left == 0 {
		b.done = true
	}
}

// Read reads the body.
func (b *h1Body) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	br := b.c.br
	switch b.mode {
	case bytesMode:
		if int64(len(p)) > b.left {
			p = p[:b.left]
		}
		n, err := br.Read(p)
		b.left -= int64(n)
		if b.left == 0 {
			b.done = true
			return n, nil
		}
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, err
	case chunkedMode:
		n, err := b.chunks.Read(p)
		if err == io.EOF {
			if err := b.c.skipTrailers(); err != nil {
				return n, err
			}
			b.done = true
		}
		return n, err
	default:
		n, err := br.Read(p)
		if err == io.EOF {
			b.done = true
		}
		return n, err
	}
}

// skipTrailers reads the trailer lines after the last chunk.
func (c *h1Client) skipTrailers() error {
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			return nil
		}
	}
}

// Close ends the body: the connection stays for the next request only when
// the body was read to its end, the server did not ask to close it, and no
// byte beyond the response has arrived (it would be read as the next
// request's answer).
func (b *h1Body) Close() error {
	if !b.done || b.closeIt || b.c.br.Buffered() > 0 {
		b.c.close()
	}
	b.done = true
	return nil
}

// isStaleConn reports whether err is what a request meets on a connection
// the server has closed.
func isStaleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
