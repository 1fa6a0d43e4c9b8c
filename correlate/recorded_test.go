package correlate

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Answers recorded from Prometheus 2.42 (Debian) scraping itself as
// job="shop" every second, 10 s ranges at a 1 s step.
const (
	recStart = 1795609807
	recEnd   = 1795609817
)

// replayProm serves testdata/prometheus/<name>.json for the query that
// names its metric; bad_data is answered with HTTP 400 as Prometheus does.
func replayProm(t *testing.T) *httptest.Server {
	files := map[string]string{ // the exact query → its recording
		`sum(rate(process_cpu_seconds_total{job="shop"}[10s]))`:          "cpu_usage",
		`sum(rate(process_cpu_seconds_total{job="shop"}[10s])`:           "bad_data",
		`process_resident_memory_bytes{job="shop"}`:                      "memory_by_instance",
		`sum(go_goroutines{job="shop"})`:                                 "goroutines",
		`sum(rate(go_sql_wait_duration_seconds_total{job="shop"}[10s]))`: "empty",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q := r.Form.Get("query")
		name := files[q]
		body, err := os.ReadFile(filepath.Join("testdata", "prometheus", name+".json"))
		if name == "" || err != nil {
			http.Error(w, "no recording for "+q, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if name == "bad_data" {
			w.WriteHeader(http.StatusBadRequest)
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPrometheusDecodesRecordedAnswers(t *testing.T) {
	p, err := NewPrometheus(replayProm(t).URL, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start, end := time.Unix(recStart, 0), time.Unix(recEnd, 0)

	ss, err := p.QueryRange(ctx, `sum(rate(process_cpu_seconds_total{job="shop"}[10s]))`, start, end, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || len(ss[0].Samples) != 11 || !ss[0].Samples[0].At.Equal(start) || !near(ss[0].Samples[0].Value, 0.01111111111111111, 1e-15) {
		t.Errorf("cpu_usage %+v", ss)
	}

	ss, err = p.QueryRange(ctx, `process_resident_memory_bytes{job="shop"}`, start, end, time.Second)
	if err != nil || len(ss) != 1 || ss[0].Labels["instance"] != "127.0.0.1:19491" || ss[0].Samples[0].Value != 55971840 {
		t.Errorf("memory %+v err %v", ss, err)
	}

	ss, err = p.QueryRange(ctx, `sum(rate(go_sql_wait_duration_seconds_total{job="shop"}[10s]))`, start, end, time.Second)
	if err != nil || len(ss) != 0 {
		t.Errorf("empty: %+v err %v", ss, err)
	}

	_, err = p.QueryRange(ctx, `sum(rate(process_cpu_seconds_total{job="shop"}[10s])`, start, end, time.Second)
	var qe *QueryError
	if !errors.As(err, &qe) || !strings.Contains(err.Error(), "unclosed left parenthesis") {
		t.Errorf("bad_data: error %v, want a *QueryError quoting Prometheus", err)
	}
}

// A signal whose query the server rejects is not available on its own;
// the rest of the signals are still read.
func TestMeasureKeepsGoingPastARejectedQuery(t *testing.T) {
	p, _ := NewPrometheus(replayProm(t).URL, time.Second)
	sigs := []Signal{
		{Name: "broken", Queries: []string{`sum(rate(process_cpu_seconds_total[10s])`}},
		{Name: "goroutines", Queries: []string{`sum(go_goroutines)`}},
		{Name: "pool_wait", Queries: []string{`sum(rate(go_sql_wait_duration_seconds_total[10s]))`}},
	}
	w := Window{Found: true, Onset: time.Unix(recStart+5, 0), Start: time.Unix(recStart, 0), End: time.Unix(recEnd, 0),
		BaselineStart: time.Unix(recStart, 0), BaselineEnd: time.Unix(recStart+4, 0)}
	ms, _ := ParseSelector(`{job="shop"}`)
	rs, err := measure(context.Background(), p, sigs, ms, w, nil, Options{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Available || !strings.Contains(rs[0].Reason, "unclosed left parenthesis") {
		t.Errorf("broken: %+v", rs[0])
	}
	if !rs[1].Available || !near(rs[1].Baseline, 30.2, 0.5) || rs[1].Query != `sum(go_goroutines{job="shop"})` {
		t.Errorf("goroutines: %+v", rs[1])
	}
	if rs[2].Available || !strings.Contains(rs[2].Reason, "no series for") {
		t.Errorf("pool_wait: %+v", rs[2])
	}
}
