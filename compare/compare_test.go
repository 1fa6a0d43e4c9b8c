package compare

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/generator"
)

// load describes a synthetic run: per second, requests of each name with
// log-normal latency around medianMs, and a share of errors.
type load struct {
	seconds  int
	rps      int     // requests per second per name
	medianMs float64 // of the latency distribution
	errRate  float64
	names    []string
}

// windows builds the per-second records of a synthetic run, with merged
// histograms encoded as the generator encodes them.
func (l load) windows(seed uint64) []generator.SecondRecord {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	names := l.names
	if len(names) == 0 {
		names = []string{"list products"}
	}
	var out []generator.SecondRecord
	for s := 0; s < l.seconds; s++ {
		total := generator.NewHistogram()
		rec := generator.SecondRecord{Start: start.Add(time.Duration(s) * time.Second), DurationS: 1}
		for _, name := range names {
			h := generator.NewHistogram()
			var errs int64
			for i := 0; i < l.rps; i++ {
				ms := l.medianMs * math.Exp(0.35*rng.NormFloat64())
				_ = h.RecordValue(int64(ms * 1000))
				if rng.Float64() < l.errRate {
					errs++
				}
			}
			total.Merge(h)
			enc, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
			if err != nil {
				panic(err)
			}
			rec.ByName = append(rec.ByName, generator.NameRecord{Name: name, Requests: int64(l.rps), Errors: errs,
				Latency: generator.LatencyOf(h), HDR: string(enc)})
			rec.Requests += int64(l.rps)
			rec.Errors += errs
		}
		rec.Latency = generator.LatencyOf(total)
		enc, err := total.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			panic(err)
		}
		rec.HDR = string(enc)
		out = append(out, rec)
	}
	return out
}

func TestUnchangedTargetComparesAsNoRegression(t *testing.T) {
	l := load{seconds: 20, rps: 40, medianMs: 20, names: []string{"browse", "checkout"}}
	clean := 0
	for pair := uint64(0); pair < 10; pair++ {
		res, err := Windows(l.windows(2*pair+1), l.windows(2*pair+2), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict == NoRegression {
			clean++
		} else {
			t.Logf("pair %d: %s %v", pair, res.Verdict, res.Reasons)
		}
	}
	if clean < 9 {
		t.Errorf("%d of 10 unchanged pairs compare as no regression, want ≥ 9", clean)
	}
}

func TestThirtyPercentSlowerIsARegressionEveryTime(t *testing.T) {
	base := load{seconds: 20, rps: 40, medianMs: 20, names: []string{"browse", "checkout"}}
	slow := base
	slow.medianMs *= 1.3
	for pair := uint64(0); pair < 10; pair++ {
		res, err := Windows(base.windows(2*pair+1), slow.windows(2*pair+2), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Regression {
			t.Fatalf("pair %d: verdict %s, want regression", pair, res.Verdict)
		}
		all := res.Names[0]
		if all.Name != "all" {
			t.Fatalf("first name %q, want all", all.Name)
		}
		p99 := find(t, all, P99)
		if !p99.Regressed || p99.ChangePct < 20 || p99.ChangePct > 40 {
			t.Errorf("pair %d: all p99 %+v, want a regression of about +30%%", pair, p99)
		}
	}
}

func TestImprovementAndDirection(t *testing.T) {
	base := load{seconds: 30, rps: 50, medianMs: 20}
	fast := base
	fast.medianMs *= 0.6
	res, err := Windows(base.windows(1), fast.windows(2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Improvement || len(res.Reasons) != 0 {
		t.Fatalf("verdict %s reasons %v, want improvement without reasons", res.Verdict, res.Reasons)
	}
	if d := find(t, res.Names[0], P95); !d.Improved || d.Regressed {
		t.Errorf("p95 %+v, want improved", d)
	}
}

func TestThroughputDropIsARegression(t *testing.T) {
	base := load{seconds: 30, rps: 100, medianMs: 20}
	less := base
	less.rps = 70
	res, err := Windows(base.windows(1), less.windows(2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := find(t, res.Names[0], Throughput)
	if !d.Regressed || math.Abs(d.Base-100) > 1e-9 || math.Abs(d.Current-70) > 1e-9 {
		t.Fatalf("throughput %+v, want 100 → 70 regressed", d)
	}
	if res.Verdict != Regression || !strings.Contains(strings.Join(res.Reasons, "\n"), "throughput_rps 100.0/s → 70.0/s") {
		t.Errorf("verdict %s reasons %q", res.Verdict, res.Reasons)
	}
}

func TestErrorsFromNoneAreARegression(t *testing.T) {
	base := load{seconds: 30, rps: 100, medianMs: 20}
	failing := base
	failing.errRate = 0.05
	res, err := Windows(base.windows(1), failing.windows(2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := find(t, res.Names[0], ErrorRate); !d.Regressed || d.Base != 0 {
		t.Fatalf("error rate %+v, want 0 → ~5%% regressed", d)
	}
}

func TestSmallSignificantShiftIsNotARegression(t *testing.T) {
	// 5% slower with many samples: significant, but under the 10% minimum effect.
	base := load{seconds: 60, rps: 200, medianMs: 20}
	slower := base
	slower.medianMs *= 1.05
	res, err := Windows(base.windows(1), slower.windows(2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := find(t, res.Names[0], P50)
	if !d.Significant {
		t.Errorf("p50 %+v: a 5%% shift over 12,000 requests should be significant", d)
	}
	if res.Verdict != NoRegression {
		t.Errorf("verdict %s %v, want no regression below the minimum effect", res.Verdict, res.Reasons)
	}
	res, err = Windows(base.windows(1), slower.windows(2), Options{MaxRegression: 0.03})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Regression {
		t.Errorf("with a 3%% minimum effect: verdict %s, want regression", res.Verdict)
	}
}

func TestNamesOnOneSideAreNoted(t *testing.T) {
	a := load{seconds: 10, rps: 20, medianMs: 10, names: []string{"browse", "login"}}
	b := load{seconds: 10, rps: 20, medianMs: 10, names: []string{"browse", "checkout"}}
	res, err := Windows(a.windows(1), b.windows(2), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range res.Names {
		got[n.Name] = n.Note
	}
	if got["login"] != "only in the baseline" || got["checkout"] != "only in the current result" || got["browse"] != "" {
		t.Errorf("notes %q", got)
	}
	if res.Names[0].Name != "all" || res.Names[1].Name != "browse" {
		t.Errorf("order %v, want all first then by name", res.Names)
	}
}

func TestWithoutHistogramsPercentilesAreMediansAndSaySo(t *testing.T) {
	ws := load{seconds: 10, rps: 20, medianMs: 10}.windows(1)
	for i := range ws {
		ws[i].HDR = ""
		for j := range ws[i].ByName {
			ws[i].ByName[j].HDR = ""
		}
	}
	res, err := Windows(ws, ws, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Names[0].Note == "" {
		t.Error("no note that the percentiles are not merged")
	}
	if d := find(t, res.Names[0], P50); d.Base <= 0 || d.Base != d.Current {
		t.Errorf("p50 %+v", d)
	}
}

func TestNoDataIsAnError(t *testing.T) {
	_, err := Windows(nil, load{seconds: 5, rps: 5, medianMs: 5}.windows(1), Options{})
	if !errors.Is(err, ErrNoData) || !strings.HasPrefix(err.Error(), "baseline:") {
		t.Fatalf("err %v, want baseline: ErrNoData", err)
	}
}

func TestBrokenHistogramNamesTheWindow(t *testing.T) {
	ws := load{seconds: 3, rps: 5, medianMs: 5}.windows(1)
	ws[2].ByName[0].HDR = "not a histogram"
	_, err := Windows(ws, ws, Options{})
	if err == nil || !strings.Contains(err.Error(), "window 2, list products: hdr") {
		t.Fatalf("err %v, want it to name window 2 and the request name", err)
	}
}

func find(t *testing.T, n Name, m Metric) Delta {
	t.Helper()
	for _, d := range n.Deltas {
		if d.Metric == m {
			return d
		}
	}
	t.Fatalf("%s: no %s delta", n.Name, m)
	return Delta{}
}
