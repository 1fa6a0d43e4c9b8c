package derive

import (
	"encoding/binary"
	"math"
	"sort"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Profile closes every open session and summarises what was added. The
// Analyzer should not be used afterwards.
func (a *Analyzer) Profile() *Profile {
	for k, s := range a.sessions {
		a.closeSession(s)
		delete(a.sessions, k)
	}
	p := &Profile{
		Requests: a.requests, First: a.first, Last: a.last,
		Sessions: a.nSessions, SessionRequests: a.sessReqs, SessionSeconds: a.sessSeconds,
		Think: dist(a.think), OtherRoutes: a.other, OtherJourneys: a.otherJourneys, NoRoute: a.noRoute,
	}
	for _, rs := range a.routes {
		r := Route{Method: rs.method, Template: rs.template, Count: rs.count, Statuses: rs.statuses,
			Think: dist(rs.think), Params: rs.params, Example: rs.example}
		for _, q := range rs.query {
			r.Query = append(r.Query, *q)
		}
		sort.SliceStable(r.Query, func(i, j int) bool { return r.Query[i].Count > r.Query[j].Count })
		p.Routes = append(p.Routes, r)
	}
	for key, c := range a.journeys {
		j := Journey{Count: c}
		for i := 0; i+4 <= len(key); i += 4 {
			idx := int32(binary.LittleEndian.Uint32([]byte(key[i : i+4])))
			if idx < 0 {
				j.Steps = append(j.Steps, "OTHER")
				continue
			}
			j.Steps = append(j.Steps, a.routes[idx].method+" "+a.routes[idx].template)
		}
		p.Journeys = append(p.Journeys, j)
	}
	sort.SliceStable(p.Routes, func(i, j int) bool {
		if p.Routes[i].Count != p.Routes[j].Count {
			return p.Routes[i].Count > p.Routes[j].Count
		}
		return p.Routes[i].Key() < p.Routes[j].Key()
	})
	sort.Slice(p.Journeys, func(i, j int) bool {
		if p.Journeys[i].Count != p.Journeys[j].Count {
			return p.Journeys[i].Count > p.Journeys[j].Count
		}
		return joinSteps(p.Journeys[i].Steps) < joinSteps(p.Journeys[j].Steps)
	})
	p.Rates = a.rates()
	if span := p.Span().Seconds(); span > 0 {
		p.Rates.SessionsPerSecond = float64(p.Sessions) / span
	}
	return p
}

func (a *Analyzer) rates() Rates {
	var r Rates
	if a.requests == 0 {
		return r
	}
	a.foldSeconds(math.MaxInt64)
	r.PeakSecond = float64(a.peakSec)
	r.PeakAt = time.Unix(a.peakSecAt, 0).UTC()
	span := a.last.Sub(a.first).Seconds()
	if span < 1 {
		span = 1
	}
	r.Mean = float64(a.requests) / span
	firstSec, lastSec := a.first.Unix(), a.last.Unix()+1 // [firstSec, lastSec) holds the span
	firstMin, lastMin := firstSec/60, (lastSec-1)/60
	var per []float64
	for m := firstMin; m <= lastMin; m++ {
		c := a.minutes[m]
		// a partial first or last minute counts for the seconds it covers,
		// when it covers half a minute (or the whole log is shorter)
		covered := min(lastSec, m*60+60) - max(firstSec, m*60)
		if covered >= 30 {
			if rps := float64(c) / float64(covered); rps > r.PeakMinute {
				r.PeakMinute, r.PeakMinAt = rps, time.Unix(m*60, 0).UTC()
			}
		}
		if covered == 60 {
			per = append(per, float64(c)/60)
		}
	}
	if r.PeakMinute == 0 { // shorter than a minute: the span's own rate
		r.PeakMinute, r.PeakMinAt = r.Mean, a.first.Truncate(time.Minute).UTC()
	}
	if len(per) == 0 { // no whole minute: the span's own rate
		per = append(per, r.Mean)
	}
	sort.Float64s(per)
	r.Minutes = len(per)
	r.P50, r.P90, r.P95, r.P99 = quantile(per, 0.5), quantile(per, 0.9), quantile(per, 0.95), quantile(per, 0.99)
	return r
}

// quantile is the nearest-rank quantile of sorted xs; 0 for none.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

func dist(h *hdrhistogram.Histogram) Dist {
	total := h.TotalCount()
	if total == 0 {
		return Dist{}
	}
	bars := h.Distribution()
	// at returns the lowest value of the bucket holding quantile q, so that
	// 2,000 ms recorded reads 2 s, not the bucket's top 2.01 s.
	at := func(q float64) time.Duration {
		rank := int64(math.Ceil(q * float64(total)))
		var seen int64
		for _, b := range bars {
			seen += b.Count
			if b.Count > 0 && seen >= rank {
				return time.Duration(b.From) * time.Millisecond
			}
		}
		return time.Duration(h.Max()) * time.Millisecond
	}
	return Dist{
		Count: total,
		P10:   at(0.10), P25: at(0.25), P50: at(0.50), P75: at(0.75), P90: at(0.90), P99: at(0.99),
		Max: time.Duration(h.Max()) * time.Millisecond, Mean: time.Duration(h.Mean() * float64(time.Millisecond)),
	}
}

func joinSteps(steps []string) string {
	n := 0
	for _, s := range steps {
		n += len(s) + 3
	}
	b := make([]byte, 0, n)
	for i, s := range steps {
		if i > 0 {
			b = append(b, " → "...)
		}
		b = append(b, s...)
	}
	return string(b)
}
