package profiles

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// builder makes a CPU profile from stacks written leaf first.
type builder struct {
	p     *profile.Profile
	funcs map[string]*profile.Function
	locs  map[string]*profile.Location
}

func newCPU() *builder {
	return &builder{p: &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:     10_000_000,
	}, funcs: map[string]*profile.Function{}, locs: map[string]*profile.Location{}}
}

func (b *builder) add(ns int64, stack ...string) *builder {
	var locs []*profile.Location
	for _, name := range stack {
		loc := b.locs[name]
		if loc == nil {
			fn := &profile.Function{ID: uint64(len(b.funcs) + 1), Name: name, SystemName: name}
			b.funcs[name] = fn
			b.p.Function = append(b.p.Function, fn)
			loc = &profile.Location{ID: uint64(len(b.locs) + 1), Line: []profile.Line{{Function: fn, Line: 1}}}
			b.locs[name] = loc
			b.p.Location = append(b.p.Location, loc)
		}
		locs = append(locs, loc)
	}
	b.p.Sample = append(b.p.Sample, &profile.Sample{Location: locs, Value: []int64{ns / 10_000_000, ns}})
	return b
}

func (b *builder) withSpan(d time.Duration) *builder {
	b.p.DurationNanos = int64(d)
	return b
}

// roundTrip writes and parses the profile, as a fetched one would be.
func (b *builder) roundTrip(t *testing.T) *profile.Profile {
	t.Helper()
	if err := b.p.CheckValid(); err != nil {
		t.Fatalf("test profile invalid: %v", err)
	}
	var buf bytes.Buffer
	if err := b.p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	p, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const (
	shopPkg = "github.com/headroom-sre/headroom/demo/shop."
	burn    = shopPkg + "burnCPU"
	limited = shopPkg + "(*Server).serveLimited"
	list    = shopPkg + "(*Server).handleListProducts"
	srv     = "net/http.(*conn).serve"
	sha     = "crypto/sha256.blockAVX2"
	json    = "encoding/json.(*encodeState).marshal"
	gc      = "runtime.gcBgMarkWorker"
)

func TestSummarizeChargesStdlibToCaller(t *testing.T) {
	p := newCPU().
		add(600*ms, sha, burn, limited, srv).
		add(100*ms, burn, limited, srv).
		add(200*ms, json, list, limited, srv).
		add(100*ms, gc).
		roundTrip(t)
	s, err := Summarize(p, CPU, 500)
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != float64(1000*ms) || s.SampleType != "cpu" || s.Unit != "nanoseconds" {
		t.Fatalf("total %v %s/%s, want 1e9 cpu/nanoseconds", s.Total, s.SampleType, s.Unit)
	}
	f := s.Funcs[burn]
	if f.Flat != float64(100*ms) || f.Own != float64(700*ms) || f.Cum != float64(700*ms) {
		t.Errorf("burnCPU flat %v own %v cum %v, want 1e8, 7e8, 7e8", f.Flat, f.Own, f.Cum)
	}
	if f.Under != limited || f.Mostly != sha {
		t.Errorf("burnCPU under %q mostly %q, want serveLimited, sha256", f.Under, f.Mostly)
	}
	if got := s.Funcs[sha]; got.Own != 0 || got.Flat != float64(600*ms) {
		t.Errorf("sha256 own %v flat %v, want 0 and 6e8", got.Own, got.Flat)
	}
	if got := s.Funcs[list]; got.Own != float64(200*ms) || got.Under != limited {
		t.Errorf("handleListProducts own %v under %q", got.Own, got.Under)
	}
	if got := s.Funcs[limited]; got.Cum != float64(900*ms) || got.Own != 0 {
		t.Errorf("serveLimited cum %v own %v, want 9e8 and 0", got.Cum, got.Own)
	}
	// A stack all in the runtime is charged to its leaf.
	if got := s.Funcs[gc]; got.Own != float64(100*ms) {
		t.Errorf("gcBgMarkWorker own %v, want 1e8", got.Own)
	}
}

const ms = int64(time.Millisecond)

// The profiler's own allocations (the gzip writer runtime/pprof opens for
// every profile it serves) are the measurement, not the service: they are
// counted apart and never ranked.
func TestSummarizeLeavesOutTheProfiler(t *testing.T) {
	p := newCPU().
		add(300*ms, "compress/flate.NewWriter", "runtime/pprof.(*profileBuilder).build", "net/http/pprof.handler.ServeHTTP", srv).
		add(100*ms, "runtime/pprof.StartCPUProfile", "net/http/pprof.Profile", srv).
		add(200*ms, json, list, limited, srv).
		roundTrip(t)
	s := mustSummarize(t, p)
	if s.Total != float64(200*ms) || s.Profiler != float64(400*ms) {
		t.Fatalf("total %v profiler %v, want 2e8 and 4e8", s.Total, s.Profiler)
	}
	for _, name := range []string{"compress/flate.NewWriter", "runtime/pprof.StartCPUProfile"} {
		if s.Funcs[name] != nil {
			t.Errorf("%s ranked: %+v", name, s.Funcs[name])
		}
	}
	if got := s.Funcs[list]; got == nil || got.Own != float64(200*ms) {
		t.Errorf("handleListProducts = %+v, want own 2e8", got)
	}
}

func TestCompareRanksTheRiseAndRendersTheSentence(t *testing.T) {
	base, err := Summarize(newCPU().
		add(100*ms, burn, limited, srv).
		add(600*ms, json, list, limited, srv).
		add(300*ms, gc).
		withSpan(time.Second).
		roundTrip(t), CPU, 100)
	if err != nil {
		t.Fatal(err)
	}
	deg, err := Summarize(newCPU().
		add(1500*ms, sha, burn, limited, srv).
		add(100*ms, burn, limited, srv).
		add(1200*ms, json, list, limited, srv).
		add(200*ms, gc).
		withSpan(3*time.Second).
		roundTrip(t), CPU, 1000)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(base, deg)
	if err != nil {
		t.Fatal(err)
	}
	top := d.Top(3)
	if len(top) != 1 || top[0].Name != burn {
		t.Fatalf("top %+v, want burnCPU alone (the only rise)", top)
	}
	// 1600 ms in 3 s against 100 ms in 1 s: +433 ms a second.
	if math.Abs(top[0].Rise-float64(1600*ms)/3+float64(100*ms)) > 1 {
		t.Errorf("burnCPU rise %v ns/s, want 4.33e8", top[0].Rise)
	}
	r := top[0]
	// 1600 of 3000 ms against 100 of 1000 ms: 53.3% - 10% = +43.3 points;
	// 1.6 s over 1000 requests.
	if math.Abs(r.Own-1600.0/3000) > 1e-9 || math.Abs(r.Points-(100*1600.0/3000-10)) > 1e-9 || r.PerRequest != float64(1600*ms)/1000 {
		t.Fatalf("burnCPU own %v points %v per request %v", r.Own, r.Points, r.PerRequest)
	}
	want := "53% of CPU in shop.burnCPU (mostly sha256.blockAVX2) under shop.(*Server).serveLimited (+43 points against the baseline; 1.6 ms per request)"
	if got := d.Sentence(r); got != want {
		t.Errorf("sentence\n got %s\nwant %s", got, want)
	}
	// The falls: the list handler 60% → 40%, the GC 30% → 6.7%.
	last := d.Rows[len(d.Rows)-1]
	if last.Name != gc || math.Abs(last.Points-(100*200.0/3000-30)) > 1e-9 {
		t.Errorf("last row %+v, want the GC's fall", last)
	}
	// Without a baseline: no points, the largest shares.
	alone, err := Compare(nil, deg)
	if err != nil {
		t.Fatal(err)
	}
	if got := alone.Sentence(alone.Top(1)[0]); got != "53% of CPU in shop.burnCPU (mostly sha256.blockAVX2) under shop.(*Server).serveLimited (1.6 ms per request)" {
		t.Errorf("alone: %s", got)
	}
}

func TestSummarizePicksTheKindsValue(t *testing.T) {
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
			{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}},
	}
	fn := &profile.Function{ID: 1, Name: shopPkg + "(*allocator).alloc"}
	mal := &profile.Function{ID: 2, Name: "runtime.mallocgc"}
	p.Function = []*profile.Function{fn, mal}
	l1 := &profile.Location{ID: 1, Line: []profile.Line{{Function: fn}}}
	l2 := &profile.Location{ID: 2, Line: []profile.Line{{Function: mal}}}
	p.Location = []*profile.Location{l1, l2}
	p.Sample = []*profile.Sample{{Location: []*profile.Location{l2, l1}, Value: []int64{1000, 3 << 20, 0, 0}}}
	s, err := Summarize(p, Allocs, 3)
	if err != nil {
		t.Fatal(err)
	}
	d, _ := Compare(nil, s)
	if got := d.Sentence(d.Top(1)[0]); got != "100% of allocated bytes in shop.(*allocator).alloc (mostly runtime.mallocgc) (1.0 MiB per request)" {
		t.Errorf("allocs: %s", got)
	}
	if _, err := Summarize(p, Kind("threads"), 0); err == nil || !strings.Contains(err.Error(), `"threads"`) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := Compare(s, mustSummarize(t, newCPU().add(ms, burn).roundTrip(t))); err == nil {
		t.Error("comparing allocs with cpu: no error")
	}
}

func mustSummarize(t *testing.T, p *profile.Profile) *Summary {
	s, err := Summarize(p, CPU, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIsStdlib(t *testing.T) {
	for name, want := range map[string]bool{
		"runtime.mallocgc": true, "crypto/sha256.blockAVX2": true, "net/http.(*conn).serve": true,
		"main.burn": false, burn: false, "golang.org/x/net/http2.(*Framer).ReadFrame": false, "0x4a2b": true, // no symbol: charged to the caller like the runtime
	} {
		if got := isStdlib(name); got != want {
			t.Errorf("isStdlib(%q) = %v", name, got)
		}
	}
}

func TestParseRejectsGarbage(t *testing.T) {
	if _, err := Parse(nil); err == nil {
		t.Error("empty: no error")
	}
	if _, err := Parse([]byte("<html>not found</html>")); err == nil {
		t.Error("html: no error")
	}
}
