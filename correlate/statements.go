package correlate

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/correlate/pgexplain"
	"github.com/headroom-sre/headroom/plan"
)

// stmtTime is one statement's time per request in the traces.
type stmtTime struct {
	stmt          string
	baseMs, degMs float64 // total per request (self-time × count)
	count         float64 // per request, degraded
	meanMs        float64 // per execution, degraded
	share         float64 // of the degraded request time
}

// statementsOf ranks the database statements of the degraded traces by
// the time they take per request.
func statementsOf(rep *Report) []stmtTime {
	if rep.Spans == nil {
		return nil
	}
	by := map[string]*stmtTime{}
	var order []string
	for _, s := range rep.Spans.Spans {
		if !s.DB || s.Statement == "" {
			continue
		}
		t := by[s.Statement]
		if t == nil {
			t = &stmtTime{stmt: s.Statement}
			by[s.Statement] = t
			order = append(order, s.Statement)
		}
		t.baseMs += s.BaselineMs
		t.degMs += s.DegradedMs
		t.count += s.DegradedCount
	}
	out := make([]stmtTime, 0, len(order))
	for _, k := range order {
		t := *by[k]
		if t.count > 0 {
			t.meanMs = t.degMs / t.count
		}
		if rep.Spans.DegradedRootMs > 0 {
			t.share = t.degMs / rep.Spans.DegradedRootMs
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].degMs > out[j].degMs })
	return out
}

// writeHolder is the UPDATE or DELETE whose time grew most: with lock waits,
// the statement whose transactions hold the contended rows. An INSERT
// writes a new row, which others wait for only on a unique key: it is
// named only when no UPDATE or DELETE ran (hot_row: a login's INSERT into
// sessions, missing from the baseline's traces, grew more than the
// counter's UPDATE once).
func writeHolder(stmts []stmtTime) *stmtTime {
	var best *stmtTime
	rank := func(s *stmtTime) int {
		switch strings.ToUpper(firstField(s.stmt)) {
		case "UPDATE", "DELETE":
			return 2
		case "INSERT":
			return 1
		}
		return 0
	}
	for i := range stmts {
		s := &stmts[i]
		r := rank(s)
		if r == 0 {
			continue
		}
		if best == nil || r > rank(best) || (r == rank(best) && s.degMs-s.baseMs > best.degMs-best.baseMs) {
			best = s
		}
	}
	return best
}

func firstField(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

// statementAdvice is PostgreSQL's answer for one dominant statement.
type statementAdvice struct {
	time   stmtTime
	advice pgexplain.Advice
}

// maxExplained bounds how many statements are explained: the traces'
// three slowest, then pg_stat_statements' slowest others (statements that
// share a span name, as two SELECTs on orders do, reach it only there).
const maxExplained = 5

// adviseStatements explains the statements that dominate the degraded
// window (span time by db.statement, else pg_stat_statements' deltas)
// on the database at dsn (what the variable observe.database.dsn_env
// names held, resolved by the caller).
func adviseStatements(ctx context.Context, db *plan.Database, dsn string, stmts []stmtTime, m Metrics, w Window, step time.Duration) ([]statementAdvice, []string) {
	if dsn == "" {
		return nil, []string{fmt.Sprintf("explain: not available: the environment variable %s (observe.database.dsn_env) is not set", db.DSNEnv)}
	}
	var na []string
	pick := append([]stmtTime(nil), stmts[:min(len(stmts), 3)]...) // a copy: extras are appended
	if extra, reason := statementsFromStats(ctx, m, w, step); reason != "" {
		na = append(na, "pg_stat_statements: not available: "+reason)
	} else {
		for _, s := range extra {
			if len(pick) >= maxExplained {
				break
			}
			known := false
			for _, p := range pick {
				known = known || normalise(p.stmt) == normalise(s.stmt)
			}
			if !known {
				pick = append(pick, s)
			}
		}
	}
	if len(pick) == 0 {
		return nil, append(na, "explain: not available: no database statement in the degraded traces or pg_stat_statements")
	}
	texts := make([]string, len(pick))
	for i, p := range pick {
		texts[i] = p.stmt
	}
	ectx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	advice, more := pgexplain.Advise(ectx, dsn, texts, pgexplain.Options{})
	na = append(na, more...)
	out := make([]statementAdvice, 0, len(advice))
	for i, a := range advice {
		na = append(na, a.NotAvailable...)
		out = append(out, statementAdvice{time: pick[i], advice: a})
	}
	return out, na
}

// statementsFromStats reads pg_stat_statements' time per statement over
// the degraded window (the postgres exporter's pg_stat_statements_* series).
func statementsFromStats(ctx context.Context, m Metrics, w Window, step time.Duration) ([]stmtTime, string) {
	if m == nil {
		return nil, "no Prometheus"
	}
	q := `topk(5, sum by (query) (increase(pg_stat_statements_seconds_total[` + promRange(w.End.Sub(w.Start).Round(time.Second)+step) + `])))`
	series, err := m.QueryRange(ctx, q, w.End, w.End, step)
	if err != nil {
		return nil, err.Error()
	}
	if len(series) == 0 {
		return nil, "no pg_stat_statements_seconds_total series (the postgres exporter's queries file, or the extension, is missing)"
	}
	var out []stmtTime
	for _, s := range series {
		if len(s.Samples) == 0 || s.Labels["query"] == "" {
			continue
		}
		out = append(out, stmtTime{stmt: s.Labels["query"], degMs: 1000 * s.Samples[len(s.Samples)-1].Value})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].degMs > out[j].degMs })
	return out, ""
}

func normalise(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// indexFindings turns advice with a proposed index into findings.
// One index serves statements whose proposals name the same table and
// columns, whatever their directions (a B-tree reads either way): they
// become one finding, with the index that keeps a sort's direction, so
// two statements close in time do not take turns at the top.
func indexFindings(db string, advice []statementAdvice) []Finding {
	var out []Finding
	var keys []string // per finding: table and columns without directions
	var dirs []bool   // per finding: its index keeps a sort direction
	for _, sa := range advice {
		a := sa.advice
		if a.Index == nil || a.Scan == nil {
			continue
		}
		facts := []string{fmt.Sprintf("EXPLAIN: a sequential scan of %s (%.0f rows) with filter %s", a.Scan.Table, a.Scan.Rows, a.Scan.Filter)}
		if len(a.Scan.SortKeys) > 0 {
			facts[0] += ", sorted by " + strings.Join(a.Scan.SortKeys, ", ")
		}
		rec := fmt.Sprintf("add index on %s", a.Index.Text())
		score := 0.75
		if a.CostWithIndex > 0 {
			used := "and the planner uses it"
			if !a.UsesIndex {
				used = "but the planner does not use it"
			}
			rec += fmt.Sprintf(": estimated cost %s → %s with a hypothetical index (HypoPG), %s", costText(a.Cost), costText(a.CostWithIndex), used)
			facts = append(facts, fmt.Sprintf("HypoPG: estimated cost %s → %s with a hypothetical index on %s (%s)", costText(a.Cost), costText(a.CostWithIndex), a.Index.Text(), used))
			if a.UsesIndex && a.CostWithIndex*5 <= a.Cost {
				score = 0.97
			}
		} else {
			rec += " (not tested: no HypoPG)"
		}
		if sa.time.count > 0 {
			rec += fmt.Sprintf("; the statement took %.1f ms mean in the degraded steps, %.0f%% of request time", sa.time.meanMs, 100*sa.time.share)
			facts = append(facts, fmt.Sprintf("%.1f ms per execution, %.1f per request, %.0f%% of the degraded request time", sa.time.meanMs, sa.time.count, 100*sa.time.share))
		} else if sa.time.degMs > 0 {
			rec += fmt.Sprintf("; pg_stat_statements: %.0f ms of execution in the degraded window", sa.time.degMs)
		}
		rec += ". " + a.Index.DDL() + " (Headroom never creates it)."
		f := Finding{
			Kind:           KindDBIndex,
			Title:          fmt.Sprintf("database %s: %s scans %s to filter: index on %s", db, spanNameOf(a.Statement), a.Scan.Table, a.Index.Text()),
			Score:          score,
			Evidence:       Evidence{Facts: facts, Queries: []string{a.Statement}},
			Recommendation: strings.ToUpper(rec[:1]) + rec[1:],
		}
		key, dir := indexKey(*a.Index)
		i := slices.Index(keys, key)
		switch {
		case i < 0:
			out, keys, dirs = append(out, f), append(keys, key), append(dirs, dir)
		case dir && !dirs[i]: // this one keeps the sort: it speaks for both
			f.Evidence.Facts = append(f.Evidence.Facts, "the same index serves "+strings.Join(out[i].Evidence.Queries, "; ")+" too")
			f.Evidence.Queries = append(f.Evidence.Queries, out[i].Evidence.Queries...)
			f.Score = math.Max(f.Score, out[i].Score)
			out[i], dirs[i] = f, true
		default:
			out[i].Evidence.Facts = append(out[i].Evidence.Facts, "the same index serves "+a.Statement+" too: "+facts[len(facts)-1])
			out[i].Evidence.Queries = append(out[i].Evidence.Queries, a.Statement)
			out[i].Score = math.Max(out[i].Score, score)
		}
	}
	return out
}

// indexKey is an index's table and columns without directions, and
// whether any column has one.
func indexKey(ix pgexplain.Index) (string, bool) {
	cols := make([]string, len(ix.Columns))
	dir := false
	for i, c := range ix.Columns {
		f := strings.Fields(c)
		if len(f) > 1 {
			dir = true
		}
		if len(f) > 0 {
			cols[i] = f[0]
		}
	}
	return ix.Table + " (" + strings.Join(cols, ", ") + ")", dir
}

func costText(c float64) string {
	if c >= 1000 {
		s := fmt.Sprintf("%.0f", c)
		var b strings.Builder
		for i, r := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		return b.String()
	}
	return fmt.Sprintf("%.1f", c)
}

// spanNameOf is "SELECT orders" for a statement.
func spanNameOf(stmt string) string {
	f := strings.Fields(stmt)
	if len(f) == 0 {
		return "a statement"
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
