package plan

// problems is what the decoder has found wrong so far. Every *Error the
// decoder creates is recorded here at once, so a function that meets a
// problem can return it (to skip the rest of its own value) while the
// lists and maps above it go on with their other items. Checks that
// depend on a field ask settled first, so that one mistake gives one
// error and not a cascade of consequences.
type problems struct {
	found  []*Error
	failed map[string]bool // field paths with a problem of their own
	inside map[string]bool // field paths with a problem somewhere below them
	meant  map[string]bool // field paths an unknown key was probably meant to be ("gett" → "…get")
}

func newProblems() problems {
	return problems{failed: map[string]bool{}, inside: map[string]bool{}, meant: map[string]bool{}}
}

// add records e and marks its field and the fields above it.
func (ps *problems) add(e *Error) {
	ps.found = append(ps.found, e)
	ps.failed[e.Field] = true
	for f := e.Field; f != ""; {
		f = parentPath(f)
		ps.inside[f] = true
	}
}

// clean reports whether no problem was recorded at field, below it, or at
// any field above it (a map or list that could not be read whole).
func (ps *problems) clean(field string) bool {
	if ps.inside[field] {
		return false
	}
	for f := field; ; f = parentPath(f) {
		if ps.failed[f] || ps.failed[joinPath(f, "<<")] {
			return false // the field's value, or a map it sits in, or a merge into it, is broken
		}
		if f == "" {
			return true
		}
	}
}

// settled reports whether field's value, or its absence, can be trusted
// by a check that depends on it: it is clean, and no unknown key looks
// like a misspelling of it or of a map above it (a "duraton:" key makes a
// missing "duration" a consequence, not a second mistake).
func (ps *problems) settled(field string) bool {
	if !ps.clean(field) {
		return false
	}
	for f := field; ; f = parentPath(f) {
		if ps.meant[f] {
			return false // "targt:" may hold the missing target.base_url
		}
		if f == "" {
			return true
		}
	}
}
