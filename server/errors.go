package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// Error kinds a handler wraps (fmt.Errorf("%w: ...", errBadRequest)); the
// table below turns each into its status.
var (
	errBadRequest   = errors.New("bad request")
	errUnauthorized = errors.New("unauthorized")
	errForbidden    = errors.New("forbidden")
	errInvalid      = errors.New("invalid")  // 422: the body parsed but says something not allowed
	errNotRunning   = errors.New("finished") // 409: the job is not in a state for that
	errUnavailable  = errors.New("unavailable")
)

// statusOf is the one table from error kind to HTTP status. The first match
// wins; anything else is a 500.
var statusOf = []struct {
	kind   error
	status int
}{
	{errBadRequest, http.StatusBadRequest},
	{errUnauthorized, http.StatusUnauthorized},
	{errForbidden, http.StatusForbidden},
	{store.ErrNotFound, http.StatusNotFound},
	{store.ErrConflict, http.StatusConflict},
	{errNotRunning, http.StatusConflict},
	{errInvalid, http.StatusUnprocessableEntity},
	{errUnavailable, http.StatusServiceUnavailable},
	{errUnsupported, http.StatusUnsupportedMediaType},
}

// problem is one mistake of a plan: the API's shape of a *plan.Error.
type problem struct {
	Line    int    `json:"line,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// errorBody is every error's JSON.
type errorBody struct {
	Error    string    `json:"error"`
	Problems []problem `json:"problems,omitempty"`
}

// planProblems returns the problems of a plan error, or nil when err is
// none.
func planProblems(err error) []problem {
	var es plan.Errors
	if errors.As(err, &es) {
		ps := make([]problem, 0, len(es))
		for _, e := range es {
			ps = append(ps, problem{Line: e.Line, Field: e.Field, Message: e.Msg})
		}
		return ps
	}
	var e *plan.Error
	if errors.As(err, &e) {
		return []problem{{Line: e.Line, Field: e.Field, Message: e.Msg}}
	}
	return nil
}

// classify gives the status and body of an error.
func classify(err error) (int, errorBody) {
	if ps := planProblems(err); ps != nil {
		msg := "the plan has 1 problem"
		if len(ps) > 1 {
			msg = fmt.Sprintf("the plan has %d problems", len(ps))
		}
		return http.StatusUnprocessableEntity, errorBody{Error: msg, Problems: ps}
	}
	if isTooLarge(err) {
		return http.StatusRequestEntityTooLarge, errorBody{Error: err.Error()}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && s != "" {
			msg = s
		}
		return he.Code, errorBody{Error: msg}
	}
	for _, k := range statusOf {
		if errors.Is(err, k.kind) {
			return k.status, errorBody{Error: err.Error()}
		}
	}
	return http.StatusInternalServerError, errorBody{Error: "internal error"}
}

// handleError is Echo's error handler: JSON for every error, logged when
// it is the server's fault.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body := classify(err)
	if status >= 500 {
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}
