package profiles

import (
	"strings"
	"testing"
	"time"
)

// List compares every step's profile with the baseline step's of the same
// kind and component, and lists the baseline's alone.
func TestListComparesEachStepWithTheBaseline(t *testing.T) {
	base := newCPU().add(200e6, list, srv).add(50e6, sha, burn, limited).withSpan(2 * time.Second).roundTrip(t)
	hot := newCPU().add(200e6, list, srv).add(900e6, sha, burn, limited).withSpan(2 * time.Second).roundTrip(t)
	kept := []Kept{
		{Phase: "baseline", Step: 1, Component: "127.0.0.1:6060", Requests: 100, Fetched: &Fetched{Kind: CPU, Profile: base}},
		{Phase: "explore", Step: 2, Component: "127.0.0.1:6060", Requests: 400, Fetched: &Fetched{Kind: CPU, Profile: hot}},
		{Phase: "explore", Step: 2, Component: "127.0.0.1:7070", Requests: 400, Fetched: &Fetched{Kind: CPU, Profile: hot}},
		{Phase: "explore", Step: 3, Component: "127.0.0.1:6060", Fetched: &Fetched{Kind: CPU}}, // not parsed
	}
	got := List(kept, 3)
	if len(got) != len(kept) {
		t.Fatalf("%d listed, want %d", len(got), len(kept))
	}
	if b := got[0]; b.Problem != "" || b.Diff.HasBaseline || len(b.Top) == 0 || b.Top[0].Name != list {
		t.Errorf("baseline: %+v; want its own top, the list handler first, with no baseline", b)
	}
	h := got[1]
	if h.Problem != "" || !h.Diff.HasBaseline || Short(h.Top[0].Name) != "shop.burnCPU" {
		t.Fatalf("degraded step: %+v; want shop.burnCPU on top against the baseline", h)
	}
	if s := h.Diff.Sentence(h.Top[0]); !strings.Contains(s, "points against the baseline") || !strings.Contains(s, "2.2 ms per request") {
		t.Errorf("sentence %q: want its points against the baseline and 900 ms ÷ 400 requests", s)
	}
	if o := got[2]; o.Diff.HasBaseline {
		t.Errorf("another component's profile was compared with this one's baseline: %+v", o.Diff)
	}
	if m := got[3]; m.Problem != "not parsed" || len(m.Top) != 0 {
		t.Errorf("a profile that was not parsed: %+v; want the problem said and no top", m)
	}
}
