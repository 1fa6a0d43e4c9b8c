package agent

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/headroom-sre/headroom/plan"
	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
)

// shardData cuts every data file of p for share index of count: the header
// and rows index, index+count, …, so no two agents hold the same user row.
// rows describes the cut for the job's ledger.
func shardData(p *plan.Plan, index, count int) (files []*agentv1.DataFile, rows string, err error) {
	names := make([]string, 0, len(p.Data))
	for n := range p.Data {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		path := p.Data[name].CSV
		recs, err := readRows(p, name)
		if err != nil {
			return nil, "", fmt.Errorf("data.%s: %w", name, err)
		}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		kept := 0
		for i, rec := range recs {
			if i == 0 || (i-1)%count == index {
				if err := w.Write(rec); err != nil {
					return nil, "", fmt.Errorf("data.%s: %w", name, err)
				}
				kept++
			}
		}
		w.Flush()
		files = append(files, &agentv1.DataFile{Path: filepath.ToSlash(path), Csv: buf.Bytes()})
		if rows != "" {
			rows += "; "
		}
		rows += fmt.Sprintf("%s: rows %d, %d+%d, … (%d of %d)", name, index+1, index+1, count, kept-1, max(len(recs)-1, 0))
	}
	return files, rows, nil
}

// readRows reads one data file of p whole (header first), under the plan's
// sandbox when it has one.
func readRows(p *plan.Plan, name string) ([][]string, error) {
	var in io.Reader
	if sb := p.Sandbox; sb != nil {
		rel := filepath.FromSlash(p.Data[name].CSV)
		if !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("%s: a data file is a relative path inside the data folder", p.Data[name].CSV)
		}
		root, err := os.OpenRoot(sb.Dir)
		if err != nil {
			return nil, fmt.Errorf("data folder: %w", err)
		}
		defer root.Close()
		f, err := root.Open(rel)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rel, errors.Unwrap(err))
		}
		defer f.Close()
		in = io.LimitReader(f, max(sb.MaxBytes, 1))
	} else {
		f, err := os.Open(p.DataPath(name))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	r := csv.NewReader(in)
	return r.ReadAll()
}

// writeData writes the data files of a share under dir, at the paths the
// plan names (relative ones only).
func writeData(dir string, files []*agentv1.DataFile) error {
	for _, f := range files {
		rel := filepath.FromSlash(f.GetPath())
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("data file %q: an agent takes only relative paths", f.GetPath())
		}
		full := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.GetCsv(), 0o600); err != nil {
			return err
		}
	}
	return nil
}
