// Package pgexplain asks PostgreSQL how it runs a statement and whether an
// index would help: EXPLAIN (FORMAT JSON) of the statement's generic plan
// (parameters stay parameters), and, where the plan scans a large table to
// filter or sort, a hypothetical index (HypoPG) on the columns it filters
// and sorts on, with the planner's estimated cost before and after.
//
// Everything runs inside one READ ONLY transaction that is rolled back,
// with a statement timeout: no real index is ever created, no row written.
// EXPLAIN ANALYZE runs only for a SELECT without parameters.
//
//	advice, notAvailable := pgexplain.Advise(ctx, dsn, []string{
//		"SELECT id FROM orders WHERE user_id = $1 ORDER BY created_at DESC LIMIT 5"}, pgexplain.Options{})
//	// advice[0].Index.Text() == "orders (user_id, created_at DESC)"
package pgexplain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options bound the work. Zero values mean the defaults.
type Options struct {
	// StatementTimeout bounds each EXPLAIN; default 5s.
	StatementTimeout time.Duration
	// LargeRows is the row count from which a sequential scan is worth an
	// index; default 10,000.
	LargeRows float64
}

func (o Options) withDefaults() Options {
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = 5 * time.Second
	}
	if o.LargeRows <= 0 {
		o.LargeRows = 10_000
	}
	return o
}

// Advice is what PostgreSQL says about one statement.
type Advice struct {
	Statement string  `json:"statement"`
	Cost      float64 `json:"cost"`                // the planner's total cost of the generic plan
	ActualMs  float64 `json:"actual_ms,omitempty"` // EXPLAIN ANALYZE's execution time, when it ran
	Scan      *Scan   `json:"scan,omitempty"`      // the large sequential scan, when there is one
	Index     *Index  `json:"index,omitempty"`     // the index proposed for it
	// CostWithIndex is the estimated cost with the hypothetical index, and
	// UsesIndex whether the planner chose it (zero/false without HypoPG).
	CostWithIndex float64 `json:"cost_with_index,omitempty"`
	UsesIndex     bool    `json:"uses_index,omitempty"`
	// NotAvailable says what could not be done and why ("hypopg: not
	// available: …").
	NotAvailable []string `json:"not_available,omitempty"`
}

// Scan is a sequential scan of a large table.
type Scan struct {
	Table    string   `json:"table"`
	Rows     float64  `json:"rows"`   // the table's estimated rows (pg_class.reltuples)
	Filter   string   `json:"filter"` // the scan's filter, as EXPLAIN prints it
	SortKeys []string `json:"sort_keys,omitempty"`
}

// Index is a proposed index.
type Index struct {
	Table   string   `json:"table"`
	Columns []string `json:"columns"` // "user_id", "created_at DESC"
}

// Text is "orders (user_id, created_at DESC)".
func (ix Index) Text() string { return ix.Table + " (" + strings.Join(ix.Columns, ", ") + ")" }

// DDL is the statement that would create it (shown, never run).
func (ix Index) DDL() string { return "CREATE INDEX ON " + ix.Text() }

// Advise explains each statement on the database at dsn. A failure to
// connect is returned as a not-available line; a statement that cannot be
// explained gets its own line in its Advice.
func Advise(ctx context.Context, dsn string, stmts []string, opts Options) ([]Advice, []string) {
	opts = opts.withDefaults()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, []string{"database: not available: the DSN does not parse (" + redact(err.Error(), dsn) + ")"}
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.ConnectConfig(cctx, cfg)
	cancel()
	if err != nil {
		return nil, []string{"database: not available: cannot connect (" + redact(err.Error(), dsn) + ")"}
	}
	defer conn.Close(context.Background())
	hypo := hasExtension(ctx, conn, "hypopg")
	var out []Advice
	for _, s := range stmts {
		out = append(out, advise(ctx, conn, s, hypo, opts))
	}
	var na []string
	if !hypo {
		na = append(na, "hypopg: not available: the hypopg extension is not installed in this database (CREATE EXTENSION hypopg; Debian: postgresql-15-hypopg): index advice is not tested")
	}
	return out, na
}

// redact keeps a DSN's password out of an error message.
func redact(msg, dsn string) string {
	if cfg, err := pgx.ParseConfig(dsn); err == nil && cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "***")
	}
	return msg
}

func hasExtension(ctx context.Context, conn *pgx.Conn, name string) bool {
	var n int
	err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_extension WHERE extname = '"+name+"'").Scan(&n)
	return err == nil && n > 0
}

var paramRe = regexp.MustCompile(`\$(\d+)`)

// advise explains one statement inside a rolled-back READ ONLY transaction.
func advise(ctx context.Context, conn *pgx.Conn, stmt string, hypo bool, opts Options) Advice {
	a := Advice{Statement: stmt}
	fail := func(what string, err error) Advice {
		a.NotAvailable = append(a.NotAvailable, fmt.Sprintf("explain: not available for %q: %s: %v", short(stmt), what, err))
		return a
	}
	// PREPARE outlives a rollback: deallocated after it (defers run last first).
	defer conn.Exec(context.Background(), "DEALLOCATE ALL")
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return fail("BEGIN READ ONLY", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", opts.StatementTimeout.Milliseconds())); err != nil {
		return fail("statement_timeout", err)
	}
	nparams := 0
	for _, m := range paramRe.FindAllStringSubmatch(stmt, -1) {
		var n int
		fmt.Sscan(m[1], &n)
		nparams = max(nparams, n)
	}
	isSelect := strings.EqualFold(firstWord(stmt), "select")
	var explain string
	if nparams == 0 {
		explain = "EXPLAIN (FORMAT JSON) " + stmt
		if isSelect {
			explain = "EXPLAIN (ANALYZE, FORMAT JSON) " + stmt
		}
	} else {
		// The generic plan: parameters stay unknown, as in a prepared
		// statement run many times.
		if _, err := tx.Exec(ctx, "SET LOCAL plan_cache_mode = force_generic_plan"); err != nil {
			return fail("plan_cache_mode", err)
		}
		if _, err := tx.Exec(ctx, "PREPARE headroom_explain AS "+stmt); err != nil {
			return fail("PREPARE", err)
		}
		nulls := strings.TrimSuffix(strings.Repeat("NULL, ", nparams), ", ")
		explain = "EXPLAIN (FORMAT JSON) EXECUTE headroom_explain(" + nulls + ")"
	}
	plan, err := explainJSON(ctx, tx, explain)
	if err != nil {
		return fail("EXPLAIN", err)
	}
	a.Cost, a.ActualMs = plan.Plan.TotalCost, plan.ExecutionTime
	a.Scan = largestSeqScan(ctx, tx, plan.Plan, opts.LargeRows)
	if a.Scan == nil {
		return a
	}
	a.Index = propose(*a.Scan)
	if a.Index == nil || !hypo {
		return a
	}
	// A hypothetical index: only this backend's planner sees it.
	var oid int64
	var name string
	if err := tx.QueryRow(ctx, "SELECT indexrelid::bigint, indexname FROM hypopg_create_index($1)", a.Index.DDL()).Scan(&oid, &name); err != nil {
		a.NotAvailable = append(a.NotAvailable, "hypopg: not available: "+err.Error())
		return a
	}
	defer tx.Exec(context.Background(), "SELECT hypopg_reset()")
	explainNoAnalyze := strings.Replace(explain, "ANALYZE, ", "", 1)
	if nparams > 0 {
		// The cached generic plan predates the index: plan it again.
		if _, err := tx.Exec(ctx, "DEALLOCATE headroom_explain"); err != nil {
			return fail("DEALLOCATE", err)
		}
		if _, err := tx.Exec(ctx, "PREPARE headroom_explain AS "+stmt); err != nil {
			return fail("PREPARE", err)
		}
	}
	after, err := explainJSON(ctx, tx, explainNoAnalyze)
	if err != nil {
		a.NotAvailable = append(a.NotAvailable, "hypopg: EXPLAIN with the hypothetical index failed: "+err.Error())
		return a
	}
	a.CostWithIndex = after.Plan.TotalCost
	a.UsesIndex = usesIndex(after.Plan, name)
	return a
}

type explainOut struct {
	Plan          node    `json:"Plan"`
	ExecutionTime float64 `json:"Execution Time"`
}

type node struct {
	Type      string   `json:"Node Type"`
	Relation  string   `json:"Relation Name"`
	Schema    string   `json:"Schema"`
	IndexName string   `json:"Index Name"`
	Filter    string   `json:"Filter"`
	SortKey   []string `json:"Sort Key"`
	TotalCost float64  `json:"Total Cost"`
	PlanRows  float64  `json:"Plan Rows"`
	Plans     []node   `json:"Plans"`
}

func explainJSON(ctx context.Context, tx pgx.Tx, q string) (explainOut, error) {
	var raw string
	if err := tx.QueryRow(ctx, q).Scan(&raw); err != nil {
		return explainOut{}, err
	}
	var outs []explainOut
	if err := json.Unmarshal([]byte(raw), &outs); err != nil || len(outs) == 0 {
		return explainOut{}, errors.Join(errors.New("EXPLAIN's JSON does not decode"), err)
	}
	return outs[0], nil
}

// largestSeqScan finds the sequential scan of the largest table with a
// filter (or under a sort) and at least large rows.
func largestSeqScan(ctx context.Context, tx pgx.Tx, root node, large float64) *Scan {
	var best *Scan
	var walk func(n node, sortKeys []string)
	walk = func(n node, sortKeys []string) {
		if n.Type == "Sort" || n.Type == "Incremental Sort" {
			sortKeys = n.SortKey
		}
		if n.Type == "Seq Scan" && n.Relation != "" && (n.Filter != "" || len(sortKeys) > 0) {
			var rows float64
			_ = tx.QueryRow(ctx, "SELECT reltuples::float8 FROM pg_class WHERE oid = $1::regclass", n.Relation).Scan(&rows)
			if rows >= large && (best == nil || rows > best.Rows) {
				best = &Scan{Table: n.Relation, Rows: rows, Filter: n.Filter, SortKeys: sortKeys}
			}
		}
		for _, c := range n.Plans {
			walk(c, sortKeys)
		}
	}
	walk(root, nil)
	return best
}

var (
	eqRe    = regexp.MustCompile(`\(?([a-z_][a-z0-9_]*)\)? = `)
	rangeRe = regexp.MustCompile(`\(?([a-z_][a-z0-9_]*)\)? (?:>=|<=|>|<) `)
)

// propose is an index for a scan: the columns compared with = first, then
// one range column, then the sort keys (with their direction) not already
// in it.
func propose(s Scan) *Index {
	var cols []string
	seen := map[string]bool{}
	add := func(col, suffix string) {
		if col == "" || seen[col] {
			return
		}
		seen[col] = true
		cols = append(cols, col+suffix)
	}
	for _, m := range eqRe.FindAllStringSubmatch(s.Filter, -1) {
		add(m[1], "")
	}
	sortCol := func(k string) (string, string) {
		f := strings.Fields(k)
		if len(f) == 0 {
			return "", ""
		}
		col := strings.Trim(f[0], "()")
		if i := strings.LastIndexByte(col, '.'); i >= 0 {
			col = col[i+1:]
		}
		if len(f) > 1 && strings.EqualFold(f[1], "DESC") {
			return col, " DESC"
		}
		return col, ""
	}
	if len(s.SortKeys) > 0 {
		for _, k := range s.SortKeys {
			add(sortCol(k))
		}
	} else if m := rangeRe.FindStringSubmatch(s.Filter); m != nil {
		add(m[1], "")
	}
	if len(cols) == 0 {
		return nil
	}
	return &Index{Table: s.Table, Columns: cols}
}

func usesIndex(n node, name string) bool {
	if n.IndexName != "" && (n.IndexName == name || strings.Contains(n.IndexName, name)) {
		return true
	}
	for _, c := range n.Plans {
		if usesIndex(c, name) {
			return true
		}
	}
	return false
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
