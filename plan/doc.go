// Package plan reads Headroom plan files: the system under test, its SLOs,
// the load profile, the journeys, the blast-radius limits and the capacity
// and business settings of one study (format version 1).
//
// Parse and LoadFile decode YAML into a Plan, apply the defaults and validate
// it. Every problem is an *Error that names the file, the line and the
// dotted field path, so a person can fix the plan without guessing:
//
//	plan.yaml:14: load.stages[1].duration: "2x" is not a duration
//	plan.yaml:31: journeys[0].steps[2].gett: unknown field (did you mean "get"?)
//
// One reading finds every problem of a plan, as a compiler does: the parser
// goes on with the next field or item after a mistake. A plan with one
// problem gets that *Error; a plan with several gets Errors, sorted by line
// then field, each problem once, whose text is one line per problem (at
// most MaxShown, then "… and N more"). Errors unwraps to its problems, so
// errors.As(err, &pe) with pe a *Error works for both and finds the first.
// A check that depends on a field that could not be read is left out, so
// one mistake gives one error: a misspelled "duraton:" is not also a
// missing duration, and a step with an unknown method does not also leave
// its journey without a request. A file that is not YAML at all gives one
// *Error.
//
// Anchors, aliases and merge keys (<<) are resolved, with the expansion
// bounded; top-level keys starting with "x-" are ignored so they can hold
// anchored snippets. Templates in strings ({{ .vars.token }}) are kept as
// written for the generator to compile.
//
// A typical use:
//
//	p, err := plan.LoadFile("plan.yaml")
//	var all plan.Errors
//	if errors.As(err, &all) {
//		for _, e := range all { // every problem, in line order
//			fmt.Printf("line %d: %s: %s\n", e.Line, e.Field, e.Msg)
//		}
//	}
//	if err != nil {
//		return err // e.g. plan.yaml:9: target.base_url: host "example.com" is not in target.allow
//	}
//	for _, o := range p.Objectives() {
//		fmt.Println(o.Name, o.Threshold) // p95 < 200ms, error_rate < 1%, ...
//	}
//	if !p.Allowed(redirect.Host) {
//		// do not follow
//	}
package plan
