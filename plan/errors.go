package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is a plan error with its place: "plan.yaml:14: load.stages[1].duration: "2x" is not a duration".
type Error struct {
	File  string
	Line  int
	Field string
	Msg   string
}

// Error formats the error as "file:line: field: message", leaving out the
// line when it is unknown and the field when there is none.
func (e *Error) Error() string {
	where := e.File
	if where == "" {
		where = "plan"
	}
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, e.Line)
	}
	if e.Field == "" {
		return where + ": " + e.Msg
	}
	return where + ": " + e.Field + ": " + e.Msg
}

// MaxShown is how many problems Errors.Error lists before it sums up the
// rest in one line ("… and 7 more").
const MaxShown = 20

// Errors is every problem found in one plan, sorted by line and then by
// field, each reported once. Parse returns it only when there are two or
// more; a single problem comes back as its *Error.
type Errors []*Error

// Error lists the problems one per line, as *Error formats them; after
// MaxShown of them a last line says how many more there are.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i == MaxShown {
			fmt.Fprintf(&b, "\n… and %d more", len(es)-MaxShown)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the problems as errors, so that errors.As with a
// **Error finds the first one.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// gather turns the problems recorded while reading a plan into the error
// Parse returns: nil for none, the *Error itself for one, else Errors
// sorted by line then field (then message) with exact repeats dropped.
func gather(problems []*Error) error {
	sorted := slices.Clone(problems)
	slices.SortFunc(sorted, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), strings.Compare(a.Field, b.Field), strings.Compare(a.Msg, b.Msg))
	})
	sorted = slices.CompactFunc(sorted, func(a, b *Error) bool { return *a == *b })
	switch len(sorted) {
	case 0:
		return nil
	case 1:
		return sorted[0]
	}
	return Errors(sorted)
}
