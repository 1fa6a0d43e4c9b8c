package server

import (
	"context"

	"github.com/headroom-sre/headroom/agent"
	"log/slog"
	"time"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// deps are what the runner, the recorder and the scheduler use, handed to
// them instead of the whole Server.
type deps struct {
	st       *store.Store
	log      *slog.Logger
	metrics  *metrics
	live     *hub
	poll     time.Duration // how often loops look at the store
	owner    string        // this server in job claims
	maxJobs  int           // jobs run here at once
	jobs     jobQueue      // the one path from a plan to a runnable job
	fleet    *agent.Fleet  // the agents connected here
	launcher AgentLauncher // places a job's agents; nil: started by hand
}

// jobQueue turns stored plans into jobs and jobs into runnable plans,
// under the server's rules. *Server is the one implementation; the loops
// see only this.
type jobQueue interface {
	// prepare reads a claimed job's plan version and settings and checks
	// them again (the rules or the plan may have changed while it queued).
	prepare(ctx context.Context, job store.Job) (*plan.Plan, pipeline.Settings, error)
	// queueLatest queues a job of the latest version of a plan with the
	// server's default settings; it returns the plan's name too.
	queueLatest(ctx context.Context, planID int64, kind pipeline.Kind) (store.Job, string, error)
}

var _ jobQueue = (*Server)(nil)

// deps is what this server hands its loops.
func (s *Server) deps() deps {
	return deps{st: s.st, log: s.log, metrics: s.metrics, live: s.live, poll: s.cfg.Poll,
		owner: s.cfg.Owner, maxJobs: s.cfg.MaxJobs, jobs: s, fleet: s.fleet, launcher: s.cfg.Launcher}
}
