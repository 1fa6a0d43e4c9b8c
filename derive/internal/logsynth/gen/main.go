// Command gen writes a synthetic combined-format access log to stdout:
//
//	go run ./derive/internal/logsynth/gen -lines 5000000 | headroom plan from-logs -
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/headroom-sre/headroom/derive/internal/logsynth"
)

func main() {
	lines := flag.Int("lines", 1000000, "lines to write")
	rate := flag.Float64("rate", 60, "mean requests per second")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *lines < 0 || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "gen: -lines must be ≥ 0 and -rate > 0")
		os.Exit(2)
	}
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := logsynth.Write(os.Stdout, *lines, start, *rate, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
