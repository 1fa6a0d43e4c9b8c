package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/store"
)

// tokenJSON is a token as the API lists it (never its secret).
type tokenJSON struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Role     store.Role `json:"role"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"last_used"`
}

// listTokens is GET /api/v1/tokens.
func (s *Server) listTokens(c echo.Context) error {
	ts, err := s.st.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenJSON{ID: t.ID, Name: t.Name, Role: t.Role, Created: t.Created, LastUsed: t.LastUsed})
	}
	return c.JSON(http.StatusOK, map[string]any{"tokens": out})
}

// createToken is POST /api/v1/tokens {name, role} → 201 {token, id, name,
// role}; the plaintext is shown this once.
func (s *Server) createToken(c echo.Context) error {
	var body struct {
		Name string     `json:"name"`
		Role store.Role `json:"role"`
	}
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	body.Name = strings.TrimSpace(body.Name)
	if err := checkToken(body.Name, body.Role); err != nil {
		return err
	}
	plain, t, err := s.st.CreateToken(c.Request().Context(), body.Name, body.Role)
	if err != nil {
		return err
	}
	s.log.Info("token created", "id", t.ID, "name", t.Name, "role", t.Role, "by", tokenOf(c).Name)
	return c.JSON(http.StatusCreated, map[string]any{"token": plain, "id": t.ID, "name": t.Name, "role": t.Role})
}

// CheckToken validates a new token's name and role.
func checkToken(name string, role store.Role) error {
	if !validRole(role) {
		return fmt.Errorf("%w: role %q: want viewer, operator, admin or agent", errInvalid, role)
	}
	if name == "" || len(name) > 100 {
		return fmt.Errorf("%w: name: want 1 to 100 characters", errInvalid)
	}
	return nil
}

// revokeToken is DELETE /api/v1/tokens/:id → 204.
func (s *Server) revokeToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.st.RevokeToken(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("token revoked", "id", id, "by", tokenOf(c).Name)
	return c.NoContent(http.StatusNoContent)
}
