package server

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/plan"
)

// errUnsupported is a body of a type an endpoint does not read (415).
var errUnsupported = errors.New("unsupported media type")

// planJSON is a plan as the API lists it.
type planJSON struct {
	ID      int64     `json:"id"`
	Name    string    `json:"name"`
	Version int       `json:"version"`
	Created time.Time `json:"created"`
}

// readPlan reads a YAML request body and parses it as a plan, checking
// the server's allow-list too; file names the plan in its problems.
func (s *Server) readPlan(c echo.Context, file string) (*plan.Plan, string, error) {
	if ct := c.Request().Header.Get("Content-Type"); ct != "" {
		mt, _, _ := mime.ParseMediaType(ct)
		switch mt {
		case "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain", "application/octet-stream":
		default:
			return nil, "", fmt.Errorf("%w: a plan is sent as YAML (Content-Type: application/yaml), not %s", errUnsupported, mt)
		}
	}
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return nil, "", err // the body limit's 413 comes through here
	}
	p, err := s.parsePlan(file, body)
	if err != nil {
		return nil, "", err
	}
	return p, string(body), nil
}

// createPlan is POST /api/v1/plans (YAML body) → 201 {id, version, name}.
// The plan's name is its `name:`, or ?name=.
func (s *Server) createPlan(c echo.Context) error {
	p, text, err := s.readPlan(c, "plan.yaml")
	if err != nil {
		return err
	}
	name := p.Name
	if q := strings.TrimSpace(c.QueryParam("name")); q != "" {
		name = q
	}
	if name == "" {
		return fmt.Errorf("%w: the plan has no name: set `name:` in it or pass ?name=", errInvalid)
	}
	sp, err := s.st.CreatePlan(c.Request().Context(), name, text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": sp.ID, "version": sp.Version, "name": sp.Name})
}

// validatePlan is POST /api/v1/plans/validate → {valid: true} or the 422
// of a bad plan.
func (s *Server) validatePlan(c echo.Context) error {
	if _, _, err := s.readPlan(c, "plan.yaml"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"valid": true})
}

// addPlanVersion is POST /api/v1/plans/:id/versions → 201 {id, version}.
func (s *Server) addPlanVersion(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cur, err := s.st.GetPlan(ctx, id, 0)
	if err != nil {
		return err
	}
	_, text, err := s.readPlan(c, planFile(cur.Name))
	if err != nil {
		return err
	}
	sp, err := s.st.AddPlanVersion(ctx, id, text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": sp.ID, "version": sp.Version, "name": sp.Name})
}

// listPlans is GET /api/v1/plans: the latest version of each.
func (s *Server) listPlans(c echo.Context) error {
	ps, err := s.st.ListPlans(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]planJSON, 0, len(ps))
	for _, p := range ps {
		out = append(out, planJSON{ID: p.ID, Name: p.Name, Version: p.Version, Created: p.Created})
	}
	return c.JSON(http.StatusOK, map[string]any{"plans": out})
}

// getPlan is GET /api/v1/plans/:id[?version=]: one version's YAML and the
// list of versions.
func (s *Server) getPlan(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	version := 0
	if v := c.QueryParam("version"); v != "" {
		if version, err = strconv.Atoi(v); err != nil || version < 1 {
			return fmt.Errorf("%w: version %q: want a whole number ≥ 1", errBadRequest, v)
		}
	}
	ctx := c.Request().Context()
	latest, err := s.st.GetPlan(ctx, id, 0)
	if err != nil {
		return err
	}
	p := latest
	if version != 0 && version != latest.Version {
		if p, err = s.st.GetPlan(ctx, id, version); err != nil {
			return err
		}
	}
	all, err := s.st.PlanVersions(ctx, id)
	if err != nil {
		return err
	}
	versions := make([]planJSON, 0, len(all))
	for _, pv := range all {
		versions = append(versions, planJSON{ID: pv.ID, Name: pv.Name, Version: pv.Version, Created: pv.Created})
	}
	return c.JSON(http.StatusOK, map[string]any{
		"id": p.ID, "name": p.Name, "version": p.Version, "yaml": p.YAML, "created": p.Created, "versions": versions,
	})
}

// setBaseline is PUT /api/v1/plans/:id/baseline {job_id}.
func (s *Server) setBaseline(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var body struct {
		JobID int64 `json:"job_id"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	ctx := c.Request().Context()
	job, err := s.st.GetJob(ctx, body.JobID)
	if err != nil {
		return err
	}
	if job.PlanID != id {
		return fmt.Errorf("%w: job %d is of plan %d, not %d", errInvalid, job.ID, job.PlanID, id)
	}
	if job.Finished == nil {
		return fmt.Errorf("%w: job %d is %s; a baseline is a finished job", errInvalid, job.ID, job.Status)
	}
	if err := s.st.SetBaseline(ctx, id, body.JobID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int64{"plan_id": id, "job_id": body.JobID})
}

// getBaseline is GET /api/v1/plans/:id/baseline → {plan_id, job_id}.
func (s *Server) getBaseline(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.st.GetPlan(ctx, id, 0); err != nil {
		return err
	}
	job, err := s.st.Baseline(ctx, id)
	if err != nil {
		return fmt.Errorf("plan %d has no baseline: %w", id, err)
	}
	return c.JSON(http.StatusOK, map[string]int64{"plan_id": id, "job_id": job})
}

// bindJSON decodes a JSON body strictly: unknown fields are errors.
func bindJSON(c echo.Context, v any) error {
	if ct := c.Request().Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return fmt.Errorf("%w: send JSON (Content-Type: application/json), not %s", errUnsupported, mt)
		}
	}
	dec := jsonDecoder(c.Request().Body)
	if err := dec.Decode(v); err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) || isTooLarge(err) {
			return err
		}
		return fmt.Errorf("%w: body: %v", errBadRequest, err)
	}
	return nil
}
