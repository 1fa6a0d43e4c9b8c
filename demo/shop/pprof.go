package shop

import (
	"net/http"
	"net/http/pprof"
)

// PprofHandler serves the Go runtime's profiles under /debug/pprof/
// (CPU over ?seconds=N, heap, allocs, mutex, block, goroutine…) on a mux
// of its own: it is meant for a listener of its own, so profile requests
// are neither traced nor counted in the shop's request metrics. Mutex and
// block profiling are turned on by the caller (runtime.SetMutexProfileFraction,
// runtime.SetBlockProfileRate) when it wants them.
func PprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
