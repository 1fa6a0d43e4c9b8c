package generator

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/headroom-sre/headroom/plan"
)

// dataSet holds the rows of the plan's data files. Virtual user i takes row
// i of every source; rows are never shared between users.
type dataSet struct {
	names []string              // sources, sorted
	cols  map[string][]string   // source → column names (header row)
	rows  map[string][][]string // source → rows after the header
	limit int                   // users that can get a row; -1 when unlimited
}

// loadData reads every data file of p.
func loadData(p *plan.Plan) (*dataSet, error) {
	d := &dataSet{cols: map[string][]string{}, rows: map[string][][]string{}, limit: -1}
	for name := range p.Data {
		d.names = append(d.names, name)
	}
	sort.Strings(d.names)
	for _, name := range d.names {
		src := p.Data[name]
		if src.CSV == "" {
			return nil, fmt.Errorf("data.%s.csv: no file given", name)
		}
		path := p.DataPath(name)
		cols, rows, err := readCSV(path)
		if err != nil {
			return nil, fmt.Errorf("data.%s: %w", name, err)
		}
		d.cols[name], d.rows[name] = cols, rows
		if d.limit < 0 || len(rows) < d.limit {
			d.limit = len(rows)
		}
	}
	return d, nil
}

// readCSV reads a CSV file whose first row names the columns.
func readCSV(path string) (cols []string, rows [][]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	cols, err = r.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("%s:1: empty file, want a header row of column names", path)
	}
	if err != nil {
		return nil, nil, csvError(path, err)
	}
	seen := map[string]bool{}
	for i, c := range cols {
		if c == "" {
			return nil, nil, fmt.Errorf("%s:1: column %d has no name", path, i+1)
		}
		if seen[c] {
			return nil, nil, fmt.Errorf("%s:1: column %q appears twice", path, c)
		}
		seen[c] = true
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, csvError(path, err)
		}
		rows = append(rows, rec)
	}
	return cols, rows, nil
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %v", path, pe.Line, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

// columns is the template scope of the data sources.
func (d *dataSet) columns() map[string]map[string]bool {
	m := make(map[string]map[string]bool, len(d.names))
	for _, n := range d.names {
		cs := make(map[string]bool, len(d.cols[n]))
		for _, c := range d.cols[n] {
			cs[c] = true
		}
		m[n] = cs
	}
	return m
}

// row returns the data of virtual user i as source → column → value, or
// ok=false when the rows have run out.
func (d *dataSet) row(i int) (m map[string]map[string]string, ok bool) {
	if d.limit >= 0 && i >= d.limit {
		return nil, false
	}
	m = make(map[string]map[string]string, len(d.names))
	for _, n := range d.names {
		rec := d.rows[n][i]
		r := make(map[string]string, len(rec))
		for j, c := range d.cols[n] {
			r[c] = rec[j]
		}
		m[n] = r
	}
	return m, true
}
