package generator

import (
	"strings"
	"testing"
	"time"
)

func histOf(us ...int64) Window {
	h := NewHistogram()
	for _, v := range us {
		_ = h.RecordValue(v)
	}
	return Window{Requests: int64(len(us)), Latency: LatencyOf(h), Hist: h}
}

// TestRecordKeepsEachNamesHistogram proves a record's per-name histograms
// merge, over any span, into exactly what was recorded for that name.
func TestRecordKeepsEachNamesHistogram(t *testing.T) {
	start := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	second := func(i int, a, b []int64) SecondRecord {
		wa, wb := histOf(a...), histOf(b...)
		wa.Name, wb.Name = "a", "b"
		total := histOf(append(append([]int64{}, a...), b...)...)
		return Record(Second{Start: start.Add(time.Duration(i) * time.Second), Duration: time.Second, Total: total, ByName: []Window{wa, wb}})
	}
	rs := []SecondRecord{
		second(0, []int64{1000, 2000}, []int64{50_000}),
		second(1, []int64{3000}, []int64{60_000, 70_000, 80_000}),
	}
	for _, tt := range []struct {
		name  string
		count int64
		max   int64
	}{{"", 7, 80_000}, {"a", 3, 3000}, {"b", 4, 80_000}} {
		h, err := Merged(rs, tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if h.TotalCount() != tt.count || h.Max() < tt.max || h.Max() > tt.max+tt.max/500 {
			t.Errorf("%q: %d values, max %d µs; want %d, %d", tt.name, h.TotalCount(), h.Max(), tt.count, tt.max)
		}
	}
	if h, _ := rs[0].ByName[1].Histogram(); h.TotalCount() != 1 {
		t.Errorf("b's first second holds %d values, want 1", h.TotalCount())
	}
	if h, err := Merged(rs, "c"); err != nil || h.TotalCount() != 0 {
		t.Errorf("a name never seen: %d values, %v", h.TotalCount(), err)
	}
	rs[1].ByName[0].HDR = "garbage"
	if _, err := Merged(rs, "a"); err == nil || !strings.Contains(err.Error(), "10:00:01") {
		t.Errorf("a bad histogram: %v, want an error naming its second", err)
	}
}
