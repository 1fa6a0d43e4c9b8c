package profiles

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// what names a kind's total in a sentence.
func (k Kind) what() string {
	switch k {
	case CPU:
		return "CPU"
	case Allocs:
		return "allocated bytes"
	case Heap:
		return "heap growth"
	case Mutex:
		return "lock-wait time"
	case Block:
		return "blocked time"
	}
	return string(k)
}

// Sentence renders a row: "62% of CPU in shop.burnCPU (mostly
// crypto/sha256.block) under shop.(*Server).serveLimited (+48 points
// against the baseline; 1.9 ms per request)".
func (d Diff) Sentence(r Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.0f%% of %s in %s", 100*r.Own, d.Kind.what(), Short(r.Name))
	if r.Mostly != "" {
		fmt.Fprintf(&b, " (mostly %s)", Short(r.Mostly))
	}
	if r.Under != "" {
		fmt.Fprintf(&b, " under %s", Short(r.Under))
	}
	var notes []string
	if d.HasBaseline {
		notes = append(notes, fmt.Sprintf("%+.0f points against the baseline", r.Points))
	}
	if !math.IsNaN(r.PerRequest) {
		notes = append(notes, FormatValue(r.PerRequest, d.Unit)+" per request")
	}
	if len(notes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(notes, "; "))
	}
	return b.String()
}

// FormatValue renders v of a profile unit (nanoseconds, bytes, count).
func FormatValue(v float64, unit string) string {
	switch unit {
	case "nanoseconds":
		switch ms := v / float64(time.Millisecond); {
		case ms >= 1000:
			return fmt.Sprintf("%.2f s", ms/1000)
		case ms >= 10:
			return fmt.Sprintf("%.0f ms", ms)
		case ms >= 0.1:
			return fmt.Sprintf("%.1f ms", ms)
		default:
			return fmt.Sprintf("%.0f µs", v/float64(time.Microsecond))
		}
	case "bytes":
		switch {
		case v >= 1<<20:
			return fmt.Sprintf("%.1f MiB", v/(1<<20))
		case v >= 1<<10:
			return fmt.Sprintf("%.1f KiB", v/(1<<10))
		default:
			return fmt.Sprintf("%.0f B", v)
		}
	}
	return fmt.Sprintf("%.3g %s", v, unit)
}
