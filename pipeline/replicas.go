package pipeline

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/plan"
)

// The default queries of an autoscaler's replicas: kube-state-metrics'
// names, which `headroom demo fleet` exports too. observe.signals keys
// replicas_desired and replicas_serving replace them.
const (
	DefaultDesiredReplicas = `sum(kube_horizontalpodautoscaler_status_desired_replicas)`
	DefaultServingReplicas = `sum(kube_deployment_status_replicas_available)`
)

// promReplicas reads replica counts from Prometheus.
type promReplicas struct {
	prom             *correlate.Prometheus
	desired, serving string
}

var _ capacity.Replicas = promReplicas{}

// ReplicasOf is the plan's autoscaler as a capacity.Replicas, or nil when
// the plan names no Prometheus (or the settings say to read nothing).
func ReplicasOf(p *plan.Plan, s Settings) capacity.Replicas {
	if p.Observe.Prometheus == "" || s.NoCorrelate {
		return nil
	}
	prom, err := correlate.NewPrometheus(p.Observe.Prometheus, 10*time.Second)
	if err != nil {
		return nil
	}
	r := promReplicas{prom: prom, desired: DefaultDesiredReplicas, serving: DefaultServingReplicas}
	if q := strings.TrimSpace(p.Observe.Signals["replicas_desired"]); q != "" {
		r.desired = q
	}
	if q := strings.TrimSpace(p.Observe.Signals["replicas_serving"]); q != "" {
		r.serving = q
	}
	return r
}

// Replicas reads both counts a second apart over [from, to].
func (r promReplicas) Replicas(ctx context.Context, from, to time.Time) ([]capacity.ReplicaSample, error) {
	read := func(q string) (map[int64]float64, error) {
		ss, err := r.prom.QueryRange(ctx, q, from, to, time.Second)
		if err != nil {
			return nil, err
		}
		if len(ss) == 0 {
			return nil, fmt.Errorf("no data for %s", q)
		}
		out := map[int64]float64{}
		for _, v := range ss[0].Samples {
			out[v.At.Unix()] = v.Value
		}
		return out, nil
	}
	desired, err := read(r.desired)
	if err != nil {
		return nil, err
	}
	serving, err := read(r.serving)
	if err != nil {
		return nil, err
	}
	var out []capacity.ReplicaSample
	for t, d := range desired {
		if s, ok := serving[t]; ok {
			out = append(out, capacity.ReplicaSample{At: time.Unix(t, 0), Desired: d, Serving: s})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}
