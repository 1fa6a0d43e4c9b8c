// Package fleet is the demo's autoscaled fleet: a front that spreads
// requests over demo shop instances and starts and stops them between a
// minimum and a maximum as Kubernetes' horizontal pod autoscaler does —
// desired = ⌈current × metric ÷ target⌉ on the request rate per instance
// over a window, no change within a tolerance, scale-down only to the
// highest recommendation of a stabilisation window — each new instance
// serving only after a startup delay. It exports its replica counts under
// kube-state-metrics' names, so the queries that read a Kubernetes
// deployment's replicas read the fleet's.
//
//	f, err := fleet.New(ctx, fleet.Config{Min: 1, Max: 4, Startup: 10 * time.Second, TargetRPS: 30,
//		Shop: shop.Config{Capacity: 2, ServiceTime: 50 * time.Millisecond}})
//	go f.Serve(ln)
//	defer f.Shutdown(ctx)
package fleet
