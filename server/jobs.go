package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/store"
)

// jobJSON is a job as the API shows it.
type jobJSON struct {
	ID              int64           `json:"id"`
	Kind            string          `json:"kind"`
	Status          store.Status    `json:"status"`
	Phase           string          `json:"phase"`
	PlanID          int64           `json:"plan_id"`
	PlanName        string          `json:"plan_name"`
	PlanVersion     int             `json:"plan_version"`
	Target          string          `json:"target"`
	Created         time.Time       `json:"created"`
	Started         *time.Time      `json:"started"`
	Finished        *time.Time      `json:"finished"`
	Summary         json.RawMessage `json:"summary"`
	Settings        json.RawMessage `json:"settings,omitempty"`
	Verdict         string          `json:"verdict,omitempty"`
	Error           string          `json:"error,omitempty"`
	CancelRequested bool            `json:"cancel_requested,omitempty"`
	Progress        *progress       `json:"progress,omitempty"`
	Agents          []jobAgent      `json:"agents,omitempty"`          // a job on agents: one entry per agent
	StartSpreadMs   *float64        `json:"start_spread_ms,omitempty"` // how far apart its agents started (the worst round)
}

// jobRequest is the body of POST /api/v1/jobs.
type jobRequest struct {
	PlanID   int64           `json:"plan_id"`
	Version  int             `json:"plan_version"` // 0 = latest
	Kind     pipeline.Kind   `json:"kind"`
	Settings json.RawMessage `json:"settings"`
	Agents   int             `json:"agents"` // run the load on this many agents
}

// createJob is POST /api/v1/jobs → 202 {id}: a run or study of a plan,
// queued for the runner.
func (s *Server) createJob(c echo.Context) error {
	var req jobRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.PlanID <= 0 {
		return fmt.Errorf("%w: plan_id is required", errInvalid)
	}
	settings, err := decodeSettings(req.Settings)
	if err != nil {
		return err
	}
	if req.Agents != 0 {
		settings.Agents = req.Agents
	}
	if settings.Agents < 0 || settings.Agents > maxAgents {
		return fmt.Errorf("%w: agents %d: want 0 (none) to %d", errInvalid, settings.Agents, maxAgents)
	}
	ctx := c.Request().Context()
	sp, p, err := s.loadPlan(ctx, req.PlanID, req.Version)
	if err != nil {
		return err
	}
	job, err := s.enqueue(ctx, sp, p, req.Kind, settings)
	if err != nil {
		return err
	}
	s.log.Info("job queued", "job", job.ID, "kind", req.Kind, "plan", sp.ID, "version", sp.Version, "by", tokenOf(c).Name)
	s.runner.poke()
	return c.JSON(http.StatusAccepted, map[string]any{"id": job.ID, "status": job.Status})
}

// decodeSettings reads a job's settings; step_duration may be a Go
// duration string ("10s") or nanoseconds.
func decodeSettings(raw json.RawMessage) (pipeline.Settings, error) {
	var st pipeline.Settings
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return st, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return st, fmt.Errorf("%w: settings: %v", errBadRequest, err)
	}
	if d, ok := fields["step_duration"]; ok {
		var text string
		if json.Unmarshal(d, &text) == nil {
			dur, err := time.ParseDuration(text)
			if err != nil {
				return st, fmt.Errorf("%w: settings.step_duration %q: %v", errInvalid, text, err)
			}
			fields["step_duration"], _ = json.Marshal(int64(dur))
		}
	}
	norm, _ := json.Marshal(fields)
	dec := jsonDecoder(bytes.NewReader(norm))
	if err := dec.Decode(&st); err != nil {
		return st, fmt.Errorf("%w: settings: %v", errInvalid, err)
	}
	if st.MaxRate < 0 || st.Instances < 0 || st.StepDuration < 0 {
		return st, fmt.Errorf("%w: settings: max_rate, instances and step_duration must not be negative", errInvalid)
	}
	switch {
	case st.MaxRate > 1e6:
		return st, fmt.Errorf("%w: settings.max_rate %g: must be at most 1000000/s", errInvalid, st.MaxRate)
	case st.Instances > 1000:
		return st, fmt.Errorf("%w: settings.instances %d: must be at most 1000", errInvalid, st.Instances)
	case st.StepDuration > time.Hour:
		return st, fmt.Errorf("%w: settings.step_duration %s: must be at most 1h", errInvalid, st.StepDuration)
	}
	return st, nil
}

// jsonDecoder decodes strictly.
func jsonDecoder(r io.Reader) *json.Decoder {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	return dec
}

// listJobs is GET /api/v1/jobs?plan_id=&kind=&status=&q=&limit=&offset=.
func (s *Server) listJobs(c echo.Context) error {
	f := store.JobFilter{Kind: c.QueryParam("kind"), Status: store.Status(c.QueryParam("status")), Query: c.QueryParam("q")}
	var err error
	if v := c.QueryParam("plan_id"); v != "" {
		if f.PlanID, err = parseID(v, "plan_id"); err != nil {
			return err
		}
	}
	if f.Limit, err = intParam(c, "limit", 50, 1, 500); err != nil {
		return err
	}
	if f.Offset, err = intParam(c, "offset", 0, 0, 1<<30); err != nil {
		return err
	}
	jobs, total, err := s.st.ListJobs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	out := make([]jobJSON, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, s.jobView(c, j, names))
	}
	return c.JSON(http.StatusOK, map[string]any{"jobs": out, "total": total})
}

// getJob is GET /api/v1/jobs/:id.
func (s *Server) getJob(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.jobView(c, j, map[int64]string{}))
}

// jobView is a job in the API's shape; names caches plan names by id.
func (s *Server) jobView(c echo.Context, j store.Job, names map[int64]string) jobJSON {
	name, ok := names[j.PlanID]
	if !ok {
		if p, err := s.st.GetPlan(c.Request().Context(), j.PlanID, j.PlanVersion); err == nil {
			name = p.Name
		}
		names[j.PlanID] = name
	}
	v := jobJSON{
		ID: j.ID, Kind: j.Kind, Status: j.Status, Phase: j.Phase, PlanID: j.PlanID, PlanName: name,
		PlanVersion: j.PlanVersion, Target: j.Target, Created: j.Created, Started: j.Started, Finished: j.Finished,
		Summary: j.Summary, Settings: j.Settings, Verdict: j.Verdict, Error: j.Error, CancelRequested: j.CancelRequested,
	}
	if len(v.Summary) == 0 {
		v.Summary = json.RawMessage("null")
	}
	if j.Status == store.Running {
		v.Progress = s.runner.progressOf(j.ID)
	}
	s.agentsOf(c.Request().Context(), &v, j.Settings)
	return v
}

// jobOf reads the :id job.
func (s *Server) jobOf(c echo.Context) (store.Job, error) {
	id, err := pathID(c)
	if err != nil {
		return store.Job{}, err
	}
	return s.st.GetJob(c.Request().Context(), id)
}

// getResult is GET /api/v1/jobs/:id/result: the whole run.json or
// study.json document.
func (s *Server) getResult(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	if len(j.Result) == 0 {
		return fmt.Errorf("job %d (%s) has no result yet: %w", j.ID, j.Status, store.ErrNotFound)
	}
	return c.JSONBlob(http.StatusOK, j.Result)
}

// getSteps is GET /api/v1/jobs/:id/steps.
func (s *Server) getSteps(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	steps, err := s.st.Steps(c.Request().Context(), j.ID)
	if err != nil {
		return err
	}
	if steps == nil {
		steps = []json.RawMessage{}
	}
	return c.JSON(http.StatusOK, map[string]any{"steps": steps})
}

// getFindings is GET /api/v1/jobs/:id/findings: the ranked findings and,
// once the job has its result, the correlation report behind them.
func (s *Server) getFindings(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	fs, err := s.st.Findings(c.Request().Context(), j.ID)
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []json.RawMessage{}
	}
	var doc struct {
		Correlation json.RawMessage `json:"correlation"`
	}
	if len(j.Result) > 0 {
		_ = json.Unmarshal(j.Result, &doc)
	}
	if len(doc.Correlation) == 0 {
		doc.Correlation = json.RawMessage("null")
	}
	return c.JSON(http.StatusOK, map[string]any{"findings": fs, "correlation": doc.Correlation})
}

// cancelJob is POST /api/v1/jobs/:id/cancel → 202. A queued job ends as
// cancelled at once; a running one when its runner sees the request (at
// once on this server, within a poll on another).
func (s *Server) cancelJob(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	switch j.Status {
	case store.Queued, store.Running:
	default:
		return fmt.Errorf("%w: job %d is already %s", errNotRunning, j.ID, j.Status)
	}
	if err := s.st.RequestCancel(ctx, j.ID); err != nil {
		return err
	}
	if j.Status == store.Queued {
		if err := s.st.FinishJob(ctx, j.ID, store.Cancelled, nil, nil, "cancelled before it started"); err != nil &&
			!errors.Is(err, store.ErrConflict) {
			return err
		}
		if _, err := s.st.AppendEvent(ctx, j.ID, "status", json.RawMessage(`{"status":"cancelled"}`)); err == nil {
			s.live.notify(j.ID)
		}
	} else {
		s.runner.cancel(j.ID)
	}
	s.log.Info("job cancel requested", "job", j.ID, "by", tokenOf(c).Name)
	return c.JSON(http.StatusAccepted, map[string]any{"id": j.ID, "status": "cancelling"})
}

// intParam reads a whole-number query parameter within [min, max].
func intParam(c echo.Context, key string, def, min, max int) (int, error) {
	v := c.QueryParam(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, fmt.Errorf("%w: %s %q: want a whole number from %d to %d", errBadRequest, key, v, min, max)
	}
	return n, nil
}
