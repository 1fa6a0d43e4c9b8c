package plan

import "testing"

func TestObservePprof(t *testing.T) {
	p, err := Parse("plan.yaml", []byte(edit(t, journeys, journeys+"observe:\n  pprof: http://127.0.0.1:18091/debug/pprof\n")))
	if err != nil {
		t.Fatal(err)
	}
	if p.Observe.Pprof != "http://127.0.0.1:18091/debug/pprof" {
		t.Errorf("observe.pprof = %q", p.Observe.Pprof)
	}
	_, err = Parse("plan.yaml", []byte(edit(t, journeys, journeys+"observe:\n  pprof: 127.0.0.1:18091/debug/pprof\n")))
	want := `plan.yaml:12: observe.pprof: "127.0.0.1:18091/debug/pprof" must be an absolute http:// or https:// URL`
	if err == nil || err.Error() != want {
		t.Errorf("bad pprof URL: %v\nwant %s", err, want)
	}
}
