package pipeline

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

func (h Hooks) phase(name string) {
	if h.OnPhase != nil {
		h.OnPhase(name)
	}
}

// warn passes msg on; with no Warn hook it is dropped (the generator
// would write it to standard error).
func (h Hooks) warn(msg string) {
	if h.Warn != nil {
		h.Warn(msg)
	}
}

// serialized returns h with Warn called under a lock: the generator
// warns from whichever goroutine notices, and Hooks promise one at a time.
func (h Hooks) serialized() Hooks {
	if w := h.Warn; w != nil {
		var mu sync.Mutex
		h.Warn = func(msg string) {
			mu.Lock()
			defer mu.Unlock()
			w(msg)
		}
	}
	return h
}

// databaseDSN is the connection string the plan's observe.database
// names by its variable, "" when the plan has none or it is unset.
func (h Hooks) databaseDSN(p *plan.Plan) string {
	db := p.Observe.Database
	if db == nil || db.DSNEnv == "" {
		return ""
	}
	lookup := h.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, _ := lookup(db.DSNEnv)
	return v
}

// CorrelateTimeout bounds the correlation that follows a run or a study:
// an unreachable Prometheus or trace store must not hold the answer back.
const CorrelateTimeout = 90 * time.Second

// observes reports whether the plan names any telemetry to correlate with.
func observes(p *plan.Plan) bool {
	o := p.Observe
	return o.Prometheus != "" || o.Tempo != "" || o.Jaeger != ""
}

// explain correlates a finished run or study when the plan names
// telemetry. A failure is a warning ("findings not available: …") and a
// nil report: it degrades the result, it never fails it.
func explain(ctx context.Context, p *plan.Plan, h Hooks, f func(context.Context) (correlate.Report, error)) *correlate.Report {
	if !observes(p) {
		return nil
	}
	h.phase(PhaseCorrelate)
	ctx, cancel := context.WithTimeout(ctx, CorrelateTimeout)
	defer cancel()
	rep, err := f(ctx)
	if err != nil {
		h.warn("findings not available: " + strings.Join(strings.Fields(err.Error()), " "))
		return nil
	}
	return &rep
}

// engine is the load engine the hooks name, generator.Run by default.
func (h Hooks) engine() Engine {
	if h.Engine != nil {
		return h.Engine
	}
	return generator.Run
}
