package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// healthz is GET /healthz: the process answers.
func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is GET /readyz: the store answers and the server is not shutting
// down.
func (s *Server) readyz(c echo.Context) error {
	select {
	case <-s.closing:
		return c.JSON(http.StatusServiceUnavailable, errorBody{Error: "shutting down"})
	default:
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if _, err := s.st.CountTokens(ctx); err != nil {
		return c.JSON(http.StatusServiceUnavailable, errorBody{Error: "store: " + err.Error()})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready", "store": s.st.Driver()})
}
