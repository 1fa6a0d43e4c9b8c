package soak

import (
	"fmt"
	"math"
	"strconv"
)

// Sentence says a signal's verdict in words, with its arithmetic:
// "memory grows 38 MiB/h (95% CI 35–41 MiB/h): 12 MiB over the soak, above
// the 5 MiB that counts; reaches the 512 MiB limit in about 7.5 h".
func (s Signal) Sentence() string {
	switch s.Verdict {
	case NotAvailable:
		return fmt.Sprintf("%s: not available (%s)", s.Name, s.Note)
	case Leak:
		out := fmt.Sprintf("%s grows %s/h (95%% CI %s–%s/h): %s over the soak, above the %s that counts",
			s.Name, FormatValue(s.SlopePerHour, s.Unit), FormatValue(s.CILow, s.Unit), FormatValue(s.CIHigh, s.Unit),
			FormatValue(s.Growth, s.Unit), FormatValue(s.Threshold, s.Unit))
		if s.Limit > 0 {
			out += fmt.Sprintf("; reaches the %s limit in about %s h", FormatValue(s.Limit, s.Unit), strconv.FormatFloat(s.HoursToLimit, 'f', 1, 64))
		}
		if s.Note != "" {
			out += " (" + s.Note + ")"
		}
		return out
	}
	out := fmt.Sprintf("%s flat at %s: slope %s/h (95%% CI %s to %s/h), %s over the soak, under the %s that counts",
		s.Name, FormatValue(s.Level, s.Unit), FormatValue(s.SlopePerHour, s.Unit), FormatValue(s.CILow, s.Unit),
		FormatValue(s.CIHigh, s.Unit), FormatValue(s.Growth, s.Unit), FormatValue(s.Threshold, s.Unit))
	if s.Note != "" {
		out += " (" + s.Note + ")"
	}
	return out
}

// FormatValue writes v in unit for people: bytes as KiB/MiB/GiB, ratios
// as percentages, ms with their unit, counts bare.
func FormatValue(v float64, unit string) string {
	switch unit {
	case "bytes":
		a := math.Abs(v)
		switch {
		case a >= 1<<30:
			return trim(v/(1<<30)) + " GiB"
		case a >= 1<<20:
			return trim(v/(1<<20)) + " MiB"
		case a >= 1<<10:
			return trim(v/(1<<10)) + " KiB"
		}
		return trim(v) + " B"
	case "ratio":
		return trim(v*100) + "%"
	case "ms":
		return trim(v) + " ms"
	}
	return trim(v)
}

// trim writes v with three significant digits.
func trim(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
