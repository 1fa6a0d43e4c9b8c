// Package compare sets two results side by side, per request name, and
// says whether the second regressed against the first.
//
// Each request name's p50, p95 and p99 (from merged histograms), its
// throughput and its error rate are compared. A change counts only when it
// is both significant — a Mann–Whitney U rank test over the per-second
// values of the two results says the shift is beyond run-to-run noise —
// and large, at least Options.MaxRegression of the baseline's value. The
// verdict is a regression when any of them moved the wrong way by that
// much.
//
//	res, err := compare.Windows(baseline.Windows, current.Windows, compare.Options{MaxRegression: 0.10})
//	if res.Verdict == compare.Regression {
//		for _, r := range res.Reasons {
//			fmt.Println(r) // all p99 41.2ms → 55.0ms (+33.5%, p=0.0001)
//		}
//	}
//
// Artifacts compares two run or study documents: runs by all their
// windows, studies by their single-instance capacity and by the windows
// of the baseline step, which both studies ran at the same rate.
package compare
