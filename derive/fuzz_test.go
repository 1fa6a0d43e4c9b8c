package derive

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/plan"
)

// FuzzParseJSONLine: any line is a record or an error, never a panic.
func FuzzParseJSONLine(f *testing.F) {
	f.Add([]byte(`{"time":"1733047200.5","method":"GET","path":"/a/1","status":200,"remote_addr":"x","user_agent":"y"}`))
	f.Add([]byte(`{"time":"01/Dec/2026:10:00:00 +0000","path":"GET /x HTTP/1.1","status":"abc"}`))
	f.Add([]byte(`{}`))
	p := newJSONParser(Fields{Session: "sid"})
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		_ = p.parse(line, &r)
	})
}

// FuzzFromHAR: any document either fails to read or yields a plan text,
// never a panic.
func FuzzFromHAR(f *testing.F) {
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":"GET","url":"http://h/a/123456"},"response":{"status":200,"content":{"text":"{\"id\":123456}"}}},{"request":{"method":"POST","url":"http://h/b/123456","postData":{"mimeType":"application/json","text":"{\"x\":[123456,{\"password\":1}]}"}}}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := ReadHAR(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		_ = FromHAR(&out, h, HAROptions{})
	})
}

// FuzzReadLog: any log reads to a profile or a line error; a profile
// writes a plan or says there was nothing to derive.
func FuzzReadLog(f *testing.F) {
	f.Add("10.0.0.1 - - [01/Dec/2026:10:00:00 +0000] \"GET /v1/products/1 HTTP/1.1\" 200 1 \"-\" \"a\"\n")
	f.Add("{\"time\":1733047200,\"method\":\"POST\",\"path\":\"/x?a=1&b=c\",\"status\":201}\n")
	f.Fuzz(func(t *testing.T, log string) {
		p, err := ReadLog(context.Background(), strings.NewReader(log), "f.log", LogOptions{MaxBadLines: 1 << 20})
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WritePlan(&out, p, PlanOptions{}); err != nil {
			return
		}
		if _, err := plan.Parse("derived.yaml", out.Bytes()); err != nil {
			t.Fatalf("the derived plan does not validate: %v\n%s", err, out.String())
		}
	})
}
