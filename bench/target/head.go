package main

import (
	"bytes"
	"errors"
	"strconv"
)

// maxHeadBytes bounds one request head (request line and headers).
const maxHeadBytes = 16 << 10

// Errors a request head can carry; each maps to one error response.
var (
	errMalformed     = errors.New("malformed request head")
	errHeadTooLarge  = errors.New("request head too large")
	errNotSupported  = errors.New("transfer-encoding not supported")
	errBadLength     = errors.New("bad content-length")
	errWrongProtocol = errors.New("not an HTTP/1.x request")
)

// head is what the responder needs to know about one request.
type head struct {
	contentLength int64 // body bytes that follow the head
	close         bool  // the connection ends after this response
}

var crlfcrlf = []byte("\r\n\r\n")

// parseHead reads one request head from the start of b. It returns the
// head and the number of bytes it used (blank lines before the request line
// included), or n == 0 when b does not yet hold a whole head.
func parseHead(b []byte) (h head, n int, err error) {
	// RFC 9112 §2.2: ignore empty lines received before the request line.
	for n+1 < len(b) && b[n] == '\r' && b[n+1] == '\n' {
		n += 2
	}
	end := bytes.Index(b[n:], crlfcrlf)
	if end < 0 {
		if len(b)-n > maxHeadBytes {
			return head{}, 0, errHeadTooLarge
		}
		return head{}, 0, nil
	}
	if end > maxHeadBytes {
		return head{}, 0, errHeadTooLarge
	}
	block := b[n : n+end]
	n += end + len(crlfcrlf)

	line, rest, _ := bytes.Cut(block, []byte("\r\n"))
	http10, err := parseRequestLine(line)
	if err != nil {
		return head{}, 0, err
	}
	h.close = http10
	seenLength := false
	for len(rest) > 0 {
		line, rest, _ = bytes.Cut(rest, []byte("\r\n"))
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || len(name) == 0 || name[len(name)-1] == ' ' || name[len(name)-1] == '\t' {
			return head{}, 0, errMalformed
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || length < 0 || value[0] == '+' {
				return head{}, 0, errBadLength
			}
			if seenLength && length != h.contentLength {
				return head{}, 0, errBadLength
			}
			h.contentLength, seenLength = length, true
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return head{}, 0, errNotSupported
		case bytes.EqualFold(name, []byte("Connection")):
			// An HTTP/1.0 "keep-alive" still closes (h.close is already
			// set): the response would have to announce it, and no tool we
			// bench needs it.
			if hasToken(value, "close") {
				h.close = true
			}
		}
	}
	return h, n, nil
}

// parseRequestLine checks "METHOD SP target SP HTTP/1.x" and reports
// whether the request is HTTP/1.0 (whose connections close by default).
func parseRequestLine(line []byte) (http10 bool, err error) {
	method, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || len(method) == 0 {
		return false, errMalformed
	}
	target, version, ok := bytes.Cut(rest, []byte(" "))
	if !ok || len(target) == 0 {
		return false, errMalformed
	}
	switch string(version) {
	case "HTTP/1.1":
		return false, nil
	case "HTTP/1.0":
		return true, nil
	}
	return false, errWrongProtocol
}

// hasToken reports whether the comma-separated list v holds token,
// ignoring case and surrounding spaces.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var item []byte
		item, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(item), []byte(token)) {
			return true
		}
	}
	return false
}
