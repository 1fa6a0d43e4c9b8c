package shop

import (
	"database/sql"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the shop's Prometheus series, on a registry of its own.
type metrics struct {
	registry    *prometheus.Registry
	duration    *prometheus.HistogramVec // http_request_duration_seconds{route,code}
	inFlight    prometheus.Gauge         // http_requests_in_flight
	queued      prometheus.Gauge         // shop_capacity_queue_length
	knob        *prometheus.GaugeVec     // shop_knob{knob}
	checkouts   *prometheus.CounterVec   // shop_checkouts_total{result}
	allocBytes  prometheus.Counter       // shop_alloc_bytes_total
	leakedBytes prometheus.Counter       // shop_leaked_bytes_total
}

// latencyBuckets resolve the SLO range (tens to hundreds of ms) finely.
var latencyBuckets = []float64{
	.001, .0025, .005, .01, .025, .05, .075, .1, .15, .2, .3, .4, .6, .8, 1, 1.5, 2.5, 5, 10,
}

func newMetrics(db *sql.DB, cfs prometheus.Collector) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time from request to response, by route pattern and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight",
			Help: "Requests being served now, queued ones included (the scrape of /metrics not).",
		}),
		queued: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "shop_capacity_queue_length",
			Help: "Requests waiting for a slot under the capacity knob.",
		}),
		knob: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "shop_knob",
			Help: "Current fault knob values (durations in seconds, booleans 0/1).",
		}, []string{"knob"}),
		checkouts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shop_checkouts_total",
			Help: "Checkouts by result (ok, declined, conflict, invalid, error).",
		}, []string{"result"}),
		allocBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shop_alloc_bytes_total",
			Help: "Bytes allocated by the alloc knob.",
		}),
		leakedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "shop_leaked_bytes_total",
			Help: "Bytes kept for good by the leak knob.",
		}),
	}
	reg.MustRegister(m.duration, m.inFlight, m.queued, m.knob, m.checkouts, m.allocBytes, m.leakedBytes,
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.MetricsGC, collectors.MetricsMemory, collectors.MetricsScheduler,
			// go_cpu_classes_*: the share of CPU time the GC takes.
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/cpu/classes/.*`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "shop"),
		cfs,
	)
	return m
}

func (m *metrics) setKnobs(k Knobs) {
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	m.knob.WithLabelValues("pool").Set(float64(k.Pool))
	m.knob.WithLabelValues("n_plus_one").Set(b(k.NPlusOne))
	m.knob.WithLabelValues("missing_index").Set(b(k.MissingIndex))
	m.knob.WithLabelValues("cpu_burn").Set(k.CPUBurn.Seconds())
	m.knob.WithLabelValues("alloc").Set(float64(k.Alloc))
	m.knob.WithLabelValues("downstream_latency").Set(k.DownstreamLatency.Seconds())
	m.knob.WithLabelValues("capacity").Set(float64(k.Capacity))
	m.knob.WithLabelValues("cpu_limit").Set(k.CPULimit)
	m.knob.WithLabelValues("leak").Set(float64(k.Leak))
	m.knob.WithLabelValues("service_time").Set(k.ServiceTime.Seconds())
	m.knob.WithLabelValues("hot_row").Set(b(k.HotRow))
}
