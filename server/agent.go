package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/agent"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/proto/headroom/agent/v1/agentv1connect"
	"github.com/headroom-sre/headroom/store"
)

// AgentLauncher places the agents of a distributed job (serve
// --kubernetes: agent/kube's Launcher creates and deletes a Kubernetes
// Job); nil leaves them to be started by hand.
type AgentLauncher interface {
	Launch(ctx context.Context, jobID string, agents int) error
	Release(ctx context.Context, jobID string) error
}

// maxAgents caps the agents one job may ask for.
const maxAgents = 1000

// routeAgents mounts the agent protocol (Connect, HTTP/2) at its own paths:
// only a token of role agent may call it, and such a token may call
// nothing else.
func (s *Server) routeAgents(e *echo.Echo) {
	path, h := agentv1connect.NewAgentServiceHandler(s.fleet)
	e.Any(path+"*", echo.WrapHandler(h), s.authenticate, s.requireAgent)
}

// requireAgent lets through only agent tokens, the token's id on the
// request's context for the fleet; the order stream lives as long as the
// agent does, so it lifts the server's read and write timeouts.
func (s *Server) requireAgent(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok := tokenOf(c)
		if tok.Role != store.AgentRole {
			return fmt.Errorf("%w: the agent protocol needs a token of role agent; token %q is %s", errForbidden, tok.Name, tok.Role)
		}
		r := c.Request()
		if r.URL.Path == agentv1connect.AgentServiceAssignmentsProcedure {
			rc := http.NewResponseController(c.Response().Writer)
			_ = rc.SetWriteDeadline(time.Time{})
			_ = rc.SetReadDeadline(time.Time{})
		}
		c.SetRequest(r.WithContext(agent.WithToken(r.Context(), tok.ID)))
		return next(c)
	}
}

// agentEngine prepares a job's run on its agents: the pipeline's load
// engine, and a close to call when the job ends.
func (r *runner) agentEngine(ctx context.Context, job store.Job, n int) (pipeline.Engine, func(status store.Status), error) {
	sp, err := r.d.st.GetPlan(ctx, job.PlanID, job.PlanVersion)
	if err != nil {
		return nil, nil, err
	}
	id := strconv.FormatInt(job.ID, 10)
	if l := r.d.launcher; l != nil {
		if err := l.Launch(ctx, id, n); err != nil {
			return nil, nil, fmt.Errorf("launch %d agents: %w", n, err)
		}
	}
	j := r.d.fleet.Job(job.ID, n, planFile(sp.Name), []byte(sp.YAML))
	return j.Run, func(status store.Status) {
		j.Close(string(status))
		if l := r.d.launcher; l != nil {
			lctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := l.Release(lctx, id); err != nil {
				r.d.log.Warn("release the job's agents", "job", job.ID, "err", err)
			}
		}
	}, nil
}

// jobAgent is one agent's share of a job, as GET /jobs/{id} shows it.
type jobAgent struct {
	AgentID          int64   `json:"agent_id"`
	Name             string  `json:"name"`
	Index            int     `json:"index"`
	Count            int     `json:"count"`
	State            string  `json:"state"`
	Rows             string  `json:"rows,omitempty"`
	OffsetMs         float64 `json:"offset_ms"`
	DelayMs          float64 `json:"delay_ms"`
	Requests         int64   `json:"requests"`
	Dropped          int64   `json:"dropped"`
	Windows          int64   `json:"windows"`
	GeneratorLimited bool    `json:"generator_limited"`
	Error            string  `json:"error,omitempty"`
	Outlier          string  `json:"outlier,omitempty"`
}

// agentsOf fills a job view's agents and start spread when the job runs
// on agents.
func (s *Server) agentsOf(ctx context.Context, v *jobJSON, settings json.RawMessage) {
	var st struct {
		Agents int `json:"agents"`
	}
	if len(settings) == 0 || json.Unmarshal(settings, &st) != nil || st.Agents <= 0 {
		return
	}
	v.Agents = []jobAgent{}
	shards, err := s.st.Shards(ctx, v.ID)
	if err != nil {
		s.log.Warn("read a job's agents", "job", v.ID, "err", err)
		return
	}
	for _, sh := range shards {
		v.Agents = append(v.Agents, jobAgent{AgentID: sh.AgentID, Name: sh.Name, Index: sh.Index, Count: sh.Count, State: sh.State,
			Rows: sh.Rows, OffsetMs: sh.OffsetMs, DelayMs: sh.DelayMs, Requests: sh.Requests, Dropped: sh.Dropped,
			Windows: sh.Windows, GeneratorLimited: sh.Dropped > 0, Error: sh.Error, Outlier: sh.Outlier})
	}
	rounds, err := s.st.Rounds(ctx, v.ID)
	if err != nil {
		return
	}
	for _, r := range rounds {
		if r.SpreadMs != nil && (v.StartSpreadMs == nil || *r.SpreadMs > *v.StartSpreadMs) {
			sp := *r.SpreadMs
			v.StartSpreadMs = &sp
		}
	}
}
