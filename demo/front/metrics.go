package front

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the front's own series, on a registry of its own.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec // front_requests_total{backend,code}
	errors   *prometheus.CounterVec // front_errors_total{backend,kind}
}

func newMetrics(backends []*backend) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "front_requests_total",
			Help: "Requests answered by a backend, by backend and status code.",
		}, []string{"backend", "code"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "front_errors_total",
			Help: "Failed proxy attempts by backend and kind (unreachable: retried elsewhere; proxy: answered 502).",
		}, []string{"backend", "kind"}),
	}
	reg.MustRegister(m.requests, m.errors,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, b := range backends {
		weight := prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "front_backend_weight",
			Help:        "The backend's weight: its share of requests is its weight over the sum of the weights.",
			ConstLabels: prometheus.Labels{"backend": b.name},
		})
		weight.Set(float64(b.weight))
		reg.MustRegister(weight)
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "front_backend_up",
			Help:        "1 when the backend is in rotation, 0 while it is skipped after refusing a connection.",
			ConstLabels: prometheus.Labels{"backend": b.name},
		}, func() float64 {
			if b.deadUntil.Load() > time.Now().UnixNano() {
				return 0
			}
			return 1
		}))
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
