package generator

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"golang.org/x/net/http/httpguts"
)

// Writing a request on a user's own HTTP/1.1 connection. What never
// changes between a user's requests for one step (the request line, Host,
// the literal headers, User-Agent) is rendered once (prepareH1); a request
// then adds the templated headers, the traceparent (written from the
// user's buffer, no string made), Content-Length and the body, and the
// whole request leaves in one write.

// h1Prepared is a user's request for one step, with the part of its head
// that never changes rendered once. It applies to a request only while
// that request is req with the URL url.
type h1Prepared struct {
	req  *http.Request
	url  *url.URL
	head []byte   // request line, Host, literal headers, User-Agent; nil: write it all each time
	dyn  []string // the keys of the headers rendered per request, in req.Header
}

// prepareH1 renders req's head but for the headers named in dyn, for a
// client whose traceparent comes from the user (c.tp). A head that would be
// refused (an invalid Host or header) is not rendered: each request then
// writes it, and fails, as without preparation.
func prepareH1(req *http.Request, dyn []string) *h1Prepared {
	p := &h1Prepared{req: req, url: req.URL}
	c := &h1Client{tp: new([traceparentLen]byte)} // skipField as the user's client
	for _, k := range dyn {
		if !c.skipField(k) {
			p.dyn = append(p.dyn, k)
		}
	}
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	if err := writeStart(w, req); err != nil {
		return p
	}
	agent := false
	for k, vs := range req.Header {
		agent = agent || k == "User-Agent"
		if c.skipField(k) || slices.Contains(dyn, k) {
			continue
		}
		if err := writeField(w, k, vs); err != nil {
			return p
		}
	}
	if !agent {
		w.WriteString("User-Agent: " + userAgent + "\r\n")
	}
	if w.Flush() == nil {
		p.head = b.Bytes()
	}
	return p
}

// writeRequest writes req's head and body; the end of it is sent with
// the first read of the answer (h1_sock.go). A user's prepared request
// (c.prep) starts with its head rendered once; the traceparent comes from
// c.tp when the user set it.
func (c *h1Client) writeRequest(req *http.Request) error {
	w := c.bw
	if p := c.prep; p != nil && p.req == req && p.url == req.URL && p.head != nil {
		w.Write(p.head)
		for _, k := range p.dyn {
			if err := writeField(w, k, req.Header[k]); err != nil {
				return err
			}
		}
	} else if err := c.writeHead(req); err != nil {
		return err
	}
	if c.tp != nil {
		w.WriteString("Traceparent: ")
		w.Write(c.tp[:])
		w.WriteString("\r\n")
	}
	hasBody := req.Body != nil && req.Body != http.NoBody
	if hasBody || req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch {
		w.WriteString("Content-Length: ")
		var num [20]byte
		w.Write(strconv.AppendInt(num[:0], req.ContentLength, 10))
		w.WriteString("\r\n")
	}
	w.WriteString("\r\n")
	if hasBody {
		if _, err := io.Copy(w, req.Body); err != nil {
			return err
		}
	}
	c.sock.hold = true
	err := w.Flush()
	c.sock.hold = false
	return err
}

// writeHead writes req's request line, Host and header lines (with a
// User-Agent unless req has one) to w, leaving out the framing headers and,
// when c.tp is set, Traceparent.
func (c *h1Client) writeHead(req *http.Request) error {
	w := c.bw
	if err := writeStart(w, req); err != nil {
		return err
	}
	agent := false
	for k, vs := range req.Header {
		if c.skipField(k) {
			continue
		}
		agent = agent || k == "User-Agent"
		if err := writeField(w, k, vs); err != nil {
			return err
		}
	}
	if !agent {
		w.WriteString("User-Agent: " + userAgent + "\r\n")
	}
	return nil
}

// skipField reports whether header k is left out of the head: the framing
// is the request's own (as with net/http), the traceparent c.tp's.
func (c *h1Client) skipField(k string) bool {
	switch k {
	case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
		return true
	case "Traceparent":
		return c.tp != nil
	}
	return false
}

// writeStart writes the request line and the Host line.
func writeStart(w *bufio.Writer, req *http.Request) error {
	u := req.URL
	w.WriteString(req.Method)
	w.WriteByte(' ')
	if u.Opaque != "" {
		w.WriteString(u.RequestURI())
	} else {
		if p := u.EscapedPath(); p != "" {
			w.WriteString(p)
		} else {
			w.WriteByte('/')
		}
		if u.ForceQuery || u.RawQuery != "" {
			w.WriteByte('?')
			w.WriteString(u.RawQuery)
		}
	}
	w.WriteString(" HTTP/1.1\r\nHost: ")
	host := req.Host
	if host == "" {
		host = u.Host
	}
	if !httpguts.ValidHostHeader(host) {
		return fmt.Errorf("header Host: invalid value %q", host)
	}
	w.WriteString(host)
	w.WriteString("\r\n")
	return nil
}

// writeField writes header k's lines, refusing a name or value that would
// break the request.
func writeField(w *bufio.Writer, k string, vs []string) error {
	if !httpguts.ValidHeaderFieldName(k) {
		return fmt.Errorf("header %q: invalid name", k)
	}
	for _, v := range vs {
		if !httpguts.ValidHeaderFieldValue(v) {
			return fmt.Errorf("header %s: the value holds a line break or another control byte", k)
		}
		w.WriteString(k)
		w.WriteString(": ")
		w.WriteString(v)
		w.WriteString("\r\n")
	}
	return nil
}
