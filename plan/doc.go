// Package plan reads Headroom plan files: the system under test, its SLOs,
// the load profile, the journeys, the blast-radius limits and the capacity
// and business settings of one study (format version 1).
//
// Parse and LoadFile decode YAML into a Plan, apply the defaults and validate
// it. Every error is an *Error that names the file, the line and the dotted
// field path, so a person can fix the plan without guessing:
//
//	plan.yaml:14: load.stages[1].duration: "2x" is not a duration
//	plan.yaml:31: journeys[0].steps[2].gett: unknown field (did you mean "get"?)
//
// Anchors, aliases and merge keys (<<) are resolved, with the expansion
// bounded; top-level keys starting with "x-" are ignored so they can hold
// anchored snippets. Templates in strings ({{ .vars.token }}) are kept as
// written for the generator to compile.
//
// A typical use:
//
//	p, err := plan.LoadFile("plan.yaml")
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
