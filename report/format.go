package report

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// fmtFloat writes v with at most two decimals, trailing zeros cut; large
// values get no decimals.
func fmtFloat(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "n/a"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case math.Abs(v) >= 1 || v == 0:
		return trimZeros(strconv.FormatFloat(v, 'f', 2, 64))
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 4, 64))
}

// fmtSci writes small coefficients (the USL's σ and κ) readably.
func fmtSci(v float64) string {
	if v != 0 && math.Abs(v) < 0.001 {
		return strconv.FormatFloat(v, 'e', 2, 64)
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 4, 64))
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// fmtMs writes a latency in milliseconds.
func fmtMs(v float64) string { return fmtFloat(v) + " ms" }

// fmtPct writes a fraction as a percentage.
func fmtPct(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	p := 100 * f
	if p != 0 && math.Abs(p) < 0.1 {
		return trimZeros(strconv.FormatFloat(p, 'f', 3, 64)) + "%"
	}
	return trimZeros(strconv.FormatFloat(p, 'f', 2, 64)) + "%"
}

// fmtRPS writes a rate in requests per second.
func fmtRPS(v float64) string { return fmtFloat(v) + " req/s" }

// fmtTime writes a wall-clock time in UTC.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// fmtClock writes a time of day in UTC.
func fmtClock(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("15:04:05")
}

// fmtDur writes a duration rounded to the second (or ms below one second).
func fmtDur(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
