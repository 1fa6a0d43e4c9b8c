package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// report is what a load tool says about its own run.
type report struct {
	Requests   int64   // requests it completed (or sent, for vegeta)
	Throughput float64 // requests per second, as the tool computes it
	Errors     int64   // failed requests: non-2xx/3xx, socket errors
}

var (
	wrkRequestsLine = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+\w+),`)
	wrkRateLine     = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)\s*$`)
	wrkNon2xxLine   = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$`)
	wrkSocketLine   = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$`)
)

// parseWrk reads wrk's text report.
func parseWrk(out []byte) (report, error) {
	var r report
	m := wrkRequestsLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk: no \"N requests in\" line in its output")
	}
	r.Requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	m = wrkRateLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk: no \"Requests/sec:\" line in its output")
	}
	r.Throughput, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := wrkNon2xxLine.FindSubmatch(out); m != nil {
		n, _ := strconv.ParseInt(string(m[1]), 10, 64)
		r.Errors += n
	}
	if m := wrkSocketLine.FindSubmatch(out); m != nil {
		for _, g := range m[1:] {
			n, _ := strconv.ParseInt(string(g), 10, 64)
			r.Errors += n
		}
	}
	return r, nil
}

// parseVegeta reads `vegeta report -type=json`.
func parseVegeta(out []byte) (report, error) {
	var m struct {
		Requests   *int64  `json:"requests"`
		Throughput float64 `json:"throughput"`
		Success    float64 `json:"success"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil {
		return report{}, fmt.Errorf("vegeta report: %w", err)
	}
	if m.Requests == nil {
		return report{}, fmt.Errorf("vegeta report: no \"requests\" field")
	}
	failed := float64(*m.Requests) * (1 - m.Success)
	return report{Requests: *m.Requests, Throughput: m.Throughput, Errors: int64(failed + 0.5)}, nil
}

// parseHeadroom reads the summary of `headroom run --out` JSON.
func parseHeadroom(out []byte) (report, error) {
	var m struct {
		Summary *struct {
			Requests      int64   `json:"requests"`
			Errors        int64   `json:"errors"`
			ThroughputRPS float64 `json:"throughput_rps"`
		} `json:"summary"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return report{}, fmt.Errorf("headroom --out: %w", err)
	}
	if m.Summary == nil {
		return report{}, fmt.Errorf("headroom --out: no \"summary\" object")
	}
	return report{Requests: m.Summary.Requests, Throughput: m.Summary.ThroughputRPS, Errors: m.Summary.Errors}, nil
}

// usage is what `/usr/bin/time -v` measured of a process and its children.
type usage struct {
	CPU      time.Duration // user + system
	Wall     time.Duration
	MaxRSSKB int64 // largest resident set of any one process
	// PeakAnonKB is the largest anonymous resident memory of any one
	// process, sampled from /proc (watchAnon): not GNU time's.
	PeakAnonKB int64
	Exit       int
}

// wallClock is the start of GNU time's wall-time line, whose name goes on
// with the clock's format ("(h:mm:ss or m:ss)").
const wallClock = "Elapsed (wall clock) time"

// parseTimeV reads GNU time's -v report. Its wall time has a resolution
// of 10 ms, so a process that ends sooner reads 0.
func parseTimeV(out []byte) (usage, error) {
	var u usage
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, value, ok := strings.Cut(strings.TrimSpace(sc.Text()), ": ")
		if !ok {
			continue
		}
		var err error
		switch {
		case name == "User time (seconds)" || name == "System time (seconds)":
			var s float64
			s, err = strconv.ParseFloat(value, 64)
			u.CPU += seconds(s)
		case strings.HasPrefix(name, "Elapsed (wall clock) time"):
			u.Wall, err = parseClock(value)
			name = wallClock
		case name == "Maximum resident set size (kbytes)":
			u.MaxRSSKB, err = strconv.ParseInt(value, 10, 64)
		case name == "Exit status":
			u.Exit, err = strconv.Atoi(value)
		default:
			continue
		}
		if err != nil {
			return u, fmt.Errorf("time -v: %s: %w", name, err)
		}
		seen[name] = true
	}
	for _, need := range []string{"User time (seconds)", "System time (seconds)", wallClock, "Maximum resident set size (kbytes)"} {
		if !seen[need] {
			return u, fmt.Errorf("time -v: no %q line", need)
		}
	}
	return u, nil
}

// parseClock reads GNU time's "h:mm:ss" or "m:ss.ss".
func parseClock(s string) (time.Duration, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, fmt.Errorf("%q is not h:mm:ss or m:ss", s)
	}
	var total float64
	for _, p := range parts {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not h:mm:ss or m:ss", s)
		}
		total = total*60 + v
	}
	return seconds(total), nil
}

// seconds converts GNU time's decimal seconds, rounded to the millisecond.
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// targetCounts is the JSON line bench/target prints when it stops.
type targetCounts struct {
	Requests    int64 `json:"requests"`
	Connections int64 `json:"connections"`
}

func parseTargetCounts(out []byte) (targetCounts, error) {
	var c targetCounts
	if err := json.Unmarshal(bytes.TrimSpace(out), &c); err != nil {
		return c, fmt.Errorf("target count %q: %w", bytes.TrimSpace(out), err)
	}
	return c, nil
}

// parseFortio reads fortio's -json report: ActualQPS, the duration
// histogram's count, and the return codes (2xx and 3xx succeed; fortio
// records a socket error as code -1).
func parseFortio(out []byte) (report, error) {
	var m struct {
		ActualQPS         *float64 `json:"ActualQPS"`
		DurationHistogram *struct {
			Count int64 `json:"Count"`
		} `json:"DurationHistogram"`
		RetCodes map[string]int64 `json:"RetCodes"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		return report{}, fmt.Errorf("fortio -json: %w", err)
	}
	if m.ActualQPS == nil || m.DurationHistogram == nil {
		return report{}, fmt.Errorf("fortio -json: no \"ActualQPS\" or \"DurationHistogram\"")
	}
	var ok int64
	for code, n := range m.RetCodes {
		if c, err := strconv.Atoi(code); err == nil && c >= 200 && c < 400 {
			ok += n
		}
	}
	r := report{Requests: m.DurationHistogram.Count, Throughput: *m.ActualQPS}
	r.Errors = max(r.Requests-ok, 0)
	return r, nil
}

var (
	h2loadRateLine     = regexp.MustCompile(`(?m)^finished in [0-9.]+\w+, ([0-9.]+) req/s,`)
	h2loadRequestsLine = regexp.MustCompile(`(?m)^requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded,`)
)

// parseH2load reads h2load's text report: the rate of its "finished in"
// line, and the requests done and succeeded.
func parseH2load(out []byte) (report, error) {
	var r report
	m := h2loadRateLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("h2load: no \"finished in ..., N req/s\" line in its output")
	}
	r.Throughput, _ = strconv.ParseFloat(string(m[1]), 64)
	m = h2loadRequestsLine.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("h2load: no \"requests:\" line in its output")
	}
	r.Requests, _ = strconv.ParseInt(string(m[1]), 10, 64)
	ok, _ := strconv.ParseInt(string(m[2]), 10, 64)
	r.Errors = max(r.Requests-ok, 0)
	return r, nil
}
