package profiles

import "math"

// Listed is one kept profile summed up: its top functions against the
// baseline step's profile of the same kind and component.
type Listed struct {
	Kept
	Unit string
	Diff Diff  // the comparison (HasBaseline false: the profile alone)
	Top  []Row // Diff.Top(n)
	// Problem says why the profile could not be summed up ("" = none).
	Problem string
}

// List sums up each kept profile, in order: its top n functions against
// the profile of the same kind and component of the study's baseline
// step (a baseline profile, or one with no baseline to compare with, is
// listed alone).
func List(kept []Kept, n int) []Listed {
	type key struct {
		kind      Kind
		component string
	}
	summaries := make([]*Summary, len(kept))
	errs := make([]error, len(kept))
	bases := map[key]*Summary{}
	for i, k := range kept {
		if k.Fetched == nil || k.Profile == nil {
			continue
		}
		summaries[i], errs[i] = Summarize(k.Profile, k.Kind, float64(k.Requests))
		if k.Phase == "baseline" && errs[i] == nil {
			if _, dup := bases[key{k.Kind, k.Component}]; !dup {
				bases[key{k.Kind, k.Component}] = summaries[i]
			}
		}
	}
	out := make([]Listed, len(kept))
	for i, k := range kept {
		l := Listed{Kept: k}
		switch {
		case k.Fetched == nil || k.Profile == nil:
			l.Problem = "not parsed"
		case errs[i] != nil:
			l.Problem = errs[i].Error()
		default:
			sum := summaries[i]
			l.Unit = sum.Unit
			base := bases[key{k.Kind, k.Component}]
			if k.Phase == "baseline" {
				base = nil
			}
			d, err := Compare(base, sum)
			if err != nil && base != nil {
				d, err = Compare(nil, sum)
			}
			if err != nil {
				l.Problem = err.Error()
				break
			}
			l.Diff, l.Top = d, d.Top(n)
		}
		out[i] = l
	}
	return out
}

// Entry is one function of a profile's top as the server's profiles API
// and a study document's "profiles" list it: its shares of the profile
// (own: with the standard library it called charged to it, the figure the
// findings rank by), its cost per request and its change against the
// baseline step's profile of the same kind, in percentage points.
type Entry struct {
	Function     string   `json:"function"`
	Flat         float64  `json:"flat"`
	Cum          float64  `json:"cum"`
	Own          float64  `json:"own"`
	PerRequestMS *float64 `json:"per_request_ms,omitempty"`
	PerRequest   *float64 `json:"per_request,omitempty"`
	DeltaPoints  *float64 `json:"delta_points,omitempty"`
	Sentence     string   `json:"sentence"`
}

// Entry is r, a row of d's top, as an Entry; unit is the profile's sample
// unit (per-request nanoseconds are also given in milliseconds).
func (d Diff) Entry(r Row, unit string) Entry {
	e := Entry{Function: r.Name, Flat: r.Flat, Cum: r.Cum, Own: r.Own, Sentence: d.Sentence(r)}
	if !math.IsNaN(r.PerRequest) {
		v := r.PerRequest
		e.PerRequest = &v
		if unit == "nanoseconds" {
			ms := v / 1e6
			e.PerRequestMS = &ms
		}
	}
	if d.HasBaseline {
		pts := r.Points
		e.DeltaPoints = &pts
	}
	return e
}
