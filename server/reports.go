package server

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// getReport is GET /api/v1/jobs/:id/report?format=text|html|pdf|md|junit:
// the job's report. text is the CLI's account; the others come from
// package report.
func (s *Server) getReport(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	format := strings.ToLower(c.QueryParam("format"))
	art, err := s.artifact(c, j.ID)
	if err != nil {
		return err
	}
	if format == "text" || format == "txt" {
		var buf bytes.Buffer
		if err := writeText(&buf, art); err != nil {
			return fmt.Errorf("text of job %d: %w", j.ID, err)
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", buf.Bytes())
	}
	return fmt.Errorf("%w: format %q: this server renders text only (package report is not built in yet)", errUnavailable, format)
}
