package agent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// calibrateRate is the rate a calibration asks for: more than one process
// can offer, so what it achieves is the agent's ceiling.
const calibrateRate = 50000

// Calibrate measures the iterations/s this machine's generator can offer
// for d against a trivial loopback target of its own (one request an
// iteration): a ceiling to report at registration, not a promise about a
// real service.
func Calibrate(ctx context.Context, d time.Duration) (float64, error) {
	if d < 100*time.Millisecond {
		return 0, fmt.Errorf("calibrate: %s is too short (at least 100ms)", d)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("calibrate: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }),
		ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	p, err := plan.Parse("calibrate.yaml", fmt.Appendf(nil, `version: 1
name: calibrate
target: { base_url: "http://%s", timeout: 5s }
load:
  model: open
  max_vus: 64
  stages: [{ duration: 1ms, target: %d }, { duration: %dms, target: %d }]
journeys:
  - name: calibrate
    steps: [{ name: calibrate, get: / }]
`, ln.Addr(), calibrateRate, d.Milliseconds(), calibrateRate))
	if err != nil {
		return 0, fmt.Errorf("calibrate: %w", err)
	}
	res, err := generator.Run(ctx, p, generator.Options{Warn: func(string) {}})
	if err != nil {
		return 0, fmt.Errorf("calibrate: %w", err)
	}
	secs := res.End.Sub(res.Start).Seconds()
	if secs <= 0 {
		return 0, fmt.Errorf("calibrate: the run measured nothing")
	}
	return float64(res.Summary.Requests-res.Summary.Errors) / secs, nil
}
