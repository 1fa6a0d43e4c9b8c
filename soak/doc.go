// Package soak judges a long steady run: for each signal (resident memory,
// live heap, goroutines, open files, pooled connections in use, p99, error
// rate, and Headroom's own memory) it fits a robust trend — the Theil–Sen
// slope with Sen's 95% confidence interval — and says whether the signal
// grows without levelling off ("leak"), holds ("flat"), or could not be
// read ("not available"), and, where a limit is known, when it would be
// reached.
//
//	res := soak.Analyze(ctx, soak.Input{
//		Prometheus: p.Observe.Prometheus, Selector: p.Observe.Selector,
//		From: holdStart, To: holdEnd, Seconds: run.Seconds,
//	})
//	for _, s := range res.Signals {
//		fmt.Println(s.Sentence()) // "memory grows 38 MB/h (95% CI 35–41 MB/h); reaches the 512 MiB limit in about 7.5 h"
//	}
package soak
