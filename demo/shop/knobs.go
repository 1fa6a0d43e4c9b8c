package shop

import (
	"fmt"
	"net/http"
	"time"

	"github.com/headroom-sre/headroom/demo/internal/cpuquota"
)

// Knobs are the shop's fault knobs. Each one produces one kind of
// bottleneck; all can be changed at run time with SetKnobs or through
// GET/POST /admin/knobs.
type Knobs struct {
	// Pool is the database connection pool size (db.SetMaxOpenConns), ≥ 1.
	Pool int
	// NPlusOne makes the product listing fetch each product's stock with
	// its own query: one DB span per listed product.
	NPlusOne bool
	// MissingIndex drops the index that checkout's recent-orders-by-user
	// lookup needs, so it scans the orders table; turning it off recreates
	// the index. With a shared database file it affects every instance.
	MissingIndex bool
	// CPUBurn is the CPU time each /v1 request spends hashing in a busy loop.
	CPUBurn time.Duration
	// Alloc is the number of bytes each /v1 request allocates, as 16-byte
	// objects linked into a list (pointer-rich, unlike a []byte the GC never
	// scans), and keeps reachable for a while (the last 32 requests' worth),
	// so the GC has to mark them: with enough of it, GC is the bottleneck.
	Alloc int
	// DownstreamLatency is how long checkout's payment provider call takes
	// (a child span "payment" that waits that long).
	DownstreamLatency time.Duration
	// Capacity is a hard concurrency limit: at most Capacity /v1 requests
	// are in their handler at once; the next ones wait in a bounded queue
	// (503 when it is full). 0 means no limit.
	Capacity int
	// CPULimit is a real CFS CPU quota, in cores (0.5 = half a core per
	// 100 ms period), on the whole process the shop runs in: the first
	// limit moves the process into a cgroup of its own (cgroup v1 cpu or v2
	// cpu.max; needs root), Shutdown moves it back and removes the cgroup.
	// The kernel's throttling counters are exported on /metrics under
	// cAdvisor's names. 0 means no limit.
	CPULimit float64
	// Leak is the number of bytes each /v1 request keeps for good, as a
	// memory leak does (written, so resident; at most 2 GiB in all).
	Leak int
	// ServiceTime is how long each /v1 request holds its capacity slot
	// doing nothing (waiting on something slow that uses no CPU): with
	// Capacity it sets a throughput limit of Capacity ÷ ServiceTime that
	// does not depend on the machine's cores.
	ServiceTime time.Duration
	// HotRow makes every checkout update one shared counter row first in
	// its transaction, so concurrent checkouts queue on that row's lock
	// until each commits: lock waits. On PostgreSQL the update holds the
	// row 25 ms (pg_sleep in its RETURNING) so the lock binds at ~40/s.
	HotRow bool
	// MutexHold is how long each /v1 request holds one mutex the whole
	// process shares (waiting, using no CPU): concurrent requests queue on
	// that Go lock, which the mutex and block profiles show (a database
	// lock, as HotRow's, they cannot). It binds at 1 ÷ MutexHold a second.
	MutexHold time.Duration
}

// Bounds of the knobs: wide enough for any demo, narrow enough to keep a
// typo from taking the machine down.
const (
	maxPool     = 1000
	maxCPUBurn  = time.Second
	maxAlloc    = 256 << 20
	maxLatency  = time.Minute
	maxCapacity = 100_000
)

func (k Knobs) validate() error {
	switch {
	case k.Pool < 1 || k.Pool > maxPool:
		return fmt.Errorf("shop: pool: %d is outside 1..%d", k.Pool, maxPool)
	case k.CPUBurn < 0 || k.CPUBurn > maxCPUBurn:
		return fmt.Errorf("shop: cpu_burn: %s is outside 0..%s", k.CPUBurn, maxCPUBurn)
	case k.Alloc < 0 || k.Alloc > maxAlloc:
		return fmt.Errorf("shop: alloc: %d bytes is outside 0..%d", k.Alloc, maxAlloc)
	case k.DownstreamLatency < 0 || k.DownstreamLatency > maxLatency:
		return fmt.Errorf("shop: downstream_latency: %s is outside 0..%s", k.DownstreamLatency, maxLatency)
	case k.Capacity < 0 || k.Capacity > maxCapacity:
		return fmt.Errorf("shop: capacity: %d is outside 0..%d", k.Capacity, maxCapacity)
	case k.MutexHold < 0 || k.MutexHold > maxLatency:
		return fmt.Errorf("shop: mutex_hold: %s is outside 0..%s", k.MutexHold, maxLatency)
	case k.ServiceTime < 0 || k.ServiceTime > maxLatency:
		return fmt.Errorf("shop: service_time: %s is outside 0..%s", k.ServiceTime, maxLatency)
	case k.Leak < 0 || k.Leak > maxLeak:
		return fmt.Errorf("shop: leak: %d bytes is outside 0..%d", k.Leak, maxLeak)
	case k.CPULimit != 0 && !(k.CPULimit >= cpuquota.MinLimit && k.CPULimit <= cpuquota.MaxLimit):
		return fmt.Errorf("shop: cpu_limit: %g cores is outside %g..%g (0: no limit)", k.CPULimit, cpuquota.MinLimit, cpuquota.MaxLimit)
	}
	return nil
}

// knobsJSON is the wire form of Knobs: durations as Go duration strings
// ("250us", "50ms"). In a POST every field is optional; absent ones keep
// their current value.
type knobsJSON struct {
	Pool              *int     `json:"pool,omitempty"`
	NPlusOne          *bool    `json:"n_plus_one,omitempty"`
	MissingIndex      *bool    `json:"missing_index,omitempty"`
	CPUBurn           *string  `json:"cpu_burn,omitempty"`
	Alloc             *int     `json:"alloc,omitempty"`
	DownstreamLatency *string  `json:"downstream_latency,omitempty"`
	Capacity          *int     `json:"capacity,omitempty"`
	CPULimit          *float64 `json:"cpu_limit,omitempty"`
	Leak              *int     `json:"leak,omitempty"`
	ServiceTime       *string  `json:"service_time,omitempty"`
	HotRow            *bool    `json:"hot_row,omitempty"`
	MutexHold         *string  `json:"mutex_hold,omitempty"`
}

func (k Knobs) wire() knobsJSON {
	burn, lat, st, hold := k.CPUBurn.String(), k.DownstreamLatency.String(), k.ServiceTime.String(), k.MutexHold.String()
	return knobsJSON{
		Pool: &k.Pool, NPlusOne: &k.NPlusOne, MissingIndex: &k.MissingIndex,
		CPUBurn: &burn, Alloc: &k.Alloc, DownstreamLatency: &lat, Capacity: &k.Capacity,
		CPULimit: &k.CPULimit, Leak: &k.Leak, ServiceTime: &st, HotRow: &k.HotRow, MutexHold: &hold,
	}
}

// patch returns k with the fields set in w applied.
func (w knobsJSON) patch(k Knobs) (Knobs, error) {
	if w.Pool != nil {
		k.Pool = *w.Pool
	}
	if w.NPlusOne != nil {
		k.NPlusOne = *w.NPlusOne
	}
	if w.MissingIndex != nil {
		k.MissingIndex = *w.MissingIndex
	}
	if w.Alloc != nil {
		k.Alloc = *w.Alloc
	}
	if w.Capacity != nil {
		k.Capacity = *w.Capacity
	}
	if w.Leak != nil {
		k.Leak = *w.Leak
	}
	if w.CPULimit != nil {
		k.CPULimit = *w.CPULimit
	}
	if w.HotRow != nil {
		k.HotRow = *w.HotRow
	}
	var err error
	if w.CPUBurn != nil {
		if k.CPUBurn, err = time.ParseDuration(*w.CPUBurn); err != nil {
			return k, fmt.Errorf("cpu_burn: %q is not a duration (e.g. \"500us\")", *w.CPUBurn)
		}
	}
	if w.ServiceTime != nil {
		if k.ServiceTime, err = time.ParseDuration(*w.ServiceTime); err != nil {
			return k, fmt.Errorf("service_time: %q is not a duration (e.g. \"50ms\")", *w.ServiceTime)
		}
	}
	if w.MutexHold != nil {
		if k.MutexHold, err = time.ParseDuration(*w.MutexHold); err != nil {
			return k, fmt.Errorf("mutex_hold: %q is not a duration (e.g. \"2ms\")", *w.MutexHold)
		}
	}
	if w.DownstreamLatency != nil {
		if k.DownstreamLatency, err = time.ParseDuration(*w.DownstreamLatency); err != nil {
			return k, fmt.Errorf("downstream_latency: %q is not a duration (e.g. \"50ms\")", *w.DownstreamLatency)
		}
	}
	return k, nil
}

// handleKnobs serves GET /admin/knobs (the current knobs) and POST
// /admin/knobs (a partial update; answers the knobs after it).
func (s *Server) handleKnobs(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var in knobsJSON
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		k, err := in.patch(s.Knobs())
		if err == nil {
			err = s.SetKnobs(k)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, s.Knobs().wire())
}
