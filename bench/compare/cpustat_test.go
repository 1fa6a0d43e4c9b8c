package main

import (
	"reflect"
	"testing"
)

const procStat = `cpu  300 10 100 1000 20 0 5 0 7 0
cpu0 200 10 50 400 10 0 5 0 7 0
cpu1 100 0 50 600 10 0 0 0 0 0
intr 12345
ctxt 999
`

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		list string
		want cpuSample
	}{
		// busy = user+nice+system+steal; total adds idle, iowait, irq and
		// softirq; guest is not added twice.
		{"0", cpuSample{busy: 260, total: 675}},
		{"1", cpuSample{busy: 150, total: 760}},
		{"0-1", cpuSample{busy: 410, total: 1435}},
		{"", cpuSample{busy: 410, total: 1435}},
	}
	for _, tt := range tests {
		got, err := parseProcStat([]byte(procStat), tt.list)
		if err != nil || got != tt.want {
			t.Errorf("parseProcStat(%q) = %+v, %v; want %+v", tt.list, got, err, tt.want)
		}
	}
	if _, err := parseProcStat([]byte(procStat), "2"); err == nil {
		t.Error("a CPU the machine does not have was accepted")
	}
}

func TestOthersShare(t *testing.T) {
	a := cpuSample{busy: 100, total: 1000}
	b := cpuSample{busy: 700, total: 2000} // 600 busy jiffies of 1000
	if got := othersShare(a, b, 450); got != 0.15 {
		t.Errorf("othersShare = %v, want 0.15 (150 of 1000 jiffies not ours)", got)
	}
	if got := othersShare(a, b, 900); got != 0 {
		t.Errorf("othersShare = %v, want 0 when our processes account for it all", got)
	}
}

func TestParseCPUList(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		bad  bool
	}{
		{in: "0", want: []int{0}},
		{in: "0-2,5", want: []int{0, 1, 2, 5}},
		{in: "3-1", bad: true},
		{in: "x", bad: true},
		{in: "0;rm", bad: true},
		{in: "-1", bad: true},
	}
	for _, tt := range tests {
		got, err := parseCPUList(tt.in)
		if (err != nil) != tt.bad || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseCPUList(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}
