package server

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/store"
)

// scheduleJSON is a schedule as the API shows it.
type scheduleJSON struct {
	ID      int64      `json:"id"`
	PlanID  int64      `json:"plan_id"`
	Kind    string     `json:"kind"`
	Cron    string     `json:"cron"`
	Webhook string     `json:"webhook"`
	Enabled bool       `json:"enabled"`
	LastRun *time.Time `json:"last_run"`
	NextRun *time.Time `json:"next_run"`
	Created time.Time  `json:"created"`
}

func toScheduleJSON(sc store.Schedule) scheduleJSON {
	return scheduleJSON{ID: sc.ID, PlanID: sc.PlanID, Kind: sc.Kind, Cron: sc.Cron, Webhook: sc.Webhook,
		Enabled: sc.Enabled, LastRun: sc.LastRun, NextRun: sc.NextRun, Created: sc.Created}
}

// scheduleRequest is the body of POST and PUT /api/v1/schedules[/{id}]. On
// PUT an absent field keeps its value; on POST enabled defaults to true.
type scheduleRequest struct {
	PlanID  *int64  `json:"plan_id"`
	Kind    *string `json:"kind"`
	Cron    *string `json:"cron"`
	Webhook *string `json:"webhook"`
	Enabled *bool   `json:"enabled"`
}

// routeSchedules wires the schedules and reviews API (issue 9 item 7).
func (s *Server) routeSchedules(api *echo.Group, viewer, admin echo.MiddlewareFunc) {
	api.GET("/schedules", s.listSchedules, viewer)
	api.POST("/schedules", s.createSchedule, admin)
	api.GET("/schedules/:id", s.getSchedule, viewer)
	api.PUT("/schedules/:id", s.updateSchedule, admin)
	api.DELETE("/schedules/:id", s.deleteSchedule, admin)
	api.GET("/schedules/:id/reviews", s.listScheduleReviews, viewer)
	api.GET("/reviews", s.listReviews, viewer)
}

// listSchedules is GET /api/v1/schedules → {schedules: […]}.
func (s *Server) listSchedules(c echo.Context) error {
	scs, err := s.st.ListSchedules(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]scheduleJSON, len(scs))
	for i, sc := range scs {
		out[i] = toScheduleJSON(sc)
	}
	return c.JSON(http.StatusOK, map[string]any{"schedules": out})
}

// getSchedule is GET /api/v1/schedules/{id}.
func (s *Server) getSchedule(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	sc, err := s.st.GetSchedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toScheduleJSON(sc))
}

// createSchedule is POST /api/v1/schedules → 201 with the schedule.
func (s *Server) createSchedule(c echo.Context) error {
	var req scheduleRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	sc := store.Schedule{Enabled: true}
	if err := s.applySchedule(c, &sc, req); err != nil {
		return err
	}
	sc, err := s.st.CreateSchedule(c.Request().Context(), sc)
	if err != nil {
		return err
	}
	s.log.Info("schedule created", "schedule", sc.ID, "plan", sc.PlanID, "kind", sc.Kind, "cron", sc.Cron, "by", tokenOf(c).Name)
	s.sched.poke()
	return c.JSON(http.StatusCreated, toScheduleJSON(sc))
}

// updateSchedule is PUT /api/v1/schedules/{id}: the fields given replace
// the stored ones; the next run is computed again from now.
func (s *Server) updateSchedule(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req scheduleRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	sc, err := s.st.GetSchedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := s.applySchedule(c, &sc, req); err != nil {
		return err
	}
	sc, err = s.st.UpdateSchedule(c.Request().Context(), sc)
	if err != nil {
		return err
	}
	s.log.Info("schedule updated", "schedule", sc.ID, "cron", sc.Cron, "enabled", sc.Enabled, "by", tokenOf(c).Name)
	s.sched.poke()
	return c.JSON(http.StatusOK, toScheduleJSON(sc))
}

// deleteSchedule is DELETE /api/v1/schedules/{id} → 204; its reviews go too.
func (s *Server) deleteSchedule(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := s.st.DeleteSchedule(c.Request().Context(), id); err != nil {
		return err
	}
	s.log.Info("schedule deleted", "schedule", id, "by", tokenOf(c).Name)
	return c.NoContent(http.StatusNoContent)
}

// applySchedule validates req's fields and sets them on sc, with the next
// run computed from now.
func (s *Server) applySchedule(c echo.Context, sc *store.Schedule, req scheduleRequest) error {
	if req.PlanID != nil {
		sc.PlanID = *req.PlanID
	}
	if req.Kind != nil {
		sc.Kind = *req.Kind
	}
	if req.Cron != nil {
		sc.Cron = *req.Cron
	}
	if req.Webhook != nil {
		sc.Webhook = *req.Webhook
	}
	if req.Enabled != nil {
		sc.Enabled = *req.Enabled
	}
	if sc.PlanID <= 0 {
		return fmt.Errorf("%w: plan_id is required", errInvalid)
	}
	if k := pipeline.Kind(sc.Kind); k != pipeline.KindRun && k != pipeline.KindStudy {
		return fmt.Errorf("%w: kind %q: want \"run\" or \"study\"", errInvalid, sc.Kind)
	}
	cs, err := parseCron(sc.Cron, s.cfg.MinScheduleInterval)
	if err != nil {
		return err
	}
	if err := s.sched.checkWebhook(sc.Webhook); err != nil {
		return err
	}
	// The plan must exist and aim where this server may send load.
	_, _, err = s.loadPlan(c.Request().Context(), sc.PlanID, 0)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("%w: plan_id %d: no such plan", errInvalid, sc.PlanID)
	}
	if err != nil {
		return err
	}
	next := cs.Next(time.Now())
	sc.NextRun = &next
	return nil
}

// listScheduleReviews is GET /api/v1/schedules/{id}/reviews → {reviews: […]}, newest first.
func (s *Server) listScheduleReviews(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.st.GetSchedule(ctx, id); err != nil {
		return err
	}
	rs, err := s.st.ListReviews(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"reviews": toReviewsJSON(rs, 0)})
}

// listReviews is GET /api/v1/reviews?limit= (default 50) → the newest
// reviews of every schedule.
func (s *Server) listReviews(c echo.Context) error {
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 1000 {
			return fmt.Errorf("%w: limit %q: want 1 to 1000", errBadRequest, v)
		}
		limit = n
	}
	rs, err := s.st.ListReviews(c.Request().Context(), 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"reviews": toReviewsJSON(rs, limit)})
}

// checkWebhook refuses a webhook that is not an http(s) URL to an
// endpoint on the webhook allow-list; "" (no webhook) is fine.
func (sc *scheduler) checkWebhook(raw string) error { return checkWebhookURL(sc.allow, raw) }
