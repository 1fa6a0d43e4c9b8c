package main

import (
	"fmt"
	"strconv"
)

// fmtMs prints milliseconds with a unit that keeps 3 significant digits.
func fmtMs(ms float64) string {
	switch {
	case ms == 0:
		return "-"
	case ms < 1:
		return fmt.Sprintf("%.0fµs", ms*1000)
	case ms < 1000:
		return fmt.Sprintf("%.3gms", ms)
	}
	return fmt.Sprintf("%.3gs", ms/1000)
}

func fmtPct(f float64) string {
	if f == 0 {
		return "0%"
	}
	return strconv.FormatFloat(f*100, 'f', 2, 64) + "%"
}
