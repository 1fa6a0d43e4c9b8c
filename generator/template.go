package generator

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"text/template"
	"text/template/parse"
)

// text is a string of the plan that may be a template. Strings without
// "{{" stay literal and are never executed.
type text struct {
	lit string
	t   *template.Template
}

// static reports whether the text is a plain literal.
func (t text) static() bool { return t.t == nil }

// maxRendered is the most a request's rendered text (its URL, a header,
// its body) may grow to: a template of a few bytes cannot send megabytes.
const maxRendered = 1 << 20

// errTooLarge is a rendered text past maxRendered.
var errTooLarge = fmt.Errorf("the rendered request is larger than %d bytes", maxRendered)

// render appends the text, executed against data, to buf; buf may not
// grow past maxRendered.
func (t text) render(buf *bytes.Buffer, data any) error {
	if t.t == nil {
		if buf.Len()+len(t.lit) > maxRendered {
			return errTooLarge
		}
		buf.WriteString(t.lit)
		return nil
	}
	return t.t.Execute(cappedWriter{buf}, data)
}

// cappedWriter writes to a buffer until it holds maxRendered bytes.
type cappedWriter struct{ buf *bytes.Buffer }

func (w cappedWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > maxRendered {
		return 0, errTooLarge
	}
	return w.buf.Write(p)
}

// scope is what templates of one step may refer to.
type scope struct {
	data map[string]map[string]bool // source → columns
	vars map[string]bool            // extracted by earlier steps of the journey
	env  map[string]bool            // listed in target.env
}

// compileText parses src once; refs are checked against sc so a plan that
// names an unknown source, column, variable or environment variable fails
// before any load is sent.
func compileText(src string, sc scope) (text, error) {
	if !strings.Contains(src, "{{") {
		return text{lit: src}, nil
	}
	t, err := template.New("").Option("missingkey=error").Funcs(templateFuncs).Parse(src)
	if err != nil {
		msg := err.Error()
		if i := strings.Index(msg, ": "); strings.HasPrefix(msg, "template: ") && i >= 0 {
			msg = strings.TrimPrefix(msg[i+2:], ":1: ")
		}
		return text{}, fmt.Errorf("template %q: %s", src, msg)
	}
	if len(t.Templates()) > 1 {
		return text{}, fmt.Errorf("template %q: define and block are not allowed", src)
	}
	if err := plainActions(t.Tree.Root); err != nil {
		return text{}, fmt.Errorf("template %q: %w", src, err)
	}
	var refErr error
	walkFields(t.Tree.Root, func(ident []string) {
		if refErr == nil {
			refErr = sc.check(ident)
		}
	})
	if refErr != nil {
		return text{}, fmt.Errorf("template %q: %w", src, refErr)
	}
	return text{lit: src, t: t}, nil
}

// check verifies one field reference such as .data.users.email.
func (sc scope) check(ident []string) error {
	ref := "." + strings.Join(ident, ".")
	switch ident[0] {
	case "data":
		if len(ident) != 3 {
			return fmt.Errorf("%s: use .data.<source>.<column>", ref)
		}
		cols, ok := sc.data[ident[1]]
		if !ok {
			return fmt.Errorf("%s: no data source %q in data", ref, ident[1])
		}
		if !cols[ident[2]] {
			return fmt.Errorf("%s: data source %q has no column %q", ref, ident[1], ident[2])
		}
	case "vars":
		if len(ident) != 2 {
			return fmt.Errorf("%s: use .vars.<name>", ref)
		}
		if !sc.vars[ident[1]] {
			return fmt.Errorf("%s: no earlier step of the journey extracts %q", ref, ident[1])
		}
	case "env":
		if len(ident) != 2 {
			return fmt.Errorf("%s: use .env.<NAME>", ref)
		}
		if !sc.env[ident[1]] {
			return fmt.Errorf("%s: %q is not listed in target.env", ref, ident[1])
		}
	default:
		return fmt.Errorf("%s: unknown field (use .data, .vars or .env)", ref)
	}
	return nil
}

// plainActions refuses what lets a short template do much or see all:
// loops (range), scope changes (with), other templates (template, define,
// block) and the whole data (a bare . or $), which holds the environment.
func plainActions(n parse.Node) error {
	var err error
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		if err != nil || n == nil {
			return
		}
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			if len(n.Decl) > 0 {
				err = fmt.Errorf("variables ($%s) are not allowed", strings.TrimPrefix(n.Decl[0].Ident[0], "$"))
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			err = fmt.Errorf("range is not allowed")
		case *parse.WithNode:
			err = fmt.Errorf("with is not allowed")
		case *parse.TemplateNode:
			err = fmt.Errorf("template is not allowed")
		case *parse.DotNode:
			err = fmt.Errorf("a bare . is not allowed (use .data.<source>.<column>, .vars.<name> or .env.<NAME>)")
		case *parse.VariableNode:
			err = fmt.Errorf("%s is not allowed (use .data, .vars or .env)", strings.Join(n.Ident, "."))
		}
	}
	walk(n)
	return err
}

// walkFields calls visit with the identifiers of every field reference in
// the tree (e.g. [vars token] for .vars.token).
func walkFields(n parse.Node, visit func([]string)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkFields(c, visit)
		}
	case *parse.ActionNode:
		walkFields(n.Pipe, visit)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkFields(c, visit)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkFields(a, visit)
		}
	case *parse.FieldNode:
		visit(n.Ident)
	case *parse.ChainNode:
		walkFields(n.Node, visit)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, visit)
	case *parse.TemplateNode:
		walkFields(n.Pipe, visit)
	}
}

func walkBranch(b *parse.BranchNode, visit func([]string)) {
	walkFields(b.Pipe, visit)
	walkFields(b.List, visit)
	walkFields(b.ElseList, visit)
}

// templateFuncs are the functions templates may call. They draw from
// math/rand/v2's top-level source, which is per-thread and takes no lock.
var templateFuncs = template.FuncMap{
	"randInt":    randInt,
	"randString": randString,
	"uuid":       newUUID,
}

// randInt is uniform in [a, b].
func randInt(a, b int) (int, error) {
	if b < a {
		return 0, fmt.Errorf("randInt %d %d: the upper bound is below the lower", a, b)
	}
	return a + rand.IntN(b-a+1), nil
}

const alphanumeric = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randString is n random letters and digits.
func randString(n int) (string, error) {
	if n < 0 || n > 1<<16 {
		return "", fmt.Errorf("randString %d: length must be within 0..65536", n)
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = alphanumeric[rand.IntN(len(alphanumeric))]
	}
	return string(b), nil
}

// newUUID is a random (version 4) UUID.
func newUUID() string {
	var u [16]byte
	for i := 0; i < 16; i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8; j++ {
			u[i+j] = byte(v >> (8 * j))
		}
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	var b [36]byte
	p := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[p] = '-'
			p++
		}
		b[p], b[p+1] = hexd[c>>4], hexd[c&0xf]
		p += 2
	}
	return string(b[:])
}
