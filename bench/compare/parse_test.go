package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseToolReports(t *testing.T) {
	tests := []struct {
		file  string
		parse func([]byte) (report, error)
		want  report
	}{
		{"wrk.txt", parseWrk, report{Requests: 21330, Throughput: 10639.08}},
		{"wrk-errors.txt", parseWrk, report{Requests: 416240, Throughput: 41622.95, Errors: 3 + 2 + 17}},
		{"vegeta.json", parseVegeta, report{Requests: 11264, Throughput: 5644.626719517089}},
		{"headroom.json", parseHeadroom, report{Requests: 900000, Throughput: 30000.5, Errors: 12}},
		{"fortio.json", parseFortio, report{Requests: 11593, Throughput: 11592.00286750534, Errors: 3}},
		{"h2load.txt", parseH2load, report{Requests: 24672, Throughput: 24672, Errors: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := tt.parse(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseVegetaCountsFailures(t *testing.T) {
	got, err := parseVegeta([]byte(`{"requests":1000,"throughput":90.5,"success":0.75}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Errors != 250 {
		t.Errorf("errors = %d, want 250", got.Errors)
	}
}

func TestParseToolReportsRejectOtherOutput(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) (report, error)
		in    string
	}{
		{"wrk without totals", parseWrk, "Running 2s test @ http://127.0.0.1:1/\nunable to connect to 127.0.0.1:1 Connection refused\n"},
		{"wrk without rate", parseWrk, "  10 requests in 1.00s, 1KB read\n"},
		{"vegeta text report", parseVegeta, "Requests [total, rate] 10, 1.00\n"},
		{"vegeta without requests", parseVegeta, `{"throughput":1}`},
		{"headroom without summary", parseHeadroom, `{"windows":[]}`},
		{"headroom not JSON", parseHeadroom, `summary: 1`},
		{"fortio without histogram", parseFortio, `{"ActualQPS":1}`},
		{"fortio text", parseFortio, `Aborting because of error -1`},
		{"h2load without requests", parseH2load, "finished in 1.00s, 10.00 req/s, 1KB/s\n"},
		{"h2load failed to connect", parseH2load, "starting benchmark...\nclient could not connect to host\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.parse([]byte(tt.in)); err == nil {
				t.Errorf("parsed %+v from %q, want an error", got, tt.in)
			}
		})
	}
}

func TestParseTimeV(t *testing.T) {
	got, err := parseTimeV(readTestdata(t, "time-v.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := usage{CPU: 470 * time.Millisecond, Wall: 2070 * time.Millisecond, MaxRSSKB: 6724}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if _, err := parseTimeV([]byte("\tUser time (seconds): 1.0\n")); err == nil {
		t.Error("a report without system time and max RSS parsed without error")
	}
	if _, err := parseTimeV([]byte("\tUser time (seconds): x\n")); err == nil {
		t.Error("a bad user time parsed without error")
	}
	// A process shorter than GNU time's 10 ms resolution: a wall time of 0
	// is a reading, a missing wall-time line is not.
	fast := "\tUser time (seconds): 0.00\n\tSystem time (seconds): 0.00\n" +
		"\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:00.00\n\tMaximum resident set size (kbytes): 3500\n"
	if got, err := parseTimeV([]byte(fast)); err != nil || got.Wall != 0 || got.MaxRSSKB != 3500 {
		t.Errorf("a sub-10ms report = %+v, %v; want wall 0 and RSS 3500", got, err)
	}
	noWall := strings.Replace(fast, "\tElapsed (wall clock) time (h:mm:ss or m:ss): 0:00.00\n", "", 1)
	if _, err := parseTimeV([]byte(noWall)); err == nil {
		t.Error("a report without a wall-time line parsed without error")
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "0:02.07", want: 2070 * time.Millisecond},
		{in: "1:30.50", want: 90500 * time.Millisecond},
		{in: "1:02:03", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "12", bad: true},
		{in: "a:b", bad: true},
	}
	for _, tt := range tests {
		got, err := parseClock(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("parseClock(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

func TestParseProcStatCPU(t *testing.T) {
	// A command name with spaces and parentheses must not shift the fields.
	stat := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 3 0 1000 0 0\n"
	got, err := parseProcStatCPU([]byte(stat))
	if err != nil {
		t.Fatal(err)
	}
	if want := 4 * time.Second; got != want {
		t.Errorf("got %v, want %v (250+150 ticks)", got, want)
	}
	if _, err := parseProcStatCPU([]byte("4242 (x) S 1 2")); err == nil {
		t.Error("a short stat line parsed without error")
	}
}

func TestParseTargetCounts(t *testing.T) {
	got, err := parseTargetCounts([]byte(`{"requests":5,"connections":2}` + "\n"))
	if err != nil || got != (targetCounts{Requests: 5, Connections: 2}) {
		t.Errorf("got %+v, %v", got, err)
	}
	if _, err := parseTargetCounts(nil); err == nil {
		t.Error("empty output parsed without error")
	}
}
