package merge

import (
	"errors"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/generator"
)

// Options configure a Merger. The zero value of every field but Agents and
// Start is a documented default.
type Options struct {
	// Agents are the ids of the agents expected to send every second.
	// Required; Expect changes the set later.
	Agents []string
	// Start is the agreed start instant: second k covers
	// [Start + k s, Start + (k+1) s) on the agreed clock. Required.
	Start time.Time
	// Grace is how long after a second's end (Start + (k+1) s) the Merger
	// waits for missing agents before it emits the second short. Zero
	// means 3 s.
	Grace time.Duration
	// Outliers set when an agent is flagged as departing from the fleet.
	Outliers OutlierOptions
}

// Status says what Add did with a window.
type Status string

// What Add can do with a window.
const (
	Accepted  Status = "accepted"  // kept for its second
	Duplicate Status = "duplicate" // the same (agent, second, seq) was already kept: ignored
	Late      Status = "late"      // its second was already emitted: ignored (the second lists the agent as missing)
)

// Errors Add returns besides ErrInvalid.
var (
	// ErrUnknownAgent: the window's agent is not among the expected ones.
	ErrUnknownAgent = errors.New("unknown agent")
	// ErrConflict: the agent already sent a different window (another seq)
	// for the same second; the first one is kept.
	ErrConflict = errors.New("conflicting window")
)

// Second is one merged second of the fleet.
type Second struct {
	// Index is the second's index on the agreed clock.
	Index int64
	// Second is the fleet's second: counts summed over agents, histograms
	// merged exactly (Hist fields set, owned by the caller), latency
	// statistics recomputed from the merged histograms, the slowest
	// exemplars across agents. Start is Options.Start + Index s.
	generator.Second
	// Agents are the agents whose windows were merged, sorted.
	Agents []string
	// Missing are the expected agents that sent nothing for this second
	// before its deadline, sorted; the second is short when it has any.
	Missing []string
	// PerAgent are the agents' own windows, in the order of Agents, with
	// each agent's overall latency computed from its own histogram.
	PerAgent []AgentSecond
	// Outliers are the agents flagged, at this second, as departing from
	// the rest of the fleet.
	Outliers []Outlier
}

// Short reports whether some expected agent is missing from the second.
func (s Second) Short() bool { return len(s.Missing) > 0 }

// AgentSecond is one agent's window as it was merged.
type AgentSecond struct {
	Window  Window
	Latency generator.Latency // of the agent's overall histogram, ms
}

// Stats count what a Merger did with the windows it was given.
type Stats struct {
	Accepted   int64 // windows kept
	Duplicates int64 // ignored: same (agent, second, seq) seen before
	Late       int64 // ignored: their second had been emitted
	Conflicts  int64 // rejected: another seq for an (agent, second) already kept
	Rejected   int64 // rejected: invalid or from an unknown agent
	Emitted    int64 // merged seconds handed out
	Short      int64 // of which short of some agent
}

// Merger merges the windows of a fleet of agents for one job. It is safe
// for concurrent use: each agent's stream may call Add from its own
// goroutine.
type Merger struct {
	mu   sync.Mutex
	opts Options
}

// New returns a Merger for opts, or an error naming the option that is
// missing or wrong.
func New(opts Options) (*Merger, error) {
	return &Merger{opts: opts}, errors.New("not implemented yet")
}

// Add takes one agent's window. It decodes and checks the window before
// keeping it, so a bad window is an error to its sender (wrapping
// ErrInvalid, ErrUnknownAgent or ErrConflict) and never reaches a merged
// second. A window already kept (same agent, second and seq) is a
// Duplicate; one whose second was emitted is Late; both are counted and
// ignored.
func (m *Merger) Add(w Window) (Status, error) {
	return "", errors.New("not implemented yet")
}

// Ready returns, in order, the seconds that can be emitted at now: every
// second up to the newest one any agent has sent, each once all expected
// agents have sent it or once now is Grace past its end. It stops at the
// first second that is neither, so seconds are always emitted in order.
func (m *Merger) Ready(now time.Time) []Second {
	return nil
}

// Flush emits every pending second up to the newest one any agent has
// sent, complete or not: call it when the run has ended and no more
// windows are due.
func (m *Merger) Flush() []Second {
	return nil
}

// Expect changes the fleet from second from on: seconds at or after from
// (not yet emitted) wait for agents, seconds before it keep the set they
// had. After an agent is lost at second k, Expect(k+1, rest) stops it
// holding up the seconds that follow while the seconds up to k still list
// it as missing. An error names an empty or repeated id.
func (m *Merger) Expect(from int64, agents []string) error { return nil }

// Outliers returns the agents flagged now, with their figures.
func (m *Merger) Outliers() []Outlier { return nil }

// Stats returns what the Merger has done so far.
func (m *Merger) Stats() Stats { return Stats{} }
