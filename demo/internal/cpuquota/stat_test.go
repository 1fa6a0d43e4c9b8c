package cpuquota

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		v       Version
		in      string
		want    Stat
		wantErr string
	}{
		{name: "v1 with burst lines", v: V1,
			in:   "nr_periods 1200\nnr_throttled 345\nthrottled_time 6789000000\nnr_bursts 0\nburst_time 0\n",
			want: Stat{Periods: 1200, ThrottledPeriods: 345, Throttled: 6789 * time.Millisecond}},
		{name: "v2 with usage lines", v: V2,
			in:   "usage_usec 99\nuser_usec 50\nsystem_usec 49\nnr_periods 10\nnr_throttled 4\nthrottled_usec 250000\nnr_bursts 0\nburst_usec 0\n",
			want: Stat{Periods: 10, ThrottledPeriods: 4, Throttled: 250 * time.Millisecond}},
		{name: "v1 never throttled", v: V1, in: "nr_periods 0\nnr_throttled 0\nthrottled_time 0\n"},
		{name: "v2 file read as v1", v: V1, in: "nr_periods 10\nnr_throttled 4\nthrottled_usec 250000\n", wantErr: "no throttled_time"},
		{name: "v1 file read as v2", v: V2, in: "nr_periods 10\nnr_throttled 4\nthrottled_time 250000\n", wantErr: "no throttled_usec"},
		{name: "no periods", v: V1, in: "nr_throttled 4\nthrottled_time 1\n", wantErr: "no nr_periods"},
		{name: "not a count", v: V1, in: "nr_periods ten\nnr_throttled 4\nthrottled_time 1\n", wantErr: `line 1: nr_periods: "ten"`},
		{name: "negative", v: V2, in: "nr_periods 1\nnr_throttled -4\nthrottled_usec 1\n", wantErr: "line 2"},
		{name: "three fields", v: V1, in: "nr_periods 1 2\n", wantErr: "line 1"},
		{name: "empty", v: V1, in: "", wantErr: "no nr_periods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.in), tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseStat error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseStat = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzParseStat checks that ParseStat never panics and that what it accepts
// reads back the same once written out again.
func FuzzParseStat(f *testing.F) {
	f.Add([]byte("nr_periods 1200\nnr_throttled 345\nthrottled_time 6789000000\n"), true)
	f.Add([]byte("nr_periods 10\nnr_throttled 4\nthrottled_usec 250000\nnr_bursts 0\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, v1 bool) {
		v, key, unit := V2, "throttled_usec", time.Microsecond
		if v1 {
			v, key, unit = V1, "throttled_time", time.Nanosecond
		}
		st, err := ParseStat(data, v)
		if err != nil {
			return
		}
		again := fmt.Sprintf("nr_periods %d\nnr_throttled %d\n%s %d\n", st.Periods, st.ThrottledPeriods, key, uint64(st.Throttled/unit))
		st2, err := ParseStat([]byte(again), v)
		if err != nil || st2 != st {
			t.Fatalf("%q read back from %q as %+v, %v; want %+v", again, data, st2, err, st)
		}
	})
}

func TestParseStatRefusesAThrottledTimeBeyondADuration(t *testing.T) {
	_, err := ParseStat([]byte("nr_periods 1\nnr_throttled 1\nthrottled_usec 18446744073709551615\n"), V2)
	if err == nil || !strings.Contains(err.Error(), "throttled_usec") {
		t.Fatalf("ParseStat error = %v, want one naming throttled_usec", err)
	}
}
