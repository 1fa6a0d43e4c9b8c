package correlate

import (
	"regexp"
	"strings"
)

// IndexHint is what a slow statement filters and sorts on: the columns an
// index could cover.
type IndexHint struct {
	Table   string   `json:"table,omitempty"`
	Columns []string `json:"columns,omitempty"` // WHERE columns first, then ORDER BY ones
}

var (
	sqlFrom    = regexp.MustCompile(`(?is)\b(?:from|update|into)\s+([a-z_][a-z0-9_.]*)`)
	sqlWhere   = regexp.MustCompile(`(?is)\bwhere\b(.*?)(?:\bgroup\s+by\b|\border\s+by\b|\blimit\b|\breturning\b|$)`)
	sqlOrderBy = regexp.MustCompile(`(?is)\border\s+by\b(.*?)(?:\blimit\b|\boffset\b|$)`)
	sqlCompare = regexp.MustCompile(`(?i)([a-z_][a-z0-9_.]*)\s*(?:=|<>|!=|<=|>=|<|>|\s+like\b|\s+in\b|\s+between\b|\s+is\b)`)
	sqlIdent   = regexp.MustCompile(`(?i)^\s*([a-z_][a-z0-9_.]*)`)
)

// sqlWords are words the comparison pattern can catch that are no columns.
var sqlWords = map[string]bool{"and": true, "or": true, "not": true, "null": true, "exists": true}

// IndexCandidates reads a statement's table and the columns in its WHERE
// and ORDER BY clauses. It is a heuristic over the text, not a SQL parser.
func IndexCandidates(stmt string) IndexHint {
	var h IndexHint
	if m := sqlFrom.FindStringSubmatch(stmt); m != nil {
		h.Table = m[1]
	}
	seen := map[string]bool{}
	add := func(col string) {
		if i := strings.LastIndexByte(col, '.'); i >= 0 {
			col = col[i+1:]
		}
		col = strings.ToLower(col)
		if col == "" || sqlWords[col] || seen[col] {
			return
		}
		seen[col] = true
		h.Columns = append(h.Columns, col)
	}
	if m := sqlWhere.FindStringSubmatch(stmt); m != nil {
		for _, c := range sqlCompare.FindAllStringSubmatch(m[1], -1) {
			add(c[1])
		}
	}
	if m := sqlOrderBy.FindStringSubmatch(stmt); m != nil {
		for _, part := range strings.Split(m[1], ",") {
			if c := sqlIdent.FindStringSubmatch(part); c != nil {
				add(c[1])
			}
		}
	}
	return h
}
