package server

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/headroom-sre/headroom/store"
)

// ticketTTL is how long an event-stream ticket may open (or reopen) its
// stream: long enough for EventSource's reconnects, short enough that one
// seen in a log or a proxy's access line is soon worthless.
const ticketTTL = time.Minute

// maxTickets bounds the tickets held at once.
const maxTickets = 10_000

// tickets are the short-lived stand-ins for a token in an event stream's
// URL (an EventSource cannot send headers): one job, one token's role,
// a minute. They live in this server's memory.
type tickets struct {
	mu sync.Mutex
	m  map[string]ticket
}

type ticket struct {
	job     int64
	tok     store.Token
	expires time.Time
}

func newTickets() *tickets { return &tickets{m: map[string]ticket{}} }

// issue makes a ticket for job on behalf of tok.
func (t *tickets) issue(job int64, tok store.Token, now time.Time) (string, time.Time) {
	var b [24]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	exp := now.Add(ticketTTL)
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, v := range t.m {
		if !now.Before(v.expires) {
			delete(t.m, k)
		}
	}
	if len(t.m) >= maxTickets {
		for k := range t.m { // full of live tickets: the oldest-by-chance go
			delete(t.m, k)
			if len(t.m) < maxTickets/2 {
				break
			}
		}
	}
	t.m[id] = ticket{job: job, tok: tok, expires: exp}
	return id, exp
}

// use returns the token a ticket stands for when it is live and for job.
func (t *tickets) use(id string, job int64, now time.Time) (store.Token, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	tk, ok := t.m[id]
	if !ok || tk.job != job || !now.Before(tk.expires) {
		return store.Token{}, false
	}
	return tk.tok, true
}

// createTicket is POST /api/v1/jobs/:id/events/ticket → 201 {ticket,
// expires}: open GET /api/v1/jobs/:id/events?ticket=… within a minute.
func (s *Server) createTicket(c echo.Context) error {
	j, err := s.jobOf(c)
	if err != nil {
		return err
	}
	id, exp := s.tickets.issue(j.ID, tokenOf(c), time.Now())
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"ticket": id, "expires": exp})
}
