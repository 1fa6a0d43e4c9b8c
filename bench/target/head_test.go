package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestParseHead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    head
		wantN   int // -1: the whole input
		wantErr error
	}{
		{name: "plain GET", in: "GET / HTTP/1.1\r\nHost: x\r\n\r\n", wantN: -1},
		{name: "no headers", in: "GET / HTTP/1.1\r\n\r\n", wantN: -1},
		{name: "incomplete head", in: "GET / HTTP/1.1\r\nHost: x\r\n", wantN: 0},
		{name: "empty", in: "", wantN: 0},
		{name: "blank lines before request line", in: "\r\n\r\nGET / HTTP/1.1\r\n\r\n", wantN: -1},
		{name: "stops at the first head", in: "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", wantN: len("GET /a HTTP/1.1\r\n\r\n")},
		{name: "content length", in: "POST / HTTP/1.1\r\ncontent-length: 12\r\n\r\n", want: head{contentLength: 12}, wantN: -1},
		{name: "repeated equal content length", in: "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", want: head{contentLength: 3}, wantN: -1},
		{name: "connection close", in: "GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", want: head{close: true}, wantN: -1},
		{name: "HTTP/1.0 closes", in: "GET / HTTP/1.0\r\n\r\n", want: head{close: true}, wantN: -1},
		{name: "HTTP/1.0 keep-alive still closes", in: "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", want: head{close: true}, wantN: -1},
		{name: "conflicting content lengths", in: "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", wantErr: errBadLength},
		{name: "negative content length", in: "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", wantErr: errBadLength},
		{name: "signed content length", in: "POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\n", wantErr: errBadLength},
		{name: "empty content length", in: "POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", wantErr: errBadLength},
		{name: "chunked", in: "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: errNotSupported},
		{name: "HTTP/2 preface", in: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", wantErr: errWrongProtocol},
		{name: "no version", in: "GET /\r\n\r\n", wantErr: errMalformed},
		{name: "header without colon", in: "GET / HTTP/1.1\r\nHost x\r\n\r\n", wantErr: errMalformed},
		{name: "space before colon", in: "GET / HTTP/1.1\r\nHost : x\r\n\r\n", wantErr: errMalformed},
		{name: "head too large", in: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeadBytes) + "\r\n\r\n", wantErr: errHeadTooLarge},
		{name: "incomplete head too large", in: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", maxHeadBytes), wantErr: errHeadTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := parseHead([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			wantN := tt.wantN
			if wantN < 0 {
				wantN = len(tt.in)
			}
			if n != wantN || got != tt.want {
				t.Errorf("parseHead = %+v, %d; want %+v, %d", got, n, tt.want, wantN)
			}
		})
	}
}

func FuzzParseHead(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"))
	f.Add([]byte("\r\n\r\nGET / HTTP/1.0\r\nConnection: close\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHead(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("n = %d with error %v", n, err)
			}
			return
		}
		if n < 0 || n > len(b) {
			t.Fatalf("n = %d outside [0, %d]", n, len(b))
		}
		if n > 0 && !bytes.HasSuffix(b[:n], crlfcrlf) {
			t.Fatalf("head %q does not end with a blank line", b[:n])
		}
		if h.contentLength < 0 {
			t.Fatalf("negative content length %d", h.contentLength)
		}
	})
}

func BenchmarkParseHead(b *testing.B) {
	req := []byte("GET / HTTP/1.1\r\nHost: 127.0.0.1:18999\r\nUser-Agent: Go-http-client/1.1\r\nAccept-Encoding: gzip\r\n\r\n")
	b.SetBytes(int64(len(req)))
	for b.Loop() {
		if _, n, err := parseHead(req); err != nil || n != len(req) {
			b.Fatalf("parseHead = %d, %v", n, err)
		}
	}
}
