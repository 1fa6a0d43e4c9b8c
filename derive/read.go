package derive

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// LogOptions say how to read access logs.
type LogOptions struct {
	Format Format // FormatAuto when empty
	Fields Fields // JSON lines: field names; empty names take DefaultFields
	// Gap splits a client's requests into sessions: a longer pause starts a
	// new one. Zero means 30 minutes.
	Gap time.Duration
	// MaxBadLines is how many unreadable lines are skipped (each counted in
	// Profile.Skipped) before reading stops with an error naming the last;
	// zero means none: the first bad line is the error.
	MaxBadLines int64
	// Progress, when set, is called about once a second while reading and
	// once at the end.
	Progress func(Progress)
}

// Progress is how far reading has come.
type Progress struct {
	File  string
	Lines int64
	Bytes int64
	Done  bool
	Took  time.Duration
}

// LineError is a line that could not be read.
type LineError struct {
	File string
	Line int64
	Msg  string
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadLogFiles reads the access logs at paths, in order, into one Profile;
// the path "-" is standard input.
func ReadLogFiles(ctx context.Context, paths []string, opts LogOptions) (*Profile, error) {
	a := NewAnalyzer(opts.Gap)
	var skipped int64
	for _, path := range paths {
		f := os.Stdin
		if path != "-" {
			var err error
			if f, err = os.Open(path); err != nil {
				return nil, err
			}
		}
		name := path
		if path == "-" {
			name = "stdin"
		}
		n, err := readLog(ctx, a, f, name, opts, skipped)
		f.Close()
		skipped = n
		if err != nil {
			return nil, err
		}
	}
	p := a.Profile()
	p.Skipped = skipped
	p.Source = describeSources(paths, opts.Format)
	return p, nil
}

// ReadLog reads one access log from r (name labels its errors).
func ReadLog(ctx context.Context, r io.Reader, name string, opts LogOptions) (*Profile, error) {
	a := NewAnalyzer(opts.Gap)
	skipped, err := readLog(ctx, a, r, name, opts, 0)
	if err != nil {
		return nil, err
	}
	p := a.Profile()
	p.Skipped = skipped
	p.Source = describeSources([]string{name}, opts.Format)
	return p, nil
}

func describeSources(paths []string, f Format) string {
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
		if p == "-" {
			names[i] = "standard input"
		}
	}
	s := strings.Join(names, ", ")
	if f == "" {
		f = FormatAuto
	}
	return fmt.Sprintf("%s (%s format)", s, f)
}

const maxLine = 1 << 20

// readLog streams r's lines into a; it returns the running count of
// skipped lines.
func readLog(ctx context.Context, a *Analyzer, r io.Reader, name string, opts LogOptions, skipped int64) (int64, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	format := opts.Format
	if format == "" {
		format = FormatAuto
	}
	if format != FormatAuto && format != FormatCombined && format != FormatJSON {
		return skipped, fmt.Errorf("format %q: want combined, json or auto", format)
	}
	var jp *jsonParser
	var rec Record
	var lines, nbytes int64
	start := time.Now()
	lastReport := start
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// a line longer than the buffer: keep reading it, then refuse it if too long
			long := append([]byte(nil), line...)
			for err == bufio.ErrBufferFull && len(long) <= maxLine {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			if len(long) > maxLine {
				return skipped, &LineError{File: name, Line: lines + 1, Msg: fmt.Sprintf("line longer than %d KiB", maxLine>>10)}
			}
			line = long
		}
		if len(line) > 0 {
			lines++
			nbytes += int64(len(line))
			if format == FormatAuto {
				if t := bytes.TrimSpace(line); len(t) > 0 {
					format = FormatCombined
					if t[0] == '{' {
						format = FormatJSON
					}
				}
			}
			var perr error
			switch format {
			case FormatJSON:
				if jp == nil {
					jp = newJSONParser(opts.Fields)
				}
				perr = jp.parse(line, &rec)
			case FormatCombined:
				perr = parseCombined(line, &rec)
			default:
				perr = errSkip
			}
			switch {
			case perr == nil:
				a.Add(&rec)
			case perr == errSkip:
			case perr == errNoRoute:
				a.noRoute++
			default:
				skipped++
				if skipped > opts.MaxBadLines {
					return skipped, &LineError{File: name, Line: lines, Msg: fmt.Sprintf("%s format: %v", format, perr)}
				}
			}
			if lines&0xffff == 0 {
				if err := ctx.Err(); err != nil {
					return skipped, err
				}
				if opts.Progress != nil && time.Since(lastReport) >= time.Second {
					lastReport = time.Now()
					opts.Progress(Progress{File: name, Lines: lines, Bytes: nbytes, Took: time.Since(start)})
				}
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return skipped, fmt.Errorf("%s: %w", name, err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(Progress{File: name, Lines: lines, Bytes: nbytes, Done: true, Took: time.Since(start)})
	}
	return skipped, nil
}
