package shop

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// batchTimeout is how long finished spans wait before they are exported:
// short, so a trace is searchable in Tempo about a second after a request.
const batchTimeout = 200 * time.Millisecond

// tracing is the shop's trace pipeline: a tracer, the propagator that
// continues the caller's traceparent, and what to flush on shutdown.
type tracing struct {
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// newTracing exports to cfg.SpanExporter, else to the OTLP/HTTP receiver at
// cfg.OTLPEndpoint, else nowhere (a no-op tracer).
func newTracing(ctx context.Context, cfg Config) (tracing, error) {
	t := tracing{
		propagator: propagation.TraceContext{},
		shutdown:   func(context.Context) error { return nil },
	}
	exporter := cfg.SpanExporter
	if exporter == nil && cfg.OTLPEndpoint != "" {
		var err error
		exporter, err = otlptracehttp.New(ctx,
			otlptracehttp.WithEndpoint(cfg.OTLPEndpoint),
			otlptracehttp.WithInsecure(),
			otlptracehttp.WithTimeout(5*time.Second))
		if err != nil {
			return t, fmt.Errorf("shop: otlp %s: %w", cfg.OTLPEndpoint, err)
		}
	}
	if exporter == nil {
		t.tracer = noop.NewTracerProvider().Tracer("shop")
		return t, nil
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", cfg.ServiceName),
		attribute.String("service.instance.id", cfg.Instance),
	)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(res),
		sdktrace.WithBatcher(exporter, sdktrace.WithBatchTimeout(batchTimeout)),
	)
	t.tracer = tp.Tracer("github.com/headroom-sre/headroom/demo/shop")
	t.shutdown = tp.Shutdown
	return t, nil
}

// dbtx is what a query needs: the pool or one transaction.
type dbtx interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// dbSpan starts the child span of one query: named by its verb and table,
// carrying db.system and db.statement.
func (s *Server) dbSpan(ctx context.Context, stmt string) (context.Context, trace.Span) {
	return s.tracing.tracer.Start(ctx, spanName(stmt),
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("db.system", s.dbSys),
			attribute.String("db.statement", stmt),
		))
}

func endSpan(span trace.Span, err error) {
	if err != nil && err != sql.ErrNoRows {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// queryRow runs a one-row query and scans it inside its span.
func (s *Server) queryRow(ctx context.Context, q dbtx, stmt string, args []any, dest ...any) error {
	stmt = s.bind(stmt)
	return s.onConn(ctx, q, func(q dbtx) error {
		ctx, span := s.dbSpan(ctx, stmt)
		err := q.QueryRowContext(ctx, stmt, args...).Scan(dest...)
		endSpan(span, err)
		return err
	})
}

// queryRows runs a query and calls each for every row, inside its span.
func (s *Server) queryRows(ctx context.Context, q dbtx, stmt string, args []any, each func(*sql.Rows) error) error {
	stmt = s.bind(stmt)
	return s.onConn(ctx, q, func(q dbtx) error {
		ctx, span := s.dbSpan(ctx, stmt)
		err := func() error {
			rows, err := q.QueryContext(ctx, stmt, args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if err := each(rows); err != nil {
					return err
				}
			}
			return rows.Err()
		}()
		endSpan(span, err)
		return err
	})
}

// exec runs a statement inside its span.
func (s *Server) exec(ctx context.Context, q dbtx, stmt string, args ...any) (sql.Result, error) {
	stmt = s.bind(stmt)
	var res sql.Result
	err := s.onConn(ctx, q, func(q dbtx) error {
		ctx, span := s.dbSpan(ctx, stmt)
		var err error
		res, err = q.ExecContext(ctx, stmt, args...)
		endSpan(span, err)
		return err
	})
	return res, err
}

// bind writes stmt's placeholders in the database's own form.
func (s *Server) bind(stmt string) string {
	if s.pg {
		return rebind(stmt)
	}
	return stmt
}

// spanName is "SELECT products" for "SELECT ... FROM products ...".
func spanName(stmt string) string {
	f := strings.Fields(stmt)
	if len(f) == 0 {
		return "db"
	}
	verb := strings.ToUpper(f[0])
	for i, w := range f {
		switch strings.ToUpper(w) {
		case "FROM", "INTO", "UPDATE":
			if i+1 < len(f) {
				return verb + " " + strings.Trim(f[i+1], "(,")
			}
		}
	}
	return verb
}
