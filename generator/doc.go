// Package generator is Headroom's load engine: it sends a plan's load
// profile to the system under test and measures it, one second at a time.
//
// Two models drive the load. The open model (load.model: open) schedules
// iterations at the rate the stages give, ramping linearly from the previous
// target; each iteration is due at its exact time (from the integral of the
// rate) and goes to a free virtual user from a pool that grows up to
// load.max_vus. With no user free the iteration is dropped and counted, never
// delayed, and the first request of an iteration is timed from when it was
// due, so a stalled service shows in the percentiles instead of hiding behind
// a slower send rate (coordinated omission). The closed model (load.model:
// closed) runs as many virtual users as the stages say, each looping over
// journeys with think time.
//
// Each iteration is one journey, picked by weight; its steps are templated
// requests (text/template with randInt, randString, uuid and the fields
// .data.<source>.<column>, .vars.<name>, .env.<NAME>) with checks and
// extractions. Every request carries a fresh W3C traceparent, and each
// window keeps the trace IDs of its slowest requests as exemplars.
//
// Outcomes are recorded into a few sharded HDR histograms (µs, 1 µs – 1 h, 3
// significant digits) and merged once a second into a Second, which is
// handed to Options.OnSecond and kept as a compact SecondRecord; memory does
// not grow with the length of a run beyond those records. Every window is
// one second long except the last, which lasts 0.25 to 1.25 s (a shorter
// remainder joins the window before it); rates come from Second.Duration.
// Abort rules (abort.error_rate and abort.p99 held for abort.for) stop a
// run by themselves; Result.Aborted says why. abort.max_rate caps the
// iterations started per second in both models (Result.CappedAt when it
// held the load back). Requests the end of a run cuts off are counted in
// the class "cancelled", in neither the requests nor the errors.
//
// A run:
//
//	p, err := plan.LoadFile("plan.yaml")
//	if err != nil {
//		return err
//	}
//	res, err := generator.Run(ctx, p, generator.Options{
//		OnSecond: func(s generator.Second) {
//			fmt.Printf("%v %d req p99 %.1f ms\n", s.Start, s.Total.Requests, s.Total.Latency.P99)
//		},
//	})
//	if err != nil {
//		return err // a bad plan, option or data file; no load was sent
//	}
//	fmt.Println(res.Summary.ThroughputRPS, res.Summary.Latency.P99, res.Aborted)
//
// Connections: against an http or https target each virtual user holds its
// own kept-alive HTTP/1.1 connection (over crypto/tls for https, sessions
// resumed from a run-wide cache), and writes the request and reads the
// response on its own goroutine (h1.go, h1_tls.go), which costs about half
// the CPU per request of net/http's transport with its reader and writer
// goroutines per connection. An https target whose server picks h2 by ALPN
// gets HTTP/2 streams multiplexed over target.max_conns connections (or one
// per 100 users; h2.go). target.max_conns below the number of users on
// HTTP/1.1, a redirect to another host, and the environment variable
// HEADROOM_HTTP_CLIENT=net/http use net/http's transport instead.
//
// Maximum rate: the leanest way to find the most a target takes is the
// closed model with N users from the start and no think time, for example
// load: {model: closed, start: 64, stages: [{duration: 30s, target: 64}]}.
// Each user then sends its next request as soon as the previous response is
// read, over a kept-alive connection, with no allocation of the engine's own
// beyond the traceparent value. An open-model stage may also ask for a very
// high rate; the iterations no user can take are then counted as dropped.
package generator
