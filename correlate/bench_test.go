package correlate

import (
	"context"
	"testing"
	"time"
)

// BenchmarkExplain10MinuteStudy correlates a 600-second run (knee at 400 s)
// against wire-format Prometheus and Tempo fakes on loopback: every signal
// over 600 one-second samples, 20 + 20 traces. The goal is under 5 s.
func BenchmarkExplain10MinuteStudy(b *testing.B) {
	s := poolScenario()
	at := t0.Add(398 * time.Second)
	s.curves["go_sql_wait_duration_seconds"] = stepAt(at, 0, 0.8)
	s.curves["go_sql_in_use_connections"] = stepAt(at, 2, 10)
	var traces []fakeTrace
	for i := 0; i < 40; i++ {
		traces = append(traces, fakeTrace{id: traceID(i), start: t0.Add(340*time.Second + time.Duration(i)*1500*time.Millisecond), spans: s.baseline})
		traces = append(traces, fakeTrace{id: traceID(1000 + i), start: t0.Add(405*time.Second + time.Duration(i)*4*time.Second), spans: s.degraded})
	}
	prom := newFakeProm(b, s.curves)
	tempo, _ := newFakeTempo(b, traces)
	p, _ := NewPrometheus(prom.URL, 5*time.Second)
	tm, _ := NewTempo(tempo.URL, 5*time.Second)
	in := s.input()
	in.Seconds = runSeconds(600, 400*time.Second, 50, 900, 50, 300)
	in.Exemplars = nil
	b.ResetTimer()
	for b.Loop() {
		rep, err := Explain(context.Background(), in, Sources{Metrics: p, Traces: tm})
		if err != nil || len(rep.Findings) == 0 || rep.Findings[0].Kind != "pool_wait" {
			b.Fatalf("err %v findings %s", err, kinds(rep.Findings))
		}
	}
}
