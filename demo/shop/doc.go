// Package shop is Headroom's demo system under test: a small e-commerce API
// (login, catalogue, cart, coupons, checkout, orders) on SQLite, instrumented
// with Prometheus metrics and OpenTelemetry traces, with fault knobs that
// produce the bottlenecks a capacity study should find.
//
// It is a demo: the product packages (plan, generator, capacity, correlate,
// ...) never import it. Tests and integration tests start it in-process:
//
//	srv, err := shop.New(ctx, shop.Config{Products: 2000, Users: 200})
//	if err != nil { ... }
//	ts := httptest.NewServer(srv.Handler())
//	defer srv.Shutdown(context.Background())
//	srv.SetKnobs(shop.Knobs{Pool: 2, NPlusOne: true})
//
// Several instances may share one SQLite file (Config.DBPath) in WAL mode:
// the first to start creates the schema and seeds the data inside one
// write transaction, the others find it seeded and reuse it. Sessions and
// carts live in the database, so a round-robin front can spread one user's
// journey over all instances.
//
// Seeded users are user0001@shop.test … user%04d@shop.test (Config.Users of
// them), all with the password "secret"; the coupon code is SAVE10.
package shop
