package soak

// Verdict is what a signal's trend says.
type Verdict string

// The verdicts.
const (
	// Leak: the signal grows over the soak, the whole 95% interval of its
	// slope above zero, by more than its materiality threshold.
	Leak Verdict = "leak"
	// Flat: no material growth (it may fall, or wobble).
	Flat Verdict = "flat"
	// NotAvailable: too few samples, or the query failed; Note says why.
	NotAvailable Verdict = "not available"
)

// The signal names, as run.json and observe.signals spell them.
const (
	Memory         = "memory"          // resident memory of the service, bytes
	Heap           = "heap"            // live heap after the last GC, bytes
	Goroutines     = "goroutines"      // goroutines (or threads)
	OpenFiles      = "open_files"      // open file descriptors
	PoolInUse      = "pool_in_use"     // pooled connections in use
	P99            = "p99"             // 99th percentile latency the generator measured, ms
	ErrorRate      = "error_rate"      // errors ÷ requests the generator measured
	HeadroomMemory = "headroom_memory" // Headroom's own memory (Go runtime's mapped, not released), bytes
	HeadroomHeap   = "headroom_heap"   // Headroom's own live heap, bytes
)

// def is a signal's definition: where its values come from and how much
// growth over a soak counts.
type def struct {
	name, title, unit string
	queries           []string // Prometheus alternatives, the first with data wins; none: measured by Headroom
	limits            []string // queries for the limit it would reach, the first with data wins
	floor             float64  // growth over the soak below this is never material (in unit)
	relative          float64  // nor below this share of the signal's median level
	// changes keeps only the samples where the value changed: a value
	// that is only updated now and then (the live heap, at each GC) is
	// fitted at the times it was measured, not as a lagging staircase.
	changes bool
	// resource: a leak of it is a leak of the service (the soak's verdict);
	// latency, errors and Headroom's own memory are reported beside it.
	resource bool
}

// catalog is the default signals read from Prometheus.
func catalog() []def {
	return []def{
		{name: Memory, title: "resident memory", unit: "bytes", floor: 1 << 20, relative: 0.05, resource: true,
			queries: []string{`sum(process_resident_memory_bytes)`, `sum(container_memory_working_set_bytes{container!=""})`},
			limits:  []string{`sum(container_spec_memory_limit_bytes{container!=""}) > 0`, `min(go_gc_gomemlimit_bytes) < 9e18`}},
		{name: Heap, title: "live heap", unit: "bytes", floor: 1 << 20, relative: 0.05, resource: true, changes: true,
			queries: []string{`sum(go_gc_heap_live_bytes)`, `sum(go_memstats_heap_inuse_bytes)`, `sum(jvm_memory_used_bytes{area="heap"})`},
			limits:  []string{`min(go_gc_gomemlimit_bytes) < 9e18`, `sum(jvm_memory_max_bytes{area="heap"}) > 0`}},
		{name: Goroutines, title: "goroutines or threads", unit: "count", floor: 5, relative: 0.05, resource: true,
			queries: []string{`sum(go_goroutines)`, `sum(jvm_threads_live_threads)`}},
		{name: OpenFiles, title: "open file descriptors", unit: "count", floor: 3, relative: 0.05, resource: true,
			queries: []string{`sum(process_open_fds)`},
			limits:  []string{`min(process_max_fds)`}},
		{name: PoolInUse, title: "pooled connections in use", unit: "count", floor: 1, relative: 0.1, resource: true,
			queries: []string{`sum(go_sql_in_use_connections)`, `sum(hikaricp_connections_active)`, `sum(pgbouncer_pools_server_active_connections)`},
			limits:  []string{`sum(go_sql_max_open_connections) > 0`, `sum(hikaricp_connections_max)`}},
	}
}

// measured are the signals Headroom measures itself.
var (
	p99Def       = def{name: P99, title: "p99 latency", unit: "ms", floor: 2, relative: 0.1}
	errorRateDef = def{name: ErrorRate, title: "error rate", unit: "ratio", floor: 0.002, relative: 0.1}
	selfMemDef   = def{name: HeadroomMemory, title: "Headroom's own memory", unit: "bytes", floor: 4 << 20, relative: 0.05}
	selfHeapDef  = def{name: HeadroomHeap, title: "Headroom's own live heap", unit: "bytes", floor: 4 << 20, relative: 0.05}
)
