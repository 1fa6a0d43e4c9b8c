package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/store"
)

// metrics is the server's own registry: HTTP and job metrics, the Go
// runtime, and the live load of the jobs running here.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	running   prometheus.Gauge
	finished  *prometheus.CounterVec
	windows   prometheus.Counter
	writeTime prometheus.Histogram
	load      *loadCollector
	refused   prometheus.Counter
}

func newMetrics(_ *store.Store) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_http_requests_total", Help: "API requests answered, by route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "headroom_http_request_duration_seconds", Help: "Time to answer an API request, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "headroom_jobs_running", Help: "Jobs this server is running now.",
		}),
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "headroom_jobs_finished_total", Help: "Jobs this server finished, by kind and status.",
		}, []string{"kind", "status"}),
		windows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_windows_written_total", Help: "Per-second windows written to the store.",
		}),
		writeTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "headroom_window_write_seconds", Help: "Time to write one second's windows and event to the store.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		load: newLoadCollector(),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "headroom_http_connections_refused_total", Help: "Connections closed at once because the server had --max-conns open.",
		}),
	}
	m.reg.MustRegister(m.refused, m.requests, m.duration, m.running, m.finished, m.windows, m.writeTime, m.load,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// middleware counts and times every request by its route pattern (not its
// path, which holds ids).
func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			status, _ = classify(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		method := methodLabel(c.Request().Method)
		m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		if route != "/api/v1/jobs/:id/events" { // a stream's length is not an answer time
			m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		}
		return err
	}
}

// latencyBuckets are the upper bounds (seconds) of the live load
// histogram.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// loadCollector exports the load of running jobs as Prometheus sees a load
// generator: requests, errors by class and a latency histogram per job and
// request name, so a dashboard shows the load next to the service it hits.
type loadCollector struct {
	requests, errors, latency *prometheus.Desc

	mu   sync.Mutex
	jobs map[string]*jobLoad // by job id
}

type jobLoad struct {
	names   map[string]*nameLoad
	classes map[string]int64
}

type nameLoad struct {
	requests, errors int64
	hist             *hdrhistogram.Histogram
}

func newLoadCollector() *loadCollector {
	return &loadCollector{
		requests: prometheus.NewDesc("headroom_load_requests_total",
			"Requests a running job sent, by request name (\"all\" for the total).", []string{"job", "name"}, nil),
		errors: prometheus.NewDesc("headroom_load_errors_total",
			"Failed requests of a running job, by error class.", []string{"job", "class"}, nil),
		latency: prometheus.NewDesc("headroom_load_latency_seconds",
			"Latency of a running job's requests, by request name.", []string{"job", "name"}, nil),
		jobs: map[string]*jobLoad{},
	}
}

// Describe sends the collector's descriptions.
func (l *loadCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- l.requests
	ch <- l.errors
	ch <- l.latency
}

// Collect sends the figures of every running job.
func (l *loadCollector) Collect(ch chan<- prometheus.Metric) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for job, jl := range l.jobs {
		for name, nl := range jl.names {
			ch <- prometheus.MustNewConstMetric(l.requests, prometheus.CounterValue, float64(nl.requests), job, name)
			count, sum, buckets := promBuckets(nl.hist)
			ch <- prometheus.MustNewConstHistogram(l.latency, count, sum, buckets, job, name)
		}
		for class, n := range jl.classes {
			ch <- prometheus.MustNewConstMetric(l.errors, prometheus.CounterValue, float64(n), job, class)
		}
	}
}

// add counts one window of a job: the total under "all", each request
// name under its own.
func (l *loadCollector) add(job int64, w generator.SecondRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := strconv.FormatInt(job, 10)
	jl := l.jobs[id]
	if jl == nil {
		jl = &jobLoad{names: map[string]*nameLoad{}, classes: map[string]int64{}}
		l.jobs[id] = jl
	}
	h, _ := w.Histogram() // a broken histogram leaves only the counts
	jl.name("all").add(w.Requests, w.Errors, h)
	for _, n := range w.ByName {
		h, _ := n.Histogram()
		jl.name(n.Name).add(n.Requests, n.Errors, h)
	}
	for class, n := range w.Classes {
		jl.classes[class] += n
	}
}

// remove drops a finished job's series.
func (l *loadCollector) remove(job int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.jobs, strconv.FormatInt(job, 10))
}

func (jl *jobLoad) name(n string) *nameLoad {
	nl := jl.names[n]
	if nl == nil {
		nl = &nameLoad{hist: generator.NewHistogram()}
		jl.names[n] = nl
	}
	return nl
}

func (nl *nameLoad) add(requests, errors int64, h *hdrhistogram.Histogram) {
	nl.requests += requests
	nl.errors += errors
	if h != nil {
		nl.hist.Merge(h)
	}
}

// promBuckets turns a µs HDR histogram into Prometheus's cumulative
// buckets in seconds.
func promBuckets(h *hdrhistogram.Histogram) (count uint64, sum float64, buckets map[float64]uint64) {
	buckets = make(map[float64]uint64, len(latencyBuckets))
	total := h.TotalCount()
	if total == 0 {
		for _, b := range latencyBuckets {
			buckets[b] = 0
		}
		return 0, 0, buckets
	}
	bars := h.Distribution()
	i, cum := 0, int64(0)
	for _, b := range latencyBuckets {
		limit := int64(b * 1e6)
		for i < len(bars) && bars[i].To <= limit {
			cum += bars[i].Count
			i++
		}
		buckets[b] = uint64(cum)
	}
	return uint64(total), h.Mean() * float64(total) / 1e6, buckets
}

// methodLabel is a request's method as a label: one of the methods HTTP
// defines, or "other", so a client cannot add series at will.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}
