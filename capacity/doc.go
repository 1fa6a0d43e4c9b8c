// Package capacity finds how much load a service carries and what that
// means for scaling: the IPEEPAC capacity study.
//
// A study starts with a baseline step at capacity.start_rate, doubles the
// offered rate until a step is unacceptable, then narrows the bracket
// [highest acceptable, lowest unacceptable] by binary search to
// capacity.precision. A step is acceptable when every SLO of the plan
// holds over its measured part (the warm-up excluded, percentiles from
// merged HDR histograms) and the generator kept up; without SLOs, when
// neither its p99 nor its error rate doubled against the baseline. Steps
// that are clearly unacceptable stop early, and the service cools down
// after each unacceptable step. abort.max_rate is never exceeded.
//
// Around the capacity the study applies Little's Law (L = X × W, and
// N = X × (R + Z) for the closed model), fits the Universal Scalability
// Law, predicts N instances and verifies the prediction against a
// balancer, stresses the service past its unacceptable point and times its
// recovery, and recommends an autoscaling threshold and instance counts
// with their arithmetic.
//
// Every figure is one a reviewer can re-derive from the steps. Capacity
// and the unacceptable point are the throughput their steps measured
// (requests completed per measured second); only a step that measured
// nothing is converted from iterations/s, and says so. The USL is fitted
// over steady steps only — not stopped early, not generator-limited, no
// trend in their in-flight count (see Steadiness) — and a peak beyond the
// measured concurrencies, or above the unacceptable point, is labelled.
// A step stopped early while the generator was behind stays
// generator-limited. Recovery after stress means back within every SLO,
// error rate included. When verification measured sub-linear scaling, the
// recommendation's threshold and instance counts come from the
// per-instance rate measured at N instances.
//
// The package sends load only through a Prober, so the search can be
// tested with fakes; NewProber adapts the generator:
//
//	p, err := plan.LoadFile("plan.yaml")
//	if err != nil {
//		return err
//	}
//	study, err := capacity.Run(ctx, p, capacity.NewProber(p, nil), capacity.Options{})
//	if err != nil {
//		return err
//	}
//	fmt.Printf("one instance carries %.0f req/s\n", study.Capacity.SingleInstanceRPS)
//
// Find runs the search alone, FitUSL and Recommend are the math on their
// own.
package capacity
