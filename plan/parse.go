package plan

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LoadFile reads the plan file at path, parses and validates it. Its error
// is an *Error when there is one problem, and Errors when there are more.
func LoadFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxPlanBytes+1))
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return Parse(path, data)
}

// Parse parses and validates a plan; file names it in errors and anchors
// relative data paths (it may be ""). Defaults are applied. It reports
// every problem it finds, each as an *Error naming the file, the line and
// the dotted field path:
//
//	plan.yaml:14: load.stages[1].duration: "2x" is not a duration
//
// One problem comes back as that *Error; several as Errors, one line each
// in line order. A file that is not YAML at all gives one *Error.
func Parse(file string, data []byte) (*Plan, error) {
	return parse(file, data, Rules{})
}

func parse(file string, data []byte, r Rules) (*Plan, error) {
	if len(data) > maxPlanBytes {
		return nil, &Error{File: file, Msg: fmt.Sprintf("plan is larger than %d MiB", maxPlanBytes>>20)}
	}
	root, err := document(file, data)
	if err != nil {
		return nil, err
	}
	d := newDecoder(file)
	p := newPlan(file)
	_ = d.plan(root, p) // every problem is recorded in d
	if d.stop == nil {
		p.withDefaults()
		d.validate(p)
		d.checkRules(p, r)
	}
	if err := gather(d.found); err != nil {
		return nil, err
	}
	return p, nil
}

// DataPath returns the path of data source name's file, relative paths
// resolved against the plan file's directory; "" for an unknown name.
func (p *Plan) DataPath(name string) string {
	ds, ok := p.Data[name]
	if !ok {
		return ""
	}
	if filepath.IsAbs(ds.CSV) || p.File == "" {
		return ds.CSV
	}
	return filepath.Join(filepath.Dir(p.File), ds.CSV)
}

// document parses data as exactly one YAML document and returns its root
// value. Empty documents after the first are tolerated.
func document(file string, data []byte) (root *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{File: file, Msg: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, emptyPlan(file, 1)
		}
		return nil, yamlError(file, err)
	}
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, yamlError(file, err)
		}
		if len(extra.Content) > 0 && !isNull(extra.Content[0]) {
			return nil, &Error{File: file, Line: extra.Content[0].Line,
				Msg: "a plan is one YAML document; a second one starts here"}
		}
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, emptyPlan(file, doc.Line)
	}
	return doc.Content[0], nil
}

func emptyPlan(file string, line int) error {
	return &Error{File: file, Line: line, Msg: "the plan is empty (it needs version, target, load and journeys)"}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError turns a YAML syntax error into an *Error with its line.
func yamlError(file string, err error) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "YAML syntax: " + m[2]}
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return &Error{File: file, Msg: "YAML syntax: " + msg}
}
