package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/headroom-sre/headroom/server"
)

// cpuProfile is a gzipped CPU profile of span whose samples are stacks
// (leaf first) with their nanoseconds.
func cpuProfile(t testing.TB, span time.Duration, stacks map[string]int64) []byte {
	t.Helper()
	p := &profile.Profile{
		SampleType:    []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType:    &profile.ValueType{Type: "cpu", Unit: "nanoseconds"},
		Period:        10_000_000,
		DurationNanos: int64(span),
	}
	locs := map[string]*profile.Location{}
	for stack, ns := range stacks {
		var ls []*profile.Location
		for _, name := range strings.Split(stack, ";") {
			loc := locs[name]
			if loc == nil {
				fn := &profile.Function{ID: uint64(len(p.Function) + 1), Name: name, SystemName: name}
				p.Function = append(p.Function, fn)
				loc = &profile.Location{ID: uint64(len(p.Location) + 1), Line: []profile.Line{{Function: fn, Line: 1}}}
				p.Location = append(p.Location, loc)
				locs[name] = loc
			}
			ls = append(ls, loc)
		}
		p.Sample = append(p.Sample, &profile.Sample{Location: ls, Value: []int64{ns / 10_000_000, ns}})
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	burnFn  = "github.com/headroom-sre/headroom/demo/shop.burnCPU"
	serveFn = "github.com/headroom-sre/headroom/demo/shop.(*Server).serveLimited"
	connFn  = "net/http.(*conn).serve"
)

// TestStudyKeepsItsProfilesAndServesThem runs a study whose plan names a
// pprof base URL (a fake service answering the CPU profile only: light at
// the first step, burning afterwards) and reads the kept profiles back:
// the list with its top functions against the baseline, the raw download
// that pprof parses, and the flame graph; viewers may read them, others
// may not.
func TestStudyKeepsItsProfilesAndServesThem(t *testing.T) {
	light := cpuProfile(t, time.Second, map[string]int64{serveFn + ";" + connFn: 100e6, "runtime.gcBgMarkWorker": 50e6})
	heavy := cpuProfile(t, time.Second, map[string]int64{burnFn + ";" + serveFn + ";" + connFn: 700e6,
		serveFn + ";" + connFn: 100e6, "runtime.gcBgMarkWorker": 50e6})
	var asked atomic.Int32
	pp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r)
			return
		}
		if asked.Add(1) == 1 {
			w.Write(light)
		} else {
			w.Write(heavy)
		}
	}))
	t.Cleanup(pp.Close)
	tgt := target(t)
	ts := startServer(t, server.Config{})
	planID := ts.createPlan(t, strings.Replace(studyPlan("profiled", tgt.URL, "2s", 100), "capacity:",
		"observe:\n  pprof: "+pp.URL+"/debug/pprof\ncapacity:", 1))
	id := ts.startJob(t, planID, "study", nil)
	if j := ts.waitJob(t, id, 90*time.Second, isFinished); j.Status == "failed" && j.Error != "" {
		t.Logf("job ended %s: %s", j.Status, j.Error)
	}
	if asked.Load() < 2 {
		t.Fatalf("precondition: the study asked for %d CPU profiles, want one per step (at least 2)", asked.Load())
	}

	var list struct {
		Profiles []struct {
			ID, Kind, Phase, Component, Download, Unit string
			Step, Bytes                                int
			Requests                                   int64
			Seconds                                    float64
			Top                                        []struct {
				Function     string
				Flat, Cum    float64
				PerRequestMS *float64 `json:"per_request_ms"`
				DeltaPoints  *float64 `json:"delta_points"`
				Sentence     string
			}
		}
	}
	path := fmt.Sprintf("/api/v1/jobs/%d/profiles", id)
	if code := ts.getJSON(t, ts.viewer, path, &list); code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, code)
	}
	if len(list.Profiles) != int(asked.Load()) {
		t.Fatalf("%d profiles kept, want the %d fetched", len(list.Profiles), asked.Load())
	}
	first, second := list.Profiles[0], list.Profiles[1]
	if first.Kind != "cpu" || first.Phase != "baseline" || first.Bytes != len(light) || first.Seconds < 1 ||
		first.Requests <= 0 || !strings.HasPrefix(pp.URL, "http://"+first.Component) || first.Unit != "nanoseconds" {
		t.Errorf("first profile %+v, want the baseline step's CPU profile of %s (%d bytes)", first, pp.URL, len(light))
	}
	if first.Download != fmt.Sprintf("/api/v1/jobs/%d/profiles/%s", id, first.ID) {
		t.Errorf("download %q", first.Download)
	}
	if len(first.Top) == 0 || first.Top[0].DeltaPoints != nil {
		t.Errorf("baseline top %+v, want functions without a change against itself", first.Top)
	}
	if second.Phase == "baseline" || len(second.Top) == 0 {
		t.Fatalf("second profile %+v, want a later step's with its top", second)
	}
	top := second.Top[0]
	// burnCPU: 700 of 850 ms (82%), none at baseline.
	if top.Function != burnFn || top.DeltaPoints == nil || *top.DeltaPoints < 82 || *top.DeltaPoints > 83 ||
		top.PerRequestMS == nil || *top.PerRequestMS <= 0 || top.Flat < 0.82 || top.Flat > 0.83 {
		t.Errorf("second profile's top %+v, want %s at 82%% (+82 points)", top, burnFn)
	}
	if !strings.Contains(top.Sentence, "82% of CPU in shop.burnCPU under shop.(*Server).serveLimited (+82 points against the baseline") {
		t.Errorf("sentence %q", top.Sentence)
	}

	code, raw := ts.do(t, ts.viewer, http.MethodGet, second.Download, "", nil, nil)
	if code != http.StatusOK || !bytes.Equal(raw, heavy) {
		t.Fatalf("download: %d, %d bytes, want the %d bytes fetched", code, len(raw), len(heavy))
	}
	if p, err := profile.Parse(bytes.NewReader(raw)); err != nil || len(p.Sample) != 3 {
		t.Errorf("the download does not parse as the profile: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, ts.URL+second.Download, nil)
	req.Header.Set("Authorization", "Bearer "+ts.viewer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, `.pb.gz"`) || !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q, want an attachment named *.pb.gz", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}

	var flame struct {
		Name     string
		Value    int64
		Children []struct {
			Name     string
			Value    int64
			Children []struct{ Name string }
		}
	}
	if code := ts.getJSON(t, ts.viewer, second.Download+"/flame", &flame); code != http.StatusOK {
		t.Fatalf("flame: %d", code)
	}
	if flame.Name != "root" || flame.Value != 850e6 || len(flame.Children) != 2 || flame.Children[0].Name != connFn ||
		flame.Children[0].Value != 800e6 || len(flame.Children[0].Children) != 1 || flame.Children[0].Children[0].Name != serveFn {
		t.Errorf("flame %+v, want root 850e6 > %s 800e6 > %s", flame, connFn, serveFn)
	}

	n := len(list.Profiles)
	want := fmt.Sprintf("Profiles: %d kept (%d cpu) — download via /api/v1/jobs/%d/profiles (each one a .pb.gz for go tool pprof).", n, n, id)
	for _, format := range []string{"md", "html"} {
		code, body := ts.do(t, ts.viewer, http.MethodGet, fmt.Sprintf("/api/v1/jobs/%d/report?format=%s", id, format), "", nil, nil)
		if code != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("%s report: %d, want the line %q", format, code, want)
		}
	}

	for _, c := range []struct {
		token, path string
		want        int
	}{
		{"", path, http.StatusUnauthorized},
		{"", second.Download, http.StatusUnauthorized},
		{ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/profiles", id+100), http.StatusNotFound},
		{ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/profiles/999999", id), http.StatusNotFound},
		{ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/profiles/abc", id), http.StatusBadRequest},
		{ts.viewer, fmt.Sprintf("/api/v1/jobs/%d/profiles/999999/flame", id), http.StatusNotFound},
	} {
		if code, body := ts.do(t, c.token, http.MethodGet, c.path, "", nil, nil); code != c.want {
			t.Errorf("GET %s (token %v): %d %s, want %d", c.path, c.token != "", code, body, c.want)
		}
	}
}
