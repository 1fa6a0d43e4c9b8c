package shop

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Span names and attributes of the database pool and of transactions, so a
// trace shows how long a request waited for a connection and how long it
// held one.
const (
	// poolWaitSpan covers the wait for a connection from the pool: from
	// asking the pool to having a connection (near zero when one is idle).
	poolWaitSpan = "db.pool.wait"
	// txSpan covers one transaction from BEGIN to COMMIT or ROLLBACK: the
	// time it holds its connection (and, with _txlock=immediate, the write
	// lock). Its statements are its child spans.
	txSpan = "db.transaction"

	attrPoolMax    = "db.pool.max_open"    // pool size when the wait began
	attrPoolInUse  = "db.pool.in_use"      // connections in use when the wait began
	attrPoolIdle   = "db.pool.idle"        // idle connections when the wait began
	attrTxName     = "db.transaction.name" // what the transaction does, e.g. "place order"
	attrTxOutcome  = "db.transaction.outcome"
	attrTxStmts    = "db.transaction.statements"
	outcomeCommit  = "commit"
	outcomeRollbck = "rollback"
)

// onConn runs run on q; when q is the pool itself, on a connection taken
// from it inside a db.pool.wait span and returned when run ends, so the
// statement's span is the time it held the connection.
func (s *Server) onConn(ctx context.Context, q dbtx, run func(dbtx) error) error {
	if db, ok := q.(*sql.DB); !ok || db != s.db {
		return run(q)
	}
	c, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return run(c)
}

// acquire takes a connection from the pool inside a db.pool.wait span that
// records the pool's state when the wait began.
func (s *Server) acquire(ctx context.Context) (*sql.Conn, error) {
	st := s.db.Stats()
	_, span := s.tracing.tracer.Start(ctx, poolWaitSpan,
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(
			attribute.String("db.system", s.dbSys),
			attribute.Int(attrPoolMax, st.MaxOpenConnections),
			attribute.Int(attrPoolInUse, st.InUse),
			attribute.Int(attrPoolIdle, st.Idle),
		))
	c, err := s.db.Conn(ctx)
	endSpan(span, err)
	return c, err
}

// tracedTx is one transaction on its own pooled connection, traced as a
// db.transaction span from BEGIN to COMMIT or ROLLBACK. It is a dbtx: the
// statements run through it count towards db.transaction.statements.
type tracedTx struct {
	tx    *sql.Tx
	conn  *sql.Conn
	span  trace.Span
	stmts atomic.Int64
	done  bool
}

// beginTx waits for a connection (db.pool.wait), begins a transaction on it
// and returns the context its statements' spans are children of. The
// caller must Commit or Rollback (Rollback after Commit is a no-op).
func (s *Server) beginTx(ctx context.Context, name string) (context.Context, *tracedTx, error) {
	c, err := s.acquire(ctx)
	if err != nil {
		return ctx, nil, err
	}
	txCtx, span := s.tracing.tracer.Start(ctx, txSpan,
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(
			attribute.String("db.system", s.dbSys),
			attribute.String(attrTxName, name),
		))
	tx, err := c.BeginTx(txCtx, nil)
	if err != nil {
		span.SetAttributes(attribute.String(attrTxOutcome, outcomeRollbck))
		endSpan(span, err)
		c.Close()
		return ctx, nil, err
	}
	return txCtx, &tracedTx{tx: tx, conn: c, span: span}, nil
}

// Commit commits, ends the span and returns the connection to the pool.
func (t *tracedTx) Commit() error {
	if t.done {
		return sql.ErrTxDone
	}
	err := t.tx.Commit()
	t.finish(outcomeCommit, err)
	return err
}

// Rollback rolls back unless the transaction already ended (then it does
// nothing), so it can be deferred.
func (t *tracedTx) Rollback() error {
	if t.done {
		return nil
	}
	err := t.tx.Rollback()
	if errors.Is(err, sql.ErrTxDone) {
		err = nil // database/sql rolled it back when the context ended
	}
	t.finish(outcomeRollbck, err)
	return err
}

func (t *tracedTx) finish(outcome string, err error) {
	t.done = true
	t.span.SetAttributes(attribute.String(attrTxOutcome, outcome), attribute.Int64(attrTxStmts, t.stmts.Load()))
	if err != nil {
		t.span.RecordError(err)
		t.span.SetStatus(codes.Error, err.Error())
	}
	t.span.End()
	t.conn.Close()
}

// ExecContext runs a statement in the transaction.
func (t *tracedTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	t.stmts.Add(1)
	return t.tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (t *tracedTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	t.stmts.Add(1)
	return t.tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a one-row query in the transaction.
func (t *tracedTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	t.stmts.Add(1)
	return t.tx.QueryRowContext(ctx, query, args...)
}

var _ dbtx = (*tracedTx)(nil)
