package generator

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// journey is a compiled plan.Journey.
type journey struct {
	name   string
	weight int
	steps  []*step
	first  int // name index of its first request step (for errors before any request)
}

// bodyKind says how a step's body is built.
type bodyKind uint8

const (
	bodyNone bodyKind = iota
	bodyRaw
	bodyJSON
	bodyForm
)

// header is one request header; its value may be templated.
type header struct {
	key string // canonical
	val text
}

// jsonCheck is one expect.json entry.
type jsonCheck struct {
	path   string
	want   string
	exists bool // only presence is checked
}

// step is a compiled plan.Step.
type step struct {
	idx      int // across all journeys, for per-user state
	name     string
	nameID   int
	method   string // "" for a think-only step
	path     text
	absolute bool
	fixedURL *url.URL // set when path and query are static
	query    []pair
	static   []header // literal headers, set once per user
	dynamic  []header // templated headers, rendered per request
	kind     bodyKind
	raw      text
	json     jsonBody
	form     []pair
	fixed    []byte // the body when it has no templates
	hasFixed bool
	timeout  time.Duration
	think    plan.Range
	chance   float64 // 1 = always
	extract  []plan.Extraction
	status   []int
	jsonWant []jsonCheck
	contains []byte
	needBody bool // the body is kept for checks or extraction
}

// compileJourneys compiles every journey of p against base; names is the
// sorted list of request names, which name indexes refer to.
func compileJourneys(p *plan.Plan, base string, data *dataSet, env map[string]string) (js []*journey, names []string, err error) {
	if len(p.Journeys) == 0 {
		return nil, nil, &plan.Error{File: p.File, Field: "journeys", Msg: "at least one journey is needed"}
	}
	envScope := map[string]bool{}
	for k := range env {
		envScope[k] = true
	}
	nameSet := map[string]bool{}
	idx := 0
	for ji, pj := range p.Journeys {
		if pj.Weight < 0 {
			return nil, nil, &plan.Error{File: p.File, Field: fmt.Sprintf("journeys[%d].weight", ji), Msg: fmt.Sprintf("%d is negative", pj.Weight)}
		}
		j := &journey{name: pj.Name, weight: pj.Weight, first: -1}
		if j.weight == 0 {
			j.weight = 1
		}
		sc := scope{data: data.columns(), vars: map[string]bool{}, env: envScope}
		requests := 0
		for si, ps := range pj.Steps {
			field := fmt.Sprintf("journeys[%d].steps[%d]", ji, si)
			st, err := compileStep(p, ps, base, sc)
			if err != nil {
				return nil, nil, &plan.Error{File: p.File, Line: ps.Line, Field: field + err.field, Msg: err.msg}
			}
			st.idx = idx
			idx++
			if st.method != "" {
				nameSet[st.name] = true
				requests++
			}
			for _, x := range ps.Extract {
				sc.vars[x.Var] = true
			}
			j.steps = append(j.steps, st)
		}
		if requests == 0 {
			return nil, nil, &plan.Error{File: p.File, Field: fmt.Sprintf("journeys[%d].steps", ji), Msg: "the journey sends no request"}
		}
		js = append(js, j)
	}
	for n := range nameSet {
		names = append(names, n)
	}
	sort.Strings(names)
	ids := make(map[string]int, len(names))
	for i, n := range names {
		ids[n] = i
	}
	for _, j := range js {
		for _, st := range j.steps {
			if st.method == "" {
				continue
			}
			st.nameID = ids[st.name]
			if j.first < 0 {
				j.first = st.nameID
			}
		}
	}
	return js, names, nil
}

// stepError is a compile error of one field of a step.
type stepError struct{ field, msg string }

func errAt(field string, format string, args ...any) *stepError {
	return &stepError{field: field, msg: fmt.Sprintf(format, args...)}
}

func compileStep(p *plan.Plan, ps plan.Step, base string, sc scope) (*step, *stepError) {
	st := &step{name: ps.Name, method: strings.ToUpper(ps.Method), think: ps.Think, chance: ps.Chance}
	if ps.Think.Min < 0 || ps.Think.Max < ps.Think.Min {
		return nil, errAt(".think", "%v..%v is not a range of durations ≥ 0", ps.Think.Min, ps.Think.Max)
	}
	if ps.Chance < 0 || ps.Chance > 1 {
		return nil, errAt(".chance", "%v is not a probability within 0..1", ps.Chance)
	}
	if st.chance == 0 {
		st.chance = 1
	}
	if st.method == "" {
		if ps.Think.Max == 0 {
			return nil, errAt("", "the step has neither a request nor a think time")
		}
		return st, nil
	}
	if !validMethod(st.method) {
		return nil, errAt(".method", "%q is not an HTTP method", ps.Method)
	}
	if st.name == "" {
		st.name = st.method + " " + ps.Path
	}
	var err error
	if st.path, err = compileText(ps.Path, sc); err != nil {
		return nil, errAt(".path", "%v", err)
	}
	lower := strings.ToLower(ps.Path)
	st.absolute = strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")
	if st.query, err = compilePairs(ps.Query, sc, ".query"); err != nil {
		return nil, errAt("", "%v", err)
	}
	if st.path.static() && staticPairs(st.query) {
		u, err := buildURL(base, st)
		if err != nil {
			return nil, errAt(".path", "%v", err)
		}
		if !p.Allowed(u.Hostname()) {
			return nil, errAt(".path", "host %q is not allowed by target.allow", u.Hostname())
		}
		st.fixedURL = u
	}
	if e := st.compileHeaders(p, ps, sc); e != nil {
		return nil, e
	}
	if e := st.compileBody(ps, sc); e != nil {
		return nil, e
	}
	st.timeout = ps.Timeout
	if st.timeout == 0 {
		st.timeout = p.Target.Timeout
	}
	if st.timeout <= 0 {
		st.timeout = 10 * time.Second
	}
	st.compileChecks(ps)
	return st, nil
}

func validMethod(m string) bool {
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return m != ""
}

// compileHeaders merges target headers and step headers (the step wins).
func (st *step) compileHeaders(p *plan.Plan, ps plan.Step, sc scope) *stepError {
	merged := map[string]string{}
	for k, v := range p.Target.Headers {
		merged[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range ps.Headers {
		merged[http.CanonicalHeaderKey(k)] = v
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t, err := compileText(merged[k], sc)
		if err != nil {
			return errAt(".headers."+k, "%v", err)
		}
		if t.static() {
			st.static = append(st.static, header{key: k, val: t})
		} else {
			st.dynamic = append(st.dynamic, header{key: k, val: t})
		}
	}
	return nil
}

// compileBody compiles the one body a step may have.
func (st *step) compileBody(ps plan.Step, sc scope) *stepError {
	n := 0
	var ctype string
	var err error
	if ps.JSON != nil {
		n++
		st.kind, ctype = bodyJSON, "application/json"
		if st.json, err = compileJSON(ps.JSON, sc); err != nil {
			return errAt("", "%v", err)
		}
	}
	if len(ps.Form) > 0 {
		n++
		st.kind, ctype = bodyForm, "application/x-www-form-urlencoded"
		if st.form, err = compilePairs(ps.Form, sc, ".form"); err != nil {
			return errAt("", "%v", err)
		}
	}
	if ps.Body != "" {
		n++
		st.kind = bodyRaw
		if st.raw, err = compileText(ps.Body, sc); err != nil {
			return errAt(".body", "%v", err)
		}
	}
	if n > 1 {
		return errAt("", "a step has at most one of json, form and body")
	}
	if ctype != "" && !st.hasHeader("Content-Type") {
		st.static = append(st.static, header{key: "Content-Type", val: text{lit: ctype}})
	}
	switch st.kind {
	case bodyRaw:
		st.hasFixed = st.raw.static()
		st.fixed = []byte(st.raw.lit)
	case bodyJSON:
		if st.json.static() {
			st.hasFixed = true
			for _, p := range st.json.parts {
				st.fixed = append(st.fixed, p.lit...)
			}
		}
	case bodyForm:
		if staticPairs(st.form) {
			var b, scratch bytes.Buffer
			_ = renderPairs(&b, &scratch, st.form, nil)
			st.hasFixed, st.fixed = true, b.Bytes()
		}
	}
	return nil
}

func (st *step) hasHeader(key string) bool {
	for _, h := range st.static {
		if h.key == key {
			return true
		}
	}
	for _, h := range st.dynamic {
		if h.key == key {
			return true
		}
	}
	return false
}

func (st *step) compileChecks(ps plan.Step) {
	st.status = ps.Expect.Status
	keys := make([]string, 0, len(ps.Expect.JSON))
	for k := range ps.Expect.JSON {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w := ps.Expect.JSON[k]
		st.jsonWant = append(st.jsonWant, jsonCheck{path: k, want: w, exists: w == "exists"})
	}
	if ps.Expect.Contains != "" {
		st.contains = []byte(ps.Expect.Contains)
	}
	st.extract = ps.Extract
	st.needBody = len(st.jsonWant) > 0 || st.contains != nil || len(st.extract) > 0
}
