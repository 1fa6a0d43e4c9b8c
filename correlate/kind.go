package correlate

// FindingKind says what a finding blames: a signal of the catalog, by its
// name (cpu_usage, pool_wait, gc_pause, … or a plan's own signal), or one
// of the trace patterns below.
type FindingKind string

// The kinds of finding that come from traces rather than a signal.
const (
	KindNPlusOne    FindingKind = "n_plus_one"   // one request repeats the same query or call
	KindSlowQuery   FindingKind = "slow_query"   // a database span added the latency
	KindSlowSpan    FindingKind = "slow_span"    // another span added the latency
	KindSerialCalls FindingKind = "serial_calls" // calls that could run in parallel run one after another
	KindUnexplained FindingKind = "unexplained"  // no signal or span explains the added latency
)
