// Package obs starts and stops Headroom's observability stack — Prometheus
// and the Jaeger trace store, on free loopback ports — from Go tests, through
// the same scripts/obs-up and scripts/obs-down that the demo uses, so the
// configs have one source: the templates in scripts/obs/.
//
// A test that needs the stack:
//
//	func TestShopIsScraped(t *testing.T) {
//		obs.Require(t) // fails (or skips with HEADROOM_SKIP_OBS=1) when it cannot run
//		stack, err := obs.Start(ctx, obs.Config{Dir: t.TempDir(), ScrapeShop: []string{shopAddr}})
//		if err != nil {
//			t.Fatal(err)
//		}
//		t.Cleanup(func() { _ = stack.Stop() })
//		err = stack.WaitForSeries(ctx, `http_request_duration_seconds_count{job="shop"}`)
//		...
//	}
//
// The binaries come from scripts/obs-deps (make obs-deps): Debian's
// prometheus package and a Jaeger server built once into .cache/jaeger/.
package obs
