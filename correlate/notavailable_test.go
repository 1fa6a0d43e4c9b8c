package correlate

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

func hasNote(notes []string, parts ...string) bool {
	for _, n := range notes {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(n, p)
		}
		if all {
			return true
		}
	}
	return false
}

// A broken Prometheus leaves a "not available" entry; the traces still
// explain the latency.
func TestExplainWithBrokenPrometheus(t *testing.T) {
	s := poolScenario()
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		parts []string
	}{
		{"connection refused", refused, []string{"prometheus: not available", "connection refused"}},
		{"server error", func(t *testing.T) string {
			return fixed(t, http.StatusInternalServerError, "application/json",
				`{"status":"error","errorType":"internal","error":"query processing would load too many samples"}`).URL
		}, []string{"prometheus: not available", "server error: 500"}},
		{"bad JSON", func(t *testing.T) string {
			return fixed(t, http.StatusOK, "application/json", `{"status":"success","data":{"resultType":"matrix","result":[{`).URL
		}, []string{"prometheus: not available"}},
		{"empty result", func(t *testing.T) string { return newFakeProm(t, nil).URL },
			[]string{"signal pool_wait: not available", "no series for"}},
		{"timeout", func(t *testing.T) string { return blocking(t).URL },
			[]string{"prometheus: not available", "no answer within"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tempo, _ := newFakeTempo(t, s.traces())
			src := sources(t, tt.url(t), tempo.URL)
			src.Metrics.(*Prometheus).timeout = 300 * time.Millisecond
			rep, err := Explain(context.Background(), s.input(), src)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if !hasNote(rep.NotAvailable, tt.parts...) {
				t.Errorf("not available %q lacks %q", rep.NotAvailable, tt.parts)
			}
			if len(rep.Findings) == 0 || rep.Findings[0].Kind != "slow_query" {
				t.Errorf("findings %s: want the slow query from traces first", kinds(rep.Findings))
			}
			if tt.name != "empty result" && len(rep.NotAvailable) != 1 {
				t.Errorf("one outage should make one entry, got %q", rep.NotAvailable)
			}
		})
	}
}

// A broken Tempo leaves a "not available" entry; the signals still rank.
func TestExplainWithBrokenTempo(t *testing.T) {
	s := poolScenario()
	tests := []struct {
		name  string
		url   func(t *testing.T) string
		parts []string
	}{
		{"connection refused", refused, []string{"not available", "connection refused"}},
		{"server error", func(t *testing.T) string {
			return fixed(t, http.StatusInternalServerError, "text/plain", "error querying ingesters").URL
		}, []string{"not available", "HTTP 500", "24 bytes of text/plain"}}, // summarised, never quoted
		{"bad JSON and protobuf", func(t *testing.T) string {
			return fixed(t, http.StatusOK, "application/json", `{"traces":[{"traceID":`).URL
		}, []string{"traces: not available: the trace store failed", "want protobuf"}},
		// A store that answers but lacks the trace is not an outage.
		{"empty result", func(t *testing.T) string { u, _ := newFakeTempo(t, nil); return u.URL },
			[]string{"1 of 1 exemplar traces", "not in the trace store", "evicted", "never received"}},
		{"timeout", func(t *testing.T) string { return blocking(t).URL },
			[]string{"not available", "Timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prom := newFakeProm(t, s.curves)
			src := sources(t, prom.URL, tt.url(t))
			src.Traces.(*Tempo).client.Timeout = 300 * time.Millisecond
			rep, err := Explain(context.Background(), s.input(), src)
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			if !hasNote(rep.NotAvailable, tt.parts...) {
				t.Errorf("not available %q lacks %q", rep.NotAvailable, tt.parts)
			}
			if len(rep.Findings) == 0 || rep.Findings[0].Kind != "pool_wait" {
				t.Errorf("findings %s: want pool_wait first from signals alone", kinds(rep.Findings))
			}
		})
	}
}

func TestSourcesForSaysWhatIsMissing(t *testing.T) {
	s := SourcesFor(poolScenario().input().Observe, time.Second)
	if s.Metrics != nil || s.Traces != nil {
		t.Fatal("no URLs in the plan: want no sources")
	}
	if !hasNote(s.Missing, "observe.prometheus is not set") || !hasNote(s.Missing, "observe.tempo is not set") {
		t.Errorf("missing %q", s.Missing)
	}
	o := poolScenario().input().Observe
	o.Prometheus, o.Tempo = "127.0.0.1:9090", "ftp://x"
	s = SourcesFor(o, time.Second)
	if s.Metrics != nil || s.Traces != nil || !hasNote(s.Missing, "observe.prometheus", "127.0.0.1:9090") || !hasNote(s.Missing, "observe.tempo") {
		t.Errorf("malformed URLs: missing %q", s.Missing)
	}
	rep, err := Explain(context.Background(), poolScenario().input(), s)
	if err != nil || !hasNote(rep.NotAvailable, "observe.tempo") || len(rep.Findings) != 1 || rep.Findings[0].Kind != "unexplained" {
		t.Errorf("Explain without sources: err %v, findings %s, not available %q", err, kinds(rep.Findings), rep.NotAvailable)
	}
}
