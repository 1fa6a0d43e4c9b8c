package main

import "fmt"

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
