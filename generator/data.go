package generator

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"

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

// loadData reads every data file of p; a cancelled ctx stops it.
func loadData(ctx context.Context, p *plan.Plan) (*dataSet, error) {
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
		var cols []string
		var rows [][]string
		var err error
		if p.Sandbox != nil {
			cols, rows, err = readSandboxed(ctx, *p.Sandbox, src.CSV)
		} else {
			cols, rows, err = readCSV(ctx, p.DataPath(name), -1)
		}
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

// readSandboxed reads a shared server's data file: a regular file at a
// local path inside lim.Dir (no .., no symbolic link out of it, no FIFO or
// device), of at most lim.MaxBytes and lim.MaxRows rows.
func readSandboxed(ctx context.Context, lim plan.Files, name string) ([]string, [][]string, error) {
	name = filepath.FromSlash(name)
	if !filepath.IsLocal(name) {
		return nil, nil, fmt.Errorf("%s: a data file is a relative path inside the data folder (no .. and no absolute path)", name)
	}
	root, err := os.OpenRoot(lim.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("data folder: %w", err)
	}
	defer root.Close()
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, errors.Unwrap(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s: not a regular file (%s)", name, fi.Mode().Type())
	}
	if fi.Size() > lim.MaxBytes {
		return nil, nil, fmt.Errorf("%s: %d bytes, more than the %d a data file may have on this server", name, fi.Size(), lim.MaxBytes)
	}
	return readCSVFrom(ctx, name, io.LimitReader(f, lim.MaxBytes), lim.MaxRows)
}

// readCSV reads a CSV file whose first row names the columns; maxRows < 0
// reads every row.
func readCSV(ctx context.Context, path string, maxRows int) (cols []string, rows [][]string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readCSVFrom(ctx, path, f, maxRows)
}

// readCSVFrom reads CSV from in; path names it in errors.
func readCSVFrom(ctx context.Context, path string, in io.Reader, maxRows int) (cols []string, rows [][]string, err error) {
	r := csv.NewReader(in)
	r.ReuseRecord = false
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
		if maxRows >= 0 && len(rows) >= maxRows {
			return nil, nil, fmt.Errorf("%s: more than the %d rows a data file may have on this server", path, maxRows)
		}
		if len(rows)%1024 == 0 && ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%s: %w", path, context.Cause(ctx))
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
