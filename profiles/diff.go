package profiles

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Func is one function's part of a profile, in the profile's unit
// (nanoseconds of CPU or delay, bytes).
type Func struct {
	Name string
	// Flat is what was spent in the function itself (it is the leaf).
	Flat float64
	// Cum is what was spent in it and in everything it called.
	Cum float64
	// Own is Flat plus what the standard library spent on its behalf: each
	// sample is charged to its innermost frame outside the standard
	// library (crypto/sha256 hashing called by shop.burnCPU is burnCPU's).
	// It is the figure the findings rank by: it names code the service's
	// owners can change.
	Own float64
	// Under is the caller most of Own came through (the next frame out of
	// the standard library above it), Mostly the leaf most of Own was spent
	// in when that is not the function itself.
	Under, Mostly string

	under, mostly map[string]float64
}

// Summary is one profile reduced to functions.
type Summary struct {
	Kind Kind
	// SampleType and Unit name the value summed (e.g. cpu, nanoseconds).
	SampleType, Unit string
	// Total is the sum over the samples of the service's own work.
	Total float64
	// Profiler is the sum over the samples of the profiler itself (a stack
	// through runtime/pprof or net/http/pprof: writing, compressing and
	// serving the profiles Headroom fetches), left out of Total and Funcs so
	// that no finding blames the measurement.
	Profiler float64
	// Requests is how many requests the span served (0: unknown).
	Requests float64
	// Span is the profile's duration (0: unknown).
	Span  time.Duration
	Funcs map[string]*Func
}

// sampleType is the value a kind's findings are about.
func sampleType(k Kind) string {
	switch k {
	case CPU:
		return "cpu"
	case Allocs:
		return "alloc_space"
	case Heap:
		return "inuse_space"
	case Mutex, Block:
		return "delay"
	}
	return ""
}

// Summarize reduces p, a kind profile of a span that served requests
// requests (0 if unknown), to its functions.
func Summarize(p *profile.Profile, kind Kind, requests float64) (*Summary, error) {
	if p == nil {
		return nil, fmt.Errorf("profiles: no %s profile", kind)
	}
	idx, err := valueIndex(p, kind)
	if err != nil {
		return nil, err
	}
	s := &Summary{Kind: kind, SampleType: p.SampleType[idx].Type, Unit: p.SampleType[idx].Unit,
		Requests: math.Max(requests, 0), Span: time.Duration(p.DurationNanos), Funcs: map[string]*Func{}}
	get := func(name string) *Func {
		f := s.Funcs[name]
		if f == nil {
			f = &Func{Name: name, under: map[string]float64{}, mostly: map[string]float64{}}
			s.Funcs[name] = f
		}
		return f
	}
	var stack []string
	seen := map[string]bool{}
	for _, smp := range p.Sample {
		if idx >= len(smp.Value) {
			continue
		}
		v := float64(smp.Value[idx])
		if v == 0 {
			continue
		}
		s.Total += v
		stack = frames(smp, stack[:0])
		if len(stack) == 0 {
			continue
		}
		if profilerStack(stack) {
			s.Total -= v
			s.Profiler += v
			continue
		}
		get(stack[0]).Flat += v
		clear(seen)
		for _, name := range stack {
			if !seen[name] {
				seen[name] = true
				get(name).Cum += v
			}
		}
		own := 0
		for own < len(stack) && isStdlib(stack[own]) {
			own++
		}
		if own == len(stack) {
			own = 0
		}
		f := get(stack[own])
		f.Own += v
		f.mostly[stack[0]] += v
		under := ""
		for i := own + 1; i < len(stack); i++ {
			if stack[i] != stack[own] && !isStdlib(stack[i]) {
				under = stack[i]
				break
			}
		}
		if under == "" {
			for i := own + 1; i < len(stack); i++ {
				if stack[i] != stack[own] {
					under = stack[i]
					break
				}
			}
		}
		if under != "" {
			f.under[under] += v
		}
	}
	for _, f := range s.Funcs {
		f.Under = argmax(f.under)
		if m := argmax(f.mostly); m != f.Name {
			f.Mostly = m
		}
	}
	return s, nil
}

// profilerStack reports whether a stack is the profiler's own work: a
// frame of runtime/pprof (recording, encoding, the gzip writer it opens)
// or of net/http/pprof (serving the profile).
func profilerStack(stack []string) bool {
	for _, name := range stack {
		if strings.HasPrefix(name, "runtime/pprof.") || strings.HasPrefix(name, "net/http/pprof.") {
			return true
		}
	}
	return false
}

func argmax(m map[string]float64) string {
	best, bv := "", 0.0
	for k, v := range m {
		if v > bv || (v == bv && k < best) {
			best, bv = k, v
		}
	}
	return best
}

// isStdlib reports whether a function name belongs to the Go standard
// library (or the runtime): its package path's first element has no dot
// and it is not package main. A name with no package (an unsymbolized
// address) counts as the standard library: it is charged to its caller.
func isStdlib(name string) bool {
	pkg := packageOf(name)
	if pkg == "" || pkg == "main" {
		return pkg == ""
	}
	first, _, _ := strings.Cut(pkg, "/")
	return !strings.Contains(first, ".")
}

// packageOf is the package path of a function name such as
// github.com/a/b.(*T).m (github.com/a/b) or runtime.mallocgc (runtime).
func packageOf(name string) string {
	slash := strings.LastIndex(name, "/")
	dot := strings.Index(name[slash+1:], ".")
	if dot < 0 {
		return ""
	}
	return name[:slash+1+dot]
}

// Short drops a function name's package path but its last element:
// github.com/x/demo/shop.burnCPU → shop.burnCPU.
func Short(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 && i < len(name)-1 {
		return name[i+1:]
	}
	return name
}

// Row is one function compared between the baseline and a degraded step.
type Row struct {
	Name string
	// Shares of the profile's total (0..1), in the baseline and degraded.
	BaseOwn, Own, BaseFlat, Flat, BaseCum, Cum float64
	// Points is the change of the Own share, in percentage points.
	Points float64
	// Rise is the change of the Own rate (the profile's unit per second of
	// its span; for CPU, nanoseconds a second: cores × 1e9). When a span is
	// unknown, the rate is the value itself.
	Rise float64
	// PerRequest is the degraded step's Own value per request, in the
	// profile's unit (NaN when the request count is unknown).
	PerRequest    float64
	Under, Mostly string
}

// Diff compares two summaries of the same kind.
type Diff struct {
	Kind Kind
	Unit string
	// HasBaseline is false when the degraded step is shown alone.
	HasBaseline bool
	// Rows, the largest Rise first: what the added load spent its added
	// CPU (bytes, waits) on. A share that rose most is not always that: at
	// a low baseline the runtime's own background work has a large share
	// that falls as requests grow, so shares are shown, rates rank.
	Rows []Row
}

// Compare compares a degraded step's summary with the baseline's (base may
// be nil: then points are against zero and HasBaseline is false).
func Compare(base, degraded *Summary) (Diff, error) {
	if degraded == nil {
		return Diff{}, fmt.Errorf("profiles: no degraded profile to compare")
	}
	if base != nil && (base.Kind != degraded.Kind || base.SampleType != degraded.SampleType) {
		return Diff{}, fmt.Errorf("profiles: cannot compare a %s (%s) profile with a %s (%s) one",
			base.Kind, base.SampleType, degraded.Kind, degraded.SampleType)
	}
	d := Diff{Kind: degraded.Kind, Unit: degraded.Unit, HasBaseline: base != nil}
	share := func(v, total float64) float64 {
		if total <= 0 {
			return 0
		}
		return v / total
	}
	names := map[string]bool{}
	for n := range degraded.Funcs {
		names[n] = true
	}
	if base != nil {
		for n := range base.Funcs {
			names[n] = true
		}
	}
	for n := range names {
		r := Row{Name: n, PerRequest: math.NaN()}
		if f := degraded.Funcs[n]; f != nil {
			r.Own, r.Flat, r.Cum = share(f.Own, degraded.Total), share(f.Flat, degraded.Total), share(f.Cum, degraded.Total)
			r.Under, r.Mostly = f.Under, f.Mostly
			if degraded.Requests > 0 {
				r.PerRequest = f.Own / degraded.Requests
			}
		}
		if base != nil {
			if f := base.Funcs[n]; f != nil {
				r.BaseOwn, r.BaseFlat, r.BaseCum = share(f.Own, base.Total), share(f.Flat, base.Total), share(f.Cum, base.Total)
			}
		}
		r.Points = 100 * (r.Own - r.BaseOwn)
		if f := degraded.Funcs[n]; f != nil {
			r.Rise = degraded.rate(f.Own)
		}
		if base != nil {
			if f := base.Funcs[n]; f != nil {
				r.Rise -= base.rate(f.Own)
			}
		}
		if r.Own == 0 && r.BaseOwn == 0 {
			continue // only ever a caller: its cost is in the rows below it
		}
		d.Rows = append(d.Rows, r)
	}
	sort.Slice(d.Rows, func(i, j int) bool {
		a, b := d.Rows[i], d.Rows[j]
		if a.Rise != b.Rise {
			return a.Rise > b.Rise
		}
		if a.Own != b.Own {
			return a.Own > b.Own
		}
		return a.Name < b.Name
	})
	return d, nil
}

// Top is the first n rows whose rate rose (all rows when nothing rose,
// the largest share first, so a step alone still names its top functions).
func (d Diff) Top(n int) []Row {
	var out []Row
	for _, r := range d.Rows {
		if len(out) == n {
			break
		}
		if r.Rise > 0 {
			out = append(out, r)
		}
	}
	if len(out) > 0 {
		return out
	}
	rows := append([]Row(nil), d.Rows...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Own > rows[j].Own })
	if len(rows) > n {
		rows = rows[:n]
	}
	return rows
}

// rate is v per second of the summary's span (v when the span is unknown).
func (s *Summary) rate(v float64) float64 {
	if s.Span <= 0 {
		return v
	}
	return v / s.Span.Seconds()
}
