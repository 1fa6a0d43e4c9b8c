package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/report"
	"github.com/headroom-sre/headroom/store"
)

// pdfTimeout bounds one PDF print.
const pdfTimeout = 2 * time.Minute

// getReport is GET /api/v1/jobs/:id/report?format=html|pdf|md|junit|text
// [&baseline=JOB|none][&paper=A4|Letter]: the job's report (package
// report; text is the CLI's account), against the plan's baseline when it
// has one (or the job given).
func (s *Server) getReport(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	q := strings.ToLower(c.QueryParam("format"))
	if q == "text" || q == "txt" {
		art, err := s.artifact(c, j.ID)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := writeText(&buf, art); err != nil {
			return fmt.Errorf("text of job %d: %w", j.ID, err)
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", buf.Bytes())
	}
	format := report.HTML
	if q != "" {
		if format, err = report.ParseFormat(q); err != nil {
			return fmt.Errorf("%w: %v (or text)", errBadRequest, err)
		}
	}
	paper, err := report.ParsePaper(c.QueryParam("paper"))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadRequest, err)
	}
	art, err := s.artifact(c, j.ID)
	if err != nil {
		return err
	}
	o := report.Options{Format: format, Paper: paper}
	if sp, err := s.st.GetPlan(c.Request().Context(), j.PlanID, j.PlanVersion); err == nil {
		if p, err := plan.Parse(planFile(sp.Name), []byte(sp.YAML)); err == nil {
			o.Plan = p
		}
	}
	o.Profiles = s.reportProfiles(c, j.ID)
	if o.Baseline, err = s.reportBaseline(c, j, art); err != nil {
		return err
	}
	var buf bytes.Buffer
	if format == report.PDF {
		ctx, cancel := context.WithTimeout(c.Request().Context(), pdfTimeout)
		defer cancel()
		select {
		case s.pdfSlot <- struct{}{}: // one browser at a time
			defer func() { <-s.pdfSlot }()
		case <-ctx.Done():
			return fmt.Errorf("%w: the PDF printer is busy", errUnavailable)
		}
		err = report.WritePDF(ctx, &buf, art, o)
	} else {
		err = report.Render(&buf, art, o)
	}
	if err != nil {
		return fmt.Errorf("report of job %d: %w", j.ID, err)
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="job-%d.%s"`, j.ID, strings.TrimPrefix(format.Extension(), ".")))
	return c.Blob(http.StatusOK, format.ContentType(), buf.Bytes())
}

// reportBaseline is the document a report compares with: ?baseline=JOB,
// none with ?baseline=none, else the plan's baseline when it is another
// job of the same kind.
func (s *Server) reportBaseline(c echo.Context, j store.Job, art pipeline.Artifact) (*pipeline.Artifact, error) {
	var id int64
	switch v := c.QueryParam("baseline"); v {
	case "none":
		return nil, nil
	case "":
		b, err := s.st.Baseline(c.Request().Context(), j.PlanID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && b == j.ID) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		id = b
	default:
		b, err := parseID(v, "baseline")
		if err != nil {
			return nil, err
		}
		id = b
	}
	base, err := s.artifact(c, id)
	if err != nil {
		return nil, err
	}
	if base.Kind != art.Kind {
		if c.QueryParam("baseline") == "" {
			return nil, nil // the plan's baseline is of the other kind
		}
		return nil, fmt.Errorf("%w: job %d is a %s, job %d a %s", errInvalid, id, base.Kind, j.ID, art.Kind)
	}
	return &base, nil
}
