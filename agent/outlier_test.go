package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
)

// TestFleetKeepsAnOutlierOnItsShard: three agents share a plan whose data
// rows 1, 4, 7, … (agent index 0's) name a user the target serves 25 times
// slower (far enough apart to stay so under the race detector); the merge flags that agent, the job warns once, and the agent's
// shard keeps the statement for the job's page while the others' stay empty.
func TestFleetKeepsAnOutlierOnItsShard(t *testing.T) {
	r := newRig(t, FleetOptions{Wait: 20 * time.Second})
	var slowHits, fastHits atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		d := 10 * time.Millisecond
		if req.URL.Query().Get("u") == "slow" {
			d = 250 * time.Millisecond
			slowHits.Add(1)
		} else {
			fastHits.Add(1)
		}
		time.Sleep(d)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(slow.Close)
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("user\n")
	for i := range 60 {
		if i%3 == 0 {
			csv.WriteString("slow\n")
		} else {
			csv.WriteString("fast\n")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	// 1 s of ramp, then 6 s at 90/s: 30 requests a second for each agent,
	// above the 20 the merge needs to judge one.
	yaml := fmt.Sprintf(`version: 1
name: outlier
target: { base_url: %s }
load:
  model: open
  stages: [{ duration: 1s, target: 90 }, { duration: 6s, target: 90 }]
data:
  users: { csv: users.csv }
journeys:
  - name: j
    steps:
      - { name: hit, get: "/x?u={{ .data.users.user }}" }
`, slow.URL)
	file := filepath.Join(dir, "outlier.yaml")
	p, err := plan.Parse(file, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg, _ := r.fleetOf(ctx, t, 3)
	j, jobID := r.job(ctx, t, "outlier", yaml, 3)
	var mu sync.Mutex
	var warnings []string
	_, err = j.Run(ctx, p, generator.Options{Warn: func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() }})
	j.Close("passed")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the target served %d requests of the slow user, %d of others", slowHits.Load(), fastHits.Load())
	shards, err := r.st.Shards(ctx, jobID)
	if err != nil || len(shards) != 3 {
		t.Fatalf("shards %+v %v", shards, err)
	}
	slowName := ""
	for _, sh := range shards {
		if sh.Index == 0 {
			slowName = sh.Name
		}
		t.Logf("share %d of %d (%s): %d requests, outlier %q", sh.Index+1, sh.Count, sh.Name, sh.Requests, sh.Outlier)
		switch {
		case sh.Index == 0 && !strings.HasPrefix(sh.Outlier, "p99 ") || sh.Index == 0 && !strings.Contains(sh.Outlier, "against the fleet's"):
			t.Errorf("share 1 (the slow rows): outlier %q, want the p99 statement against the fleet's", sh.Outlier)
		case sh.Index != 0 && sh.Outlier != "":
			t.Errorf("share %d (fast rows): outlier %q, want none", sh.Index+1, sh.Outlier)
		}
	}
	mu.Lock()
	departs := 0
	for _, w := range warnings {
		if strings.Contains(w, "departs from the fleet") {
			departs++
			// The agent is named as its operator named it, not by its id.
			if want := fmt.Sprintf("agent %q (id ", slowName); slowName == "" || !strings.HasPrefix(w, want) {
				t.Errorf("warning %q does not start with %q", w, want)
			}
		}
	}
	mu.Unlock()
	if departs != 1 {
		t.Errorf("%d warnings of an agent departing from the fleet, want 1: %q", departs, warnings)
	}
	cancel()
	wg.Wait()
}
