package capacity

import "context"

// CPUGauge reports the CPU utilisation (a fraction) an instance shows at a
// request rate; correlate answers it from Prometheus.
type CPUGauge interface {
	CPUAt(ctx context.Context, rps float64) (float64, error)
}
