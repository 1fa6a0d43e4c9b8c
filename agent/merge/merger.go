package merge

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

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
// goroutine while another calls Ready.
type Merger struct {
	opts Options

	mu      sync.Mutex // guards what follows, up to emitMu
	fleets  []fleet    // by from, ascending; fleets[0].from == 0
	next    int64      // the next second to emit
	newest  int64      // the newest second any window was kept for; -1 before any
	pending map[int64]*pending
	seen    map[int64]map[string]uint64 // second → agent → seq kept, for the last keepSeen seconds emitted and all pending
	stats   Stats

	emitMu   sync.Mutex // serialises emission: seconds leave in order, outliers are judged in order
	outliers outliers
}

// fleet is the set of agents expected from second from on.
type fleet struct {
	from   int64
	agents map[string]bool
	sorted []string
}

// pending is a second not yet emitted: the windows kept for it so far.
type pending struct {
	windows map[string]*decoded
}

// decoded is a kept window with its histograms decoded (sparse).
type decoded struct {
	w      Window
	total  *hdrhistogram.PackedHistogram   // nil when it recorded nothing
	byName []*hdrhistogram.PackedHistogram // parallel to w.ByName
}

const (
	defaultGrace = 3 * time.Second
	// keepSeen is how many emitted seconds keep their (agent, seq) record,
	// so a retransmitted window is told from a late one.
	keepSeen = 120
	// maxAhead bounds how far past the next second to emit a window may
	// claim to be, so one bad clock cannot make Flush emit hours of empty
	// seconds.
	maxAhead = 600
	// maxExemplars is how many of the slowest requests a merged window
	// keeps, as the generator does.
	maxExemplars = 5
)

// New returns a Merger for opts, or an error naming the option that is
// missing or wrong.
func New(opts Options) (*Merger, error) {
	if opts.Start.IsZero() {
		return nil, errors.New("merge: start: the agreed start instant is required")
	}
	if opts.Grace < 0 {
		return nil, fmt.Errorf("merge: grace: %v is negative", opts.Grace)
	}
	if opts.Grace == 0 {
		opts.Grace = defaultGrace
	}
	o, err := opts.Outliers.withDefaults()
	if err != nil {
		return nil, err
	}
	opts.Outliers = o
	f, err := newFleet(0, opts.Agents)
	if err != nil {
		return nil, err
	}
	if len(f.sorted) == 0 {
		return nil, errors.New("merge: agents: at least one agent is required")
	}
	return &Merger{
		opts:     opts,
		fleets:   []fleet{f},
		newest:   -1,
		pending:  map[int64]*pending{},
		seen:     map[int64]map[string]uint64{},
		outliers: newOutliers(o),
	}, nil
}

func newFleet(from int64, agents []string) (fleet, error) {
	f := fleet{from: from, agents: make(map[string]bool, len(agents))}
	for i, a := range agents {
		if a == "" {
			return fleet{}, fmt.Errorf("merge: agents[%d]: empty id", i)
		}
		if f.agents[a] {
			return fleet{}, fmt.Errorf("merge: agents[%d]: %q is repeated", i, a)
		}
		f.agents[a] = true
		f.sorted = append(f.sorted, a)
	}
	sort.Strings(f.sorted)
	return f, nil
}

// Add takes one agent's window. It decodes and checks the window before
// keeping it, so a bad window is an error to its sender (wrapping
// ErrInvalid, ErrUnknownAgent or ErrConflict) and never reaches a merged
// second. A window already kept (same agent, second and seq) is a
// Duplicate; one whose second was emitted is Late; both are counted and
// ignored.
func (m *Merger) Add(w Window) (Status, error) {
	d, err := decode(w) // outside the lock: the costly part, per sender
	if err != nil {
		m.count(func(s *Stats) { s.Rejected++ })
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.fleetAt(w.Second).agents[w.Agent] {
		m.stats.Rejected++
		return "", fmt.Errorf("%w: %q is not in the fleet at second %d", ErrUnknownAgent, w.Agent, w.Second)
	}
	if seq, ok := m.seen[w.Second][w.Agent]; ok {
		if seq == w.Seq {
			m.stats.Duplicates++
			return Duplicate, nil
		}
		m.stats.Conflicts++
		return "", fmt.Errorf("%w: agent %q second %d: seq %d, but seq %d was kept for it", ErrConflict, w.Agent, w.Second, w.Seq, seq)
	}
	if w.Second < m.next {
		m.stats.Late++
		return Late, nil
	}
	if w.Second >= m.next+maxAhead {
		m.stats.Rejected++
		return "", fmt.Errorf("%w: agent %q second %d: second: more than %d s ahead of the fleet (at second %d)", ErrInvalid, w.Agent, w.Second, maxAhead, m.next)
	}
	p := m.pending[w.Second]
	if p == nil {
		p = &pending{windows: map[string]*decoded{}}
		m.pending[w.Second] = p
	}
	p.windows[w.Agent] = d
	if m.seen[w.Second] == nil {
		m.seen[w.Second] = map[string]uint64{}
	}
	m.seen[w.Second][w.Agent] = w.Seq
	m.newest = max(m.newest, w.Second)
	m.stats.Accepted++
	return Accepted, nil
}

func (m *Merger) count(f func(*Stats)) {
	m.mu.Lock()
	f(&m.stats)
	m.mu.Unlock()
}

// decode checks w and decodes its histograms.
func decode(w Window) (*decoded, error) {
	if err := w.check(); err != nil {
		return nil, err
	}
	d := &decoded{w: w, byName: make([]*hdrhistogram.PackedHistogram, len(w.ByName))}
	var err error
	if d.total, err = w.Total.histogram(); err != nil {
		return nil, w.errorf("total", err)
	}
	for i, n := range w.ByName {
		if d.byName[i], err = n.histogram(); err != nil {
			return nil, w.errorf("by_name "+n.Name, err)
		}
	}
	return d, nil
}

// fleetAt is the fleet expected at second s; m.mu is held.
func (m *Merger) fleetAt(s int64) fleet {
	f := m.fleets[0]
	for _, g := range m.fleets[1:] {
		if g.from > s {
			break
		}
		f = g
	}
	return f
}

// Ready returns, in order, the seconds that can be emitted at now: every
// second up to the newest one any agent has sent, each once all expected
// agents have sent it or once now is Grace past its end. It stops at the
// first second that is neither, so seconds are always emitted in order.
func (m *Merger) Ready(now time.Time) []Second {
	return m.emit(func(s int64, complete bool) bool {
		return complete || !now.Before(m.deadline(s))
	})
}

// Flush emits every pending second up to the newest one any agent has
// sent, complete or not: call it when the run has ended and no more
// windows are due.
func (m *Merger) Flush() []Second {
	return m.emit(func(int64, bool) bool { return true })
}

// deadline is when second s is emitted whatever is missing.
func (m *Merger) deadline(s int64) time.Time {
	return m.opts.Start.Add(time.Duration(s+1)*time.Second + m.opts.Grace)
}

// emit takes out the seconds due by ready, merges them and judges the
// outliers, in order.
func (m *Merger) emit(ready func(s int64, complete bool) bool) []Second {
	m.emitMu.Lock()
	defer m.emitMu.Unlock()
	type due struct {
		s       int64
		p       *pending
		missing []string
	}
	var todo []due
	m.mu.Lock()
	for m.next <= m.newest {
		s := m.next
		p := m.pending[s]
		if p == nil {
			p = &pending{}
		}
		var missing []string
		for _, a := range m.fleetAt(s).sorted {
			if p.windows[a] == nil {
				missing = append(missing, a)
			}
		}
		if !ready(s, len(missing) == 0) {
			break
		}
		todo = append(todo, due{s, p, missing})
		delete(m.pending, s)
		delete(m.seen, s-keepSeen)
		m.next++
		m.stats.Emitted++
		if len(missing) > 0 {
			m.stats.Short++
		}
	}
	m.mu.Unlock()
	out := make([]Second, 0, len(todo))
	for _, d := range todo {
		sec := m.merge(d.s, d.p)
		sec.Missing = d.missing
		sec.Outliers = m.outliers.judge(d.s, sec.PerAgent)
		out = append(out, sec)
	}
	return out
}

// Expect changes the fleet from second from on: seconds at or after from
// (not yet emitted) wait for agents, seconds before it keep the set they
// had. After an agent is lost at second k, Expect(k+1, rest) stops it
// holding up the seconds that follow while the seconds up to k still list
// it as missing. An error names an empty or repeated id.
func (m *Merger) Expect(from int64, agents []string) error {
	f, err := newFleet(from, agents)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	f.from = max(from, m.next)
	if f.from == 0 {
		m.fleets = []fleet{f}
		return nil
	}
	kept := m.fleets[:0]
	for _, g := range m.fleets {
		if g.from < f.from {
			kept = append(kept, g)
		}
	}
	m.fleets = append(kept, f)
	return nil
}

// Outliers returns the agents flagged now, with their figures.
func (m *Merger) Outliers() []Outlier {
	m.emitMu.Lock()
	defer m.emitMu.Unlock()
	return m.outliers.flagged()
}

// Stats returns what the Merger has done so far.
func (m *Merger) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}
