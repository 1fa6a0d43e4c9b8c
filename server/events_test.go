package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/server"
)

// sse is one server-sent event.
type sse struct {
	ID    int64
	Event string
	Data  string
}

// readEvents reads a job's stream to its end (or fails at the deadline).
func (ts *testServer) readEvents(t *testing.T, id int64, lastID string, query string) []sse {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, fmt.Sprintf("%s/api/v1/jobs/%d/events%s", ts.URL, id, query), nil)
	if !strings.Contains(query, "ticket=") {
		req.Header.Set("Authorization", "Bearer "+ts.viewer)
	}
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out []sse
	var cur sse
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if cur.Event != "" {
				out = append(out, cur)
				if cur.Event == "end" {
					return out
				}
			}
			cur = sse{}
		case strings.HasPrefix(line, "id: "):
			cur.ID, _ = strconv.ParseInt(line[4:], 10, 64)
		case strings.HasPrefix(line, "event: "):
			cur.Event = line[7:]
		case strings.HasPrefix(line, "data: "):
			cur.Data = line[6:]
		}
	}
	t.Fatalf("stream ended without `event: end` after %d events: %v", len(out), sc.Err())
	return nil
}

func TestEventsReplayFromLastEventID(t *testing.T) {
	ts := startServer(t, server.Config{})
	tgt := target(t)
	planID := ts.createPlan(t, runPlan("events", tgt.URL, 3, 20))
	id := ts.startJob(t, planID, "run", nil)

	// A token in the URL is not read: no token travels in a URL.
	if code, _ := ts.do(t, "", http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d/events?access_token=%s", id, ts.viewer), "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("events with ?access_token: %d, want 401", code)
	}
	// A ticket is for its job only.
	var tk struct{ Ticket string }
	if code, body := ts.do(t, ts.viewer, http.MethodPost, fmt.Sprintf("/api/v1/jobs/%d/events/ticket", id), "", nil, &tk); code != http.StatusCreated || tk.Ticket == "" {
		t.Fatalf("ticket: %d %s", code, body)
	}
	if code, _ := ts.do(t, "", http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d/events?ticket=%s", id+1000, tk.Ticket), "", nil, nil); code != http.StatusUnauthorized {
		t.Fatalf("another job's stream with the ticket: %d, want 401", code)
	}
	// Live: from the start of the job to its end, with the ticket an
	// EventSource sends.
	live := ts.readEvents(t, id, "", "?ticket="+tk.Ticket)
	kinds := map[string]int{}
	for i, e := range live {
		kinds[e.Event]++
		if i > 0 && e.Event != "end" && e.ID <= live[i-1].ID {
			t.Fatalf("event ids not increasing: %d after %d", e.ID, live[i-1].ID)
		}
	}
	if kinds["window"] < 3 || kinds["phase"] < 1 || kinds["status"] < 2 || kinds["end"] != 1 {
		t.Fatalf("event kinds %v", kinds)
	}
	var w struct {
		Name     string
		Requests int64
		ByName   []struct{ Name string } `json:"by_name"`
	}
	for _, e := range live {
		if e.Event == "window" {
			if err := json.Unmarshal([]byte(e.Data), &w); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if w.Name != "all" || len(w.ByName) != 2 {
		t.Errorf("window event %+v, want all requests with 2 names", w)
	}

	// A reconnect with Last-Event-ID gets exactly what came after it.
	mid := live[len(live)/2]
	again := ts.readEvents(t, id, strconv.FormatInt(mid.ID, 10), "")
	want := live[len(live)/2+1:]
	if len(again) != len(want) {
		t.Fatalf("replay after %d: %d events, want %d", mid.ID, len(again), len(want))
	}
	for i := range want {
		if again[i].Event != want[i].Event || (want[i].Event != "end" && again[i].ID != want[i].ID) {
			t.Fatalf("replay event %d: %+v, want %+v", i, again[i], want[i])
		}
	}
	// ?after= does the same for clients that cannot set the header.
	if after := ts.readEvents(t, id, "", fmt.Sprintf("?after=%d", mid.ID)); len(after) != len(want) {
		t.Errorf("?after=: %d events, want %d", len(after), len(want))
	}
}
