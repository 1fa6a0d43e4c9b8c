package derive

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Limits that keep the analysis' memory flat whatever the log's length.
const (
	MaxRoutes       = 2000   // distinct routes; more are counted in Profile.OtherRoutes
	MaxJourneySteps = 16     // a session's path is cut here for its journey
	maxJourneyKinds = 20000  // distinct journey paths kept; rare ones are pruned beyond
	maxQueryNames   = 16     // query parameters tracked per route
	secondsKept     = 300    // per-second counts kept behind the newest second (lines come nearly in order)
	maxThinkMillis  = 3600e3 // think times are recorded up to an hour
)

// Analyzer accumulates requests into a Profile. It is not safe for
// concurrent use; Add records one request, Profile closes the open
// sessions and summarises.
type Analyzer struct {
	gap time.Duration

	requests, other int64
	noRoute         int64 // well-formed lines whose request names no route
	first, last     time.Time
	routes          []*routeStat
	routeIndex      map[string]int32 // "METHOD template" → index
	keyBuf          []byte

	sessions      map[string]*session
	swept         time.Time
	journeys      map[string]int64 // encoded route indexes → sessions
	otherJourneys int64
	nSessions     int64
	sessReqs      int64
	sessSeconds   float64
	think         *hdrhistogram.Histogram

	seconds     map[int64]int64
	peakSec     int64
	peakSecAt   int64
	minutes     map[int64]int64
	maxSecond   int64
	firstSecond int64
}

type routeStat struct {
	method, template string
	count            int64
	statuses         map[int]int64
	think            *hdrhistogram.Histogram
	params           []Param
	query            []*Query
	example          string
}

type session struct {
	start, last time.Time
	path        []int32
	n           int64
}

// NewAnalyzer returns an empty Analyzer; a pause longer than gap between
// two requests of one client starts a new session (30 minutes when zero).
func NewAnalyzer(gap time.Duration) *Analyzer {
	if gap <= 0 {
		gap = 30 * time.Minute
	}
	return &Analyzer{
		gap:        gap,
		routeIndex: map[string]int32{},
		sessions:   map[string]*session{},
		journeys:   map[string]int64{},
		think:      newThinkHist(),
		seconds:    map[int64]int64{},
		minutes:    map[int64]int64{},
	}
}

func newThinkHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, maxThinkMillis, 2) }

// Add records one request.
func (a *Analyzer) Add(r *Record) {
	a.requests++
	if a.first.IsZero() || r.Time.Before(a.first) {
		a.first = r.Time
	}
	if r.Time.After(a.last) {
		a.last = r.Time
	}
	a.countRate(r.Time)
	idx := a.route(r)
	a.track(r, idx)
	if a.last.Sub(a.swept) >= a.gap {
		a.sweep(a.last)
	}
}

// route finds or adds r's route and counts r in it; -1 beyond MaxRoutes.
func (a *Analyzer) route(r *Record) int32 {
	a.keyBuf = append(append(a.keyBuf[:0], r.Method...), ' ')
	a.keyBuf = appendTemplate(a.keyBuf, r.Path)
	idx, ok := a.routeIndex[string(a.keyBuf)]
	if !ok {
		if len(a.routes) >= MaxRoutes {
			a.other++
			return -1
		}
		idx = int32(len(a.routes))
		key := string(a.keyBuf)
		a.routeIndex[key] = idx
		rs := &routeStat{method: r.Method, template: key[len(r.Method)+1:], statuses: map[int]int64{}, think: newThinkHist()}
		path := string(r.Path)
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			path = path[:i]
		}
		rs.example = path
		a.routes = append(a.routes, rs)
	}
	rs := a.routes[idx]
	rs.count++
	rs.statuses[r.Status]++
	rs.observe(r.Path)
	return idx
}

// observe records the values of rs's placeholders and query parameters;
// it allocates only for what it has not seen before.
func (rs *routeStat) observe(path []byte) {
	var query []byte
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path, query = path[:i], path[i+1:]
	}
	if i := bytes.IndexByte(query, '#'); i >= 0 {
		query = query[:i]
	}
	k := 0
	for rest := path; ; {
		var seg []byte
		i := bytes.IndexByte(rest, '/')
		if i < 0 {
			seg = rest
		} else {
			seg, rest = rest[:i], rest[i+1:]
		}
		if kind := segmentKind(seg); kind != "" {
			if k == len(rs.params) {
				rs.params = append(rs.params, Param{Kind: kind, Min: math.MaxInt64, Max: math.MinInt64, Example: string(seg)})
			}
			if kind == ParamID {
				if n, ok := parseInt(seg); ok {
					pr := &rs.params[k]
					pr.Min, pr.Max = min(pr.Min, n), max(pr.Max, n)
				}
			}
			k++
		}
		if i < 0 {
			break
		}
	}
	for len(query) > 0 {
		var kv []byte
		if i := bytes.IndexByte(query, '&'); i >= 0 {
			kv, query = query[:i], query[i+1:]
		} else {
			kv, query = query, nil
		}
		name, val := kv, []byte(nil)
		if i := bytes.IndexByte(kv, '='); i >= 0 {
			name, val = kv[:i], kv[i+1:]
		}
		if len(name) == 0 {
			continue
		}
		var q *Query
		for _, x := range rs.query {
			if x.Name == string(name) {
				q = x
				break
			}
		}
		if q == nil {
			if len(rs.query) >= maxQueryNames {
				continue
			}
			q = &Query{Name: string(name), Numeric: true, Min: math.MaxInt64, Max: math.MinInt64, Example: string(val)}
			rs.query = append(rs.query, q)
		}
		q.Count++
		if q.Numeric {
			if n, ok := parseInt(val); ok {
				q.Min, q.Max = min(q.Min, n), max(q.Max, n)
			} else {
				q.Numeric = false
			}
		}
	}
}

// parseInt reads a decimal number of at most 18 digits.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// track adds r to its client's session, closing the session first when
// the client paused longer than the gap.
func (a *Analyzer) track(r *Record, idx int32) {
	a.keyBuf = a.keyBuf[:0]
	if len(r.Session) > 0 {
		a.keyBuf = append(append(a.keyBuf, 's', 0), r.Session...)
	} else {
		a.keyBuf = append(append(append(append(a.keyBuf, 'a', 0), r.Addr...), 0), r.Agent...)
	}
	s, ok := a.sessions[string(a.keyBuf)]
	if ok && r.Time.Sub(s.last) > a.gap {
		a.closeSession(s)
		ok = false
	}
	if !ok {
		s = &session{start: r.Time, last: r.Time}
		a.sessions[string(a.keyBuf)] = s
	} else {
		pause := r.Time.Sub(s.last)
		if pause < 0 {
			pause = 0 // a line logged out of order
		}
		ms := max(pause.Milliseconds(), 1)
		if ms <= maxThinkMillis {
			_ = a.think.RecordValue(ms)
			if prev := s.path[len(s.path)-1]; prev >= 0 && len(s.path) < MaxJourneySteps {
				_ = a.routes[prev].think.RecordValue(ms)
			}
		}
		if r.Time.After(s.last) {
			s.last = r.Time
		}
	}
	s.n++
	if len(s.path) < MaxJourneySteps {
		s.path = append(s.path, idx)
	}
}

// sweep closes the sessions idle for longer than the gap at now.
func (a *Analyzer) sweep(now time.Time) {
	a.swept = now
	for k, s := range a.sessions {
		if now.Sub(s.last) > a.gap {
			a.closeSession(s)
			delete(a.sessions, k)
		}
	}
}

func (a *Analyzer) closeSession(s *session) {
	a.nSessions++
	a.sessReqs += s.n
	a.sessSeconds += s.last.Sub(s.start).Seconds()
	key := make([]byte, 0, 4*len(s.path))
	for _, idx := range s.path {
		key = binary.LittleEndian.AppendUint32(key, uint32(idx))
	}
	if _, ok := a.journeys[string(key)]; !ok && len(a.journeys) >= maxJourneyKinds {
		a.pruneJourneys()
	}
	a.journeys[string(key)]++
}

// pruneJourneys drops the journey paths seen least, counting their
// sessions in otherJourneys, until half the table is free.
func (a *Analyzer) pruneJourneys() {
	counts := make([]int64, 0, len(a.journeys))
	for _, c := range a.journeys {
		counts = append(counts, c)
	}
	sort.Slice(counts, func(i, j int) bool { return counts[i] > counts[j] })
	cut := counts[len(counts)/2]
	for k, c := range a.journeys {
		if c <= cut {
			a.otherJourneys += c
			delete(a.journeys, k)
		}
	}
}

// countRate counts t's second and minute; seconds far behind the newest
// are folded into the peak and forgotten.
func (a *Analyzer) countRate(t time.Time) {
	sec := t.Unix()
	a.seconds[sec]++
	a.minutes[sec/60]++
	if a.requests == 1 {
		a.firstSecond, a.maxSecond = sec, sec
	}
	if sec > a.maxSecond {
		a.maxSecond = sec
		if len(a.seconds) > 2*secondsKept {
			a.foldSeconds(a.maxSecond - secondsKept)
		}
	}
}

func (a *Analyzer) foldSeconds(before int64) {
	for s, c := range a.seconds {
		if s < before {
			a.notePeak(s, c)
			delete(a.seconds, s)
		}
	}
}

func (a *Analyzer) notePeak(s, c int64) {
	if c > a.peakSec || (c == a.peakSec && s < a.peakSecAt) {
		a.peakSec, a.peakSecAt = c, s
	}
}
