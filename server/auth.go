package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/store"
)

// rank orders the roles: each one may do what the ones below it may. The
// agent role has no rank: it passes no require, and only requireAgent
// lets it (and nothing else) through.
var rank = map[store.Role]int{store.Viewer: 1, store.Operator: 2, store.Admin: 3}

// validRole reports whether r is one of the roles a token may have.
func validRole(r store.Role) bool { return rank[r] > 0 || r == store.AgentRole }

const tokenKey = "headroom.token"

// authenticate reads the bearer token (or, on the events stream, which an
// EventSource opens without headers, a ?ticket= from POST
// …/events/ticket; a token never goes in a URL), checks it against the
// store and keeps it on the context. No or an unknown token is a 401.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw := bearer(c.Request())
		if raw == "" && c.Path() == "/api/v1/jobs/:id/events" && c.QueryParam("ticket") != "" {
			id, err := strconv.ParseInt(c.Param("id"), 10, 64)
			tok, ok := s.tickets.use(c.QueryParam("ticket"), id, time.Now())
			if err != nil || !ok {
				return fmt.Errorf("%w: the event-stream ticket is unknown, expired or for another job: POST /api/v1/jobs/%s/events/ticket for a new one", errUnauthorized, c.Param("id"))
			}
			c.Set(tokenKey, tok)
			return next(c)
		}
		if raw == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="headroom"`)
			return fmt.Errorf("%w: no token: send Authorization: Bearer <token>", errUnauthorized)
		}
		tok, err := s.st.Authenticate(c.Request().Context(), raw)
		if errors.Is(err, store.ErrNotFound) {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="headroom", error="invalid_token"`)
			return fmt.Errorf("%w: unknown or revoked token", errUnauthorized)
		}
		if err != nil {
			return fmt.Errorf("authenticate: %w", err)
		}
		c.Set(tokenKey, tok)
		return next(c)
	}
}

// bearer returns the token of an "Authorization: Bearer …" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// require lets a request through when its token's role is at least min.
func require(min store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			tok := tokenOf(c)
			if rank[tok.Role] < rank[min] {
				return fmt.Errorf("%w: this needs the %s role; token %q is %s", errForbidden, min, tok.Name, tok.Role)
			}
			return next(c)
		}
	}
}

// tokenOf is the request's authenticated token.
func tokenOf(c echo.Context) store.Token {
	t, _ := c.Get(tokenKey).(store.Token)
	return t
}

// me is GET /api/v1/me.
func (s *Server) me(c echo.Context) error {
	t := tokenOf(c)
	return c.JSON(http.StatusOK, map[string]any{"name": t.Name, "role": t.Role})
}
