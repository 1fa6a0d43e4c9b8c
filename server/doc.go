// Package server is Headroom as a service: the HTTP API under /api/v1 (Echo),
// bearer tokens with roles, the job runner that drives pipeline.Run and
// pipeline.Study and writes every window to the store as it arrives,
// server-sent events per job, and /metrics with the live load of running
// jobs.
//
//	st, _ := store.Open(ctx, "headroom.db", store.Options{})
//	srv, _ := server.New(st, server.Config{Allow: []string{"127.0.0.1"}})
//	ln, _ := net.Listen("tcp", "127.0.0.1:8080")
//	err := srv.Serve(ctx, ln) // until ctx ends; running jobs end as cancelled
package server
