package fleet

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The names kube-state-metrics gives a deployment's and an HPA's
// replicas, with the labels it gives them.
const (
	Namespace  = "demo"
	Deployment = "shop"
)

type metrics struct {
	registry *prometheus.Registry
}

func newMetrics(f *Fleet) *metrics {
	reg := prometheus.NewRegistry()
	dep := prometheus.Labels{"namespace": Namespace, "deployment": Deployment}
	hpa := prometheus.Labels{"namespace": Namespace, "horizontalpodautoscaler": Deployment}
	gauge := func(name, help string, labels prometheus.Labels, v func() float64) {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, v))
	}
	current := func() float64 { c, _ := f.Replicas(); return float64(c) }
	serving := func() float64 { _, s := f.Replicas(); return float64(s) }
	desired := func() float64 { f.mu.Lock(); defer f.mu.Unlock(); return float64(f.desired) }
	gauge("kube_deployment_status_replicas", "Replicas of the deployment (starting ones included).", dep, current)
	gauge("kube_deployment_status_replicas_available", "Replicas serving.", dep, serving)
	gauge("kube_deployment_status_replicas_ready", "Replicas serving.", dep, serving)
	gauge("kube_deployment_spec_replicas", "Replicas the deployment asks for.", dep, desired)
	gauge("kube_horizontalpodautoscaler_status_current_replicas", "Replicas the autoscaler sees.", hpa, current)
	gauge("kube_horizontalpodautoscaler_status_desired_replicas", "Replicas the autoscaler wants.", hpa, desired)
	gauge("kube_horizontalpodautoscaler_spec_min_replicas", "The autoscaler's minimum.", hpa, func() float64 { return float64(f.cfg.Min) })
	gauge("kube_horizontalpodautoscaler_spec_max_replicas", "The autoscaler's maximum.", hpa, func() float64 { return float64(f.cfg.Max) })
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "kube_horizontalpodautoscaler_spec_target_metric", Help: "The autoscaler's target: requests per second per instance.",
		ConstLabels: prometheus.Labels{"namespace": Namespace, "horizontalpodautoscaler": Deployment, "metric_name": "requests_per_second", "metric_target_type": "average"},
	}, func() float64 { return f.cfg.TargetRPS }))
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "fleet_requests_total", Help: "Requests the fleet's front received.",
	}, func() float64 { return float64(f.arrivals.Load()) }))
	return &metrics{registry: reg}
}

// status is GET /fleet.
type status struct {
	Min       int     `json:"min"`
	Max       int     `json:"max"`
	TargetRPS float64 `json:"target_rps"`
	Startup   string  `json:"startup"`
	Current   int     `json:"current"`
	Serving   int     `json:"serving"`
	Desired   int     `json:"desired"`
	Events    []Event `json:"events"`
	LaunchErr string  `json:"launch_error,omitempty"`
}

func (f *Fleet) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(f.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /fleet", func(w http.ResponseWriter, _ *http.Request) {
		c, s := f.Replicas()
		f.mu.Lock()
		st := status{Min: f.cfg.Min, Max: f.cfg.Max, TargetRPS: f.cfg.TargetRPS, Startup: f.cfg.Startup.String(),
			Current: c, Serving: s, Desired: f.desired, Events: append([]Event{}, f.events...)}
		if f.launchErr != nil {
			st.LaunchErr = f.launchErr.Error()
		}
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("/", f.serve)
	return mux
}
