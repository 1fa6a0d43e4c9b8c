package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/store"
)

// webhookFixture is a scheduler over a fresh store with a stored review to
// deliver, and a receiver that answers with the statuses given, one per
// attempt (the last one repeats).
type webhookFixture struct {
	sc       *scheduler
	st       *store.Store
	schedule store.Schedule
	review   store.Review

	mu     sync.Mutex
	bodies [][]byte
}

func newWebhookFixture(t *testing.T, cfg Config, statuses ...int) (*webhookFixture, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &webhookFixture{sc: srv.sched, st: st}
	f.sc.backoff, f.sc.maxWait = time.Millisecond, 5*time.Millisecond
	attempt := 0
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, b)
		code := statuses[min(attempt, len(statuses)-1)]
		attempt++
		f.mu.Unlock()
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		if code == http.StatusFound {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(recv.Close)
	p, err := st.CreatePlan(ctx, "checkout", "name: checkout")
	if err != nil {
		t.Fatal(err)
	}
	f.schedule, err = st.CreateSchedule(ctx, store.Schedule{PlanID: p.ID, Kind: "run", Cron: "@hourly", Webhook: recv.URL + "/hook", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	f.review, err = st.AddReview(ctx, store.Review{ScheduleID: f.schedule.ID, Verdict: reviewRegression,
		Reasons: []string{"all p99 20ms → 30ms (+50%)"}, WebhookStatus: webhookPending})
	if err != nil {
		t.Fatal(err)
	}
	return f, recv
}

func (f *webhookFixture) deliver(t *testing.T) store.Review {
	t.Helper()
	msg := reviewMessage("http://headroom.test", "checkout", f.schedule, f.review,
		json.RawMessage(`{"requests":1200,"throughput_rps":40,"error_rate":0.01,"latency_ms":{"p99":30.5}}`))
	got := f.sc.deliver(context.Background(), f.schedule, f.review, msg)
	rs, err := f.st.ListReviews(context.Background(), f.schedule.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].WebhookStatus != got.WebhookStatus || rs[0].WebhookAttempts != got.WebhookAttempts {
		t.Fatalf("stored review %+v does not match the delivery's %+v", rs, got)
	}
	return got
}

func (f *webhookFixture) received() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.bodies)
}

func TestWebhookRetriesUntilDelivered(t *testing.T) {
	f, _ := newWebhookFixture(t, Config{}, 500, 503, 200)
	rv := f.deliver(t)
	if rv.WebhookStatus != webhookDelivered || rv.WebhookAttempts != 3 || f.received() != 3 {
		t.Fatalf("status %q after %d attempts (%d received), want delivered on the 3rd", rv.WebhookStatus, rv.WebhookAttempts, f.received())
	}
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type string `json:"type"`
		} `json:"blocks"`
		Headroom struct {
			Verdict string   `json:"verdict"`
			Reasons []string `json:"reasons"`
			Link    string   `json:"link"`
		} `json:"headroom"`
	}
	if err := json.Unmarshal(f.bodies[2], &msg); err != nil {
		t.Fatalf("webhook body: %v\n%s", err, f.bodies[2])
	}
	if !strings.Contains(msg.Text, "checkout") || !strings.Contains(msg.Text, "regression") || !strings.Contains(msg.Text, "p99 30.5 ms") ||
		len(msg.Blocks) == 0 || msg.Headroom.Verdict != reviewRegression || len(msg.Headroom.Reasons) != 1 ||
		msg.Headroom.Link != "http://headroom.test/schedules/1" {
		t.Fatalf("webhook message %+v", msg)
	}
}

func TestWebhookGivesUp(t *testing.T) {
	cases := []struct {
		name     string
		statuses []int
		attempts int
		status   string
	}{
		{"client error is not retried", []int{404}, 1, "failed: HTTP 404"},
		{"redirect is not followed", []int{302}, 1, "failed: HTTP 302"},
		{"server errors until the last attempt", []int{500}, 5, "failed: HTTP 500 (after 5 attempts)"},
		{"too many requests is retried", []int{429, 429, 204}, 3, webhookDelivered},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := newWebhookFixture(t, Config{}, tc.statuses...)
			rv := f.deliver(t)
			if rv.WebhookAttempts != tc.attempts || f.received() != tc.attempts || !strings.HasPrefix(rv.WebhookStatus, tc.status) {
				t.Fatalf("status %q after %d attempts (%d received), want %q after %d", rv.WebhookStatus, rv.WebhookAttempts, f.received(), tc.status, tc.attempts)
			}
		})
	}
}

func TestWebhookOutsideAllowListIsRefused(t *testing.T) {
	f, _ := newWebhookFixture(t, Config{WebhookAllow: []string{"hooks.example.com"}}, 200)
	rv := f.deliver(t)
	if rv.WebhookAttempts != 0 || f.received() != 0 || !strings.HasPrefix(rv.WebhookStatus, webhookRefused) ||
		!strings.Contains(rv.WebhookStatus, "127.0.0.1") {
		t.Fatalf("status %q, %d attempts, %d received; want refused naming 127.0.0.1 and nothing sent", rv.WebhookStatus, rv.WebhookAttempts, f.received())
	}
}

func TestParseCron(t *testing.T) {
	for _, ok := range []string{"0 2 * * *", "*/5 * * * * *", "@hourly", "@every 3s", "30 9 * * 1-5"} {
		if _, err := parseCron(ok, time.Second); err != nil {
			t.Errorf("parseCron(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "every night", "61 * * * *", "* * *"} {
		if _, err := parseCron(bad, time.Second); err == nil {
			t.Errorf("parseCron(%q) accepted it", bad)
		}
	}
	// Closer than the minimum interval: refused, naming the gap.
	for _, tooOften := range []string{"@every 1ns", "@every 30s", "* * * * * *", "*/10 * * * * *", "0,1 * * * *"} {
		if _, err := parseCron(tooOften, 2*time.Minute); err == nil || !strings.Contains(err.Error(), "apart") {
			t.Errorf("parseCron(%q) with a 2m minimum: %v, want refused", tooOften, err)
		}
	}
	if _, err := parseCron("*/5 * * * *", 2*time.Minute); err != nil {
		t.Errorf("every 5 minutes with a 2m minimum: %v", err)
	}
}
