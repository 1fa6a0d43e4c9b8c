package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// TestFleetSplitsAClosedModel: three agents hold a closed model's 7 users
// between them (3, 2 and 2): the target sees 7 requests at once, the
// merged seconds count 7 users, and the shares' users add up to them.
// A second round under abort.max_rate 30/s starts about 30 iterations a
// second in all, and the fleet's result says the rate held it back.
func TestFleetSplitsAClosedModel(t *testing.T) {
	r := newRig(t, FleetOptions{Wait: 20 * time.Second})
	var active, peak atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n := active.Add(1)
		defer active.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(target.Close)
	yaml := fmt.Sprintf(`version: 1
name: closed
target: { base_url: %s }
load:
  model: closed
  start: 7
  stages: [{ duration: 3s, target: 7 }]
journeys:
  - name: j
    steps:
      - { name: hit, get: /x }
`, target.URL)
	p, err := plan.Parse("closed.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg, _ := r.fleetOf(ctx, t, 3)
	j, jobID := r.job(ctx, t, "closed", yaml, 3)
	defer j.Close("passed")
	res, err := j.Run(ctx, p, generator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.CappedAt != 0 {
		t.Errorf("capped at %g/s without abort.max_rate", res.CappedAt)
	}
	if got := peak.Load(); got != 7 {
		t.Errorf("peak concurrent requests at the target = %d, want the plan's 7 users", got)
	}
	if len(res.Seconds) < 2 {
		t.Fatalf("%d merged seconds", len(res.Seconds))
	}
	if s := res.Seconds[1]; s.VUs != 7 || s.Offered < 6.9 || s.Offered > 7.1 {
		t.Errorf("second 2: %d users, %.2f offered; want 7 of each", s.VUs, s.Offered)
	}
	// Each of 7 users loops over 50 ms requests for 3 s: about 420 in all.
	if n := res.Summary.Requests; n < 200 || n > 440 {
		t.Errorf("the fleet sent %d requests, want about 420", n)
	}
	shards, err := r.st.Shards(ctx, jobID)
	if err != nil || len(shards) != 3 {
		t.Fatalf("shards %v %v", shards, err)
	}
	for _, sh := range shards {
		if sh.State != store.ShardDone || sh.Requests == 0 {
			t.Errorf("shard %+v: want done with requests", sh)
		}
	}
	// Share 1 holds 3 users, the others 2: it sends half as much again.
	if a, b := shards[0].Requests, shards[1].Requests+shards[2].Requests; 4*a < 5*b/2 || 4*a > 7*b/2 {
		t.Errorf("share 1 sent %d requests and shares 2 and 3 together %d; want 3 to 4 users' worth", a, b)
	}

	// Unpaced, 7 users of 50 ms requests start about 140 iterations a
	// second; each agent holds its users' share of 30/s.
	p.Abort.MaxRate = 30
	res, err = j.Run(ctx, p, generator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.CappedAt != 30 {
		t.Errorf("round 2: capped at %g/s, want the plan's 30 (every agent was held back)", res.CappedAt)
	}
	t.Logf("round 2: %d iterations in 3 s under abort.max_rate 30/s, capped at %g/s", res.Summary.Iterations, res.CappedAt)
	if n := res.Summary.Iterations; n < 60 || n > 100 {
		t.Errorf("round 2 started %d iterations in 3 s, want about 90 (30/s)", n)
	}
	cancel()
	wg.Wait()
}
