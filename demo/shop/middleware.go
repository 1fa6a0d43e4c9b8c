package shop

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/headroom-sre/headroom/demo/internal/httpstatus"
)

// metricsRoute is the Prometheus scrape endpoint; it is not traced.
const metricsRoute = "GET /metrics"

// untraced is the tracer of routes that make no spans.
var untraced = noop.NewTracerProvider().Tracer("")

// instrument wraps the handler of one route: the in-flight gauge, a server
// span named by the route pattern continuing the caller's traceparent, the
// duration histogram by route and code; for /v1 routes (applyKnobs) also
// the capacity limit and the per-request cpu_burn and alloc knobs.
func (s *Server) instrument(route string, applyKnobs bool, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if route != metricsRoute {
			// A scrape would count itself: every sample one too high, and a
			// cap of one slot would read as two.
			s.metrics.inFlight.Inc()
			defer s.metrics.inFlight.Dec()
		}

		ctx := s.tracing.propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		tracer := s.tracing.tracer
		if route == metricsRoute {
			// Every scrape would be a trace of its own: thousands in a study,
			// crowding the requests' traces out of the trace store.
			tracer = untraced
		}
		ctx, span := tracer.Start(ctx, route,
			trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(
				attribute.String("http.request.method", r.Method),
				attribute.String("http.route", route),
				attribute.String("url.path", r.URL.Path),
				attribute.String("service.instance.id", s.cfg.Instance),
			))
		sw := &httpstatus.Recorder{ResponseWriter: w}
		r = r.WithContext(ctx)
		if applyKnobs {
			s.serveLimited(sw, r, h)
		} else {
			h(sw, r)
		}
		if sw.Code == 0 {
			sw.Code = http.StatusOK
		}
		span.SetAttributes(attribute.Int("http.response.status_code", sw.Code))
		if sw.Code >= 500 {
			span.SetStatus(codes.Error, http.StatusText(sw.Code))
		}
		span.End()
		s.metrics.duration.WithLabelValues(route, strconv.Itoa(sw.Code)).Observe(time.Since(start).Seconds())
	})
}

// serveLimited admits the request under the capacity knob, applies the
// cpu_burn and alloc knobs, then runs h.
func (s *Server) serveLimited(w http.ResponseWriter, r *http.Request, h http.HandlerFunc) {
	if l := s.limit.Load(); l != nil {
		err := s.waitForSlot(r.Context(), l)
		switch {
		case errors.Is(err, errQueueFull):
			writeError(w, http.StatusServiceUnavailable, "over capacity: the request queue is full")
			return
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, "gave up waiting for capacity: "+err.Error())
			return
		}
		defer l.release()
	}
	if s.inHandler != nil {
		s.inHandler(r.Context())
	}
	k := s.Knobs()
	if k.CPUBurn > 0 || k.Alloc > 0 {
		_, span := s.tracing.tracer.Start(r.Context(), "work")
		_ = burnCPU(k.CPUBurn)
		s.garbage.alloc(k.Alloc)
		s.metrics.allocBytes.Add(float64(k.Alloc))
		span.End()
	}
	if k.MutexHold > 0 {
		s.shared.hold(k.MutexHold)
	}
	if k.ServiceTime > 0 {
		serviceTime(r.Context(), s.tracing.tracer, k.ServiceTime)
	}
	if k.Leak > 0 {
		s.metrics.leakedBytes.Add(float64(s.leaked.keep(k.Leak)))
	}
	h(w, r)
}

func (s *Server) waitForSlot(ctx context.Context, l *limiter) error {
	ctx, span := s.tracing.tracer.Start(ctx, "capacity queue")
	defer span.End()
	return l.acquire(ctx, s.metrics.queued.Add)
}
