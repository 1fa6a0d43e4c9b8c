// Package front is the demo's load balancer: a round-robin reverse proxy in
// front of N shop instances, the "N-instance" system a capacity study
// verifies its extrapolation against.
//
// Requests go to the backends in turn, or, with Config.Weights, in
// proportion to their weights (smooth weighted round-robin: a deliberately
// unbalanced front, to show a study naming the busiest instance). A
// backend that refuses connections is skipped for a short while
// (Config.DeadFor) and the request is retried on the next one, since
// nothing reached the refusing backend. Headers,
// traceparent included, pass through unchanged. The front answers /metrics
// (requests, errors and weight per backend) and /healthz itself.
//
//	f, err := front.New(front.Config{Backends: []string{"http://127.0.0.1:18082", "http://127.0.0.1:18083"}})
//	if err != nil { ... }
//	go f.Serve(ln)
//	defer f.Shutdown(ctx)
//
// It is a demo: the product packages never import it.
package front
