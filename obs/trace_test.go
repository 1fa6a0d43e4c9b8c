package obs

import (
	"os"
	"reflect"
	"testing"
)

func TestDecodeTraceReadsSpansParentsServiceAndAttributes(t *testing.T) {
	body, err := os.ReadFile("testdata/trace.json")
	if err != nil {
		t.Fatal(err)
	}
	spans, err := DecodeTrace(body)
	if err != nil {
		t.Fatal(err)
	}
	want := []Span{
		{
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
			Name: "GET /products", Service: "shop",
			Attributes: map[string]string{"http.response.status_code": "200", "span.kind": "server"},
		},
		{
			TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "b7ad6b7169203331", ParentID: "00f067aa0ba902b7",
			Name: "db.query", Service: "shop",
			Attributes: map[string]string{
				"db.statement": "SELECT id, name FROM products WHERE id = ?",
				"db.cached":    "false",
				"db.rows":      "2.5",
			},
		},
	}
	if !reflect.DeepEqual(spans, want) {
		t.Errorf("DecodeTrace:\n got %+v\nwant %+v", spans, want)
	}
}

func TestDecodeTraceRejectsNonJSON(t *testing.T) {
	if _, err := DecodeTrace([]byte("<html>not found</html>")); err == nil {
		t.Error("DecodeTrace accepted HTML")
	}
}

func FuzzDecodeTrace(f *testing.F) {
	if body, err := os.ReadFile("testdata/trace.json"); err == nil {
		f.Add(body)
	}
	f.Add([]byte(`{"data":[{"spans":[{"tags":[{"key":"k","value":null}]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		spans, err := DecodeTrace(body)
		if err != nil && spans != nil {
			t.Errorf("spans %v returned with error %v", spans, err)
		}
	})
}
