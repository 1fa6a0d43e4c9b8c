package correlate

// Names of the catalog's signals (observe.signals keys), as Reading.Signal
// and Signal.Name carry them.
const (
	SignalCPU          = "cpu_usage"
	SignalThrottling   = "cpu_throttling"
	SignalMemory       = "memory"
	SignalGC           = "gc_pause"
	SignalPoolWait     = "pool_wait"
	SignalPoolInUse    = "pool_in_use"
	SignalGoroutines   = "goroutines"
	SignalOpenFDs      = "open_fds"
	SignalHTTPInFlight = "http_in_flight"
)

// The kinds of finding a catalog signal gives: the signal's name.
const (
	KindCPU        FindingKind = SignalCPU
	KindThrottling FindingKind = SignalThrottling
	KindMemory     FindingKind = SignalMemory
	KindGC         FindingKind = SignalGC
	KindPoolWait   FindingKind = SignalPoolWait
	KindPoolInUse  FindingKind = SignalPoolInUse
	KindOpenFDs    FindingKind = SignalOpenFDs
)

// Resources a finding blames (Signal.Resource).
const (
	ResourceCPU    = "cpu"
	ResourceQuota  = "cpu_limit"
	ResourceMemory = "memory"
	ResourceGC     = "gc"
	ResourcePool   = "pool"
	ResourceFDs    = "fds"
	ResourceCustom = "custom"
)

// Names of the values read alongside a signal (Aux.Name, Reading.Context keys).
const (
	AuxLimit            = "limit"
	AuxGOMAXPROCS       = "gomaxprocs"
	AuxSchedP99         = "sched_p99"
	AuxThrottledSeconds = "throttled_seconds"
	AuxQuota            = "quota"
	AuxPeriod           = "period"
	AuxUsage            = "usage"
	AuxHeap             = "heap"
	AuxGCCores          = "gc_cores"
	AuxGCCPU            = "gc_cpu"
	AuxPauseP99         = "pause_p99"
	AuxGOMEMLIMIT       = "gomemlimit"
	AuxCycles           = "cycles"
	AuxPauseMax         = "pause_max"
	AuxAllocRate        = "alloc_rate"
	AuxGOGC             = "gogc"
	AuxWaits            = "waits"
	AuxPending          = "pending"
	AuxInUse            = "in_use"
	AuxMax              = "max"
	AuxThreads          = "threads"
)
