package merge

// Stat is the latency statistic an outlier is judged on.
type Stat string

// The statistics an agent can be compared with the fleet on.
const (
	P99 Stat = "p99"
	P50 Stat = "p50"
)

// OutlierOptions set when an agent is flagged as departing from the fleet
// (a noisy neighbour on its host, or a bad agent). An agent is flagged
// when, for Seconds consecutive seconds, its Stat is Factor times above,
// or 1/Factor below, the median of the same statistic over the other
// agents; only agents with at least MinRequests in the second count, and
// at least two such agents must be present. It is unflagged after
// Seconds consecutive seconds within the factor.
type OutlierOptions struct {
	Stat        Stat    // zero means P99
	Factor      float64 // zero means 2; must be above 1
	Seconds     int     // zero means 3
	MinRequests int64   // zero means 20
}

// Outlier is one agent flagged as departing from the fleet, with the
// figures that flagged it.
type Outlier struct {
	Agent   string  `json:"agent"`
	Stat    Stat    `json:"stat"`     // the statistic compared
	AgentMs float64 `json:"agent_ms"` // the agent's value at the latest second
	FleetMs float64 `json:"fleet_ms"` // the median of the other agents' values at that second
	Ratio   float64 `json:"ratio"`    // AgentMs / FleetMs
	Since   int64   `json:"since"`    // the first second of the run of departing seconds
	Seconds int     `json:"seconds"`  // how many consecutive seconds it has departed
}
