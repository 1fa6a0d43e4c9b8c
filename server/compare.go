package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/compare"
	"github.com/headroom-sre/headroom/pipeline"
)

// compareJobs is GET /api/v1/compare?a=&b=: job b against job a (the
// base), per request name, with a verdict.
func (s *Server) compareJobs(c echo.Context) error {
	a, err := parseID(c.QueryParam("a"), "a")
	if err != nil {
		return err
	}
	b, err := parseID(c.QueryParam("b"), "b")
	if err != nil {
		return err
	}
	base, err := s.artifact(c, a)
	if err != nil {
		return err
	}
	cur, err := s.artifact(c, b)
	if err != nil {
		return err
	}
	res, err := compareArtifacts(base, cur)
	if err != nil {
		return fmt.Errorf("%w: compare job %d with job %d: %v", errInvalid, a, b, err)
	}
	return c.JSON(http.StatusOK, res)
}

// artifact reads a finished job's result document.
func (s *Server) artifact(c echo.Context, id int64) (pipeline.Artifact, error) {
	j, err := s.st.GetJob(c.Request().Context(), id)
	if err != nil {
		return pipeline.Artifact{}, err
	}
	if len(j.Result) == 0 {
		return pipeline.Artifact{}, fmt.Errorf("%w: job %d is %s and has no result to compare", errInvalid, id, j.Status)
	}
	art, err := pipeline.Decode(j.Result)
	if err != nil {
		return pipeline.Artifact{}, fmt.Errorf("job %d result: %w", id, err)
	}
	return art, nil
}

// compareArtifacts is compare.Artifacts with its default options.
func compareArtifacts(base, cur pipeline.Artifact) (any, error) {
	return compare.Artifacts(base, cur, compare.Options{})
}
