package obs

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Span is one span of a trace fetched from the trace store, with what a test
// asserts on: names, parentage, service and attributes.
type Span struct {
	TraceID  string
	SpanID   string
	ParentID string // "" for a root span (or one whose parent is elsewhere)
	Name     string
	Service  string
	// Attributes are the span's attributes (and Jaeger's derived tags such
	// as span.kind), every value rendered as text.
	Attributes map[string]string
}

// DecodeTrace reads the JSON that WaitForTrace returns (Jaeger's
// /api/traces/<id> answer) into its spans.
func DecodeTrace(body []byte) ([]Span, error) {
	var doc struct {
		Data []struct {
			Spans []struct {
				TraceID       string `json:"traceID"`
				SpanID        string `json:"spanID"`
				OperationName string `json:"operationName"`
				References    []struct {
					RefType string `json:"refType"`
					SpanID  string `json:"spanID"`
				} `json:"references"`
				Tags      []keyValue `json:"tags"`
				ProcessID string     `json:"processID"`
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("obs: decoding trace JSON: %w", err)
	}
	var spans []Span
	for _, trace := range doc.Data {
		for _, s := range trace.Spans {
			span := Span{
				TraceID:    s.TraceID,
				SpanID:     s.SpanID,
				Name:       s.OperationName,
				Service:    trace.Processes[s.ProcessID].ServiceName,
				Attributes: make(map[string]string, len(s.Tags)),
			}
			for _, ref := range s.References {
				if ref.RefType == "CHILD_OF" {
					span.ParentID = ref.SpanID
				}
			}
			for _, kv := range s.Tags {
				span.Attributes[kv.Key] = kv.text()
			}
			spans = append(spans, span)
		}
	}
	return spans, nil
}

// keyValue is one Jaeger tag; its value is a JSON string, number or bool.
type keyValue struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
}

// text renders the tag's value without JSON quoting.
func (kv keyValue) text() string {
	var s string
	if err := json.Unmarshal(kv.Value, &s); err == nil {
		return s
	}
	if unq, err := strconv.Unquote(string(kv.Value)); err == nil {
		return unq
	}
	return string(kv.Value)
}
