package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/store"
)

// Event types of a job's stream.
const (
	eventWindow  = "window"
	eventStep    = "step"
	eventPhase   = "phase"
	eventFinding = "finding"
	eventStatus  = "status"
	eventEnd     = "end"
)

// streamPoll is how often a stream looks for events when no local runner
// wakes it (a job run by another server, or one that has just finished).
const streamPoll = time.Second

// streamEvents is GET /api/v1/jobs/:id/events: server-sent events, from
// after Last-Event-ID (or ?after=) on, each with its store id, until the
// job is finished; then `event: end`.
func (s *Server) streamEvents(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	after := int64(0)
	if v := c.Request().Header.Get("Last-Event-ID"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
	} else if v := c.QueryParam("after"); v != "" {
		after, err = strconv.ParseInt(v, 10, 64)
	}
	if err != nil || after < 0 {
		return fmt.Errorf("%w: Last-Event-ID/after: want an event id", errBadRequest)
	}
	ctx := c.Request().Context()
	w := c.Response()
	// A stream lasts as long as its job: the server's write timeout is lifted for it.
	_ = http.NewResponseController(w.Writer).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n\n")
	w.Flush()

	tick := time.NewTicker(streamPoll)
	defer tick.Stop()
	for {
		wake := s.live.wait(j.ID) // before reading: an event written meanwhile still wakes us
		events, err := s.st.Events(ctx, j.ID, after, 500)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err // headers are sent: the handler logs it, the client reconnects
		}
		for _, e := range events {
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, e.Data)
			after = e.ID
		}
		if len(events) > 0 {
			w.Flush()
			if len(events) == 500 {
				continue // more history to replay
			}
		}
		cur, err := s.st.GetJob(ctx, j.ID)
		if err != nil {
			return nil
		}
		if cur.Finished != nil || finished(cur.Status) {
			// Nothing after the last event: say so and stop.
			more, err := s.st.Events(ctx, j.ID, after, 1)
			if err == nil && len(more) > 0 {
				continue
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: {\"status\":%q}\n\n", after, eventEnd, cur.Status)
			w.Flush()
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.closing:
			return nil
		case <-wake:
		case <-tick.C:
			// A comment keeps proxies from closing an idle stream.
			fmt.Fprint(w, ": keep-alive\n\n")
			w.Flush()
		}
	}
}

// finished reports whether a status is an end.
func finished(st store.Status) bool {
	switch st {
	case store.Queued, store.Running, "":
		return false
	}
	return true
}
