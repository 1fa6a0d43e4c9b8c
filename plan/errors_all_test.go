package plan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestEveryProblemIsReported proves that a plan with several independent
// mistakes gets all of them at once, in line order, each with its own
// line and field, and that errors.As still finds the first one.
func TestEveryProblemIsReported(t *testing.T) {
	src := `version: 2
target:
  base_url: http://127.0.0.1:18081
  timeout: 10
load:
  stages:
    - { duration: 2x, target: 5 }
    - { duration: 10s, target: 10 }
slo: { error_rate: 5, p95: 200ms }
journeys:
  - name: browse
    steps:
      - gett: /v1/products
      - get: /v1/cart
`
	want := []string{
		`plan.yaml:1: version: must be 1, got 2`,
		`plan.yaml:4: target.timeout: 10 is not a duration (add a unit, e.g. 10s or 10ms)`,
		`plan.yaml:7: load.stages[0].duration: "2x" is not a duration`,
		`plan.yaml:9: slo.error_rate: must be a fraction between 0 and 1 or a percentage like "5%", got 5`,
		`plan.yaml:13: journeys[0].steps[0].gett: unknown field (did you mean "get"?)`,
	}
	_, err := Parse("plan.yaml", []byte(src))
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("error %T is not plan.Errors: %v", err, err)
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("errors\n got\n%s\n want\n%s", got, strings.Join(want, "\n"))
	}
	wantLines := []int{1, 4, 7, 9, 13}
	for i, e := range all {
		if i < len(wantLines) && (e.Line != wantLines[i] || e.File != "plan.yaml") {
			t.Errorf("problem %d at %s:%d, want plan.yaml:%d", i, e.File, e.Line, wantLines[i])
		}
	}
	var first *Error
	if !errors.As(err, &first) || first != all[0] || first.Field != "version" {
		t.Errorf("errors.As found %v, want the first problem %v", first, all[0])
	}
}

// TestOneProblemIsOneError proves that a plan with a single mistake still
// gets exactly one *Error, not a list of one.
func TestOneProblemIsOneError(t *testing.T) {
	for _, c := range badPlans {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("plan.yaml", []byte(c.yaml))
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not a single *plan.Error:\n%v", err, err)
			}
		})
	}
}

// TestNoCascades proves that a mistake is reported once, not again as the
// checks that depend on the value it broke.
func TestNoCascades(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown method leaves the journey without a request", journeys,
			journeys + "  - { name: admin, steps: [ { method: TRACE, path: /a } ] }\n",
			`plan.yaml:11: journeys[1].steps[0].method: "TRACE" is not a supported method (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS)`},
		{"misspelled method key is the only step", "      - get: /v1/products\n", "      - gett: /v1/products\n",
			`plan.yaml:10: journeys[0].steps[0].gett: unknown field (did you mean "get"?)`},
		{"unreadable method", "      - get: /v1/products\n", "      - { method: [GET], path: /v1/products }\n",
			`plan.yaml:10: journeys[0].steps[0].method: expected text, got a list`},
		{"misspelled path beside method", "      - get: /v1/products\n", "      - { method: GET, pth: /v1/products }\n",
			`plan.yaml:10: journeys[0].steps[0].pth: unknown field (did you mean "path"?)`},
		{"bad duration of the only stage", stageLine, "    - { duration: 2x, target: 5 }\n",
			`plan.yaml:6: load.stages[0].duration: "2x" is not a duration`},
		{"misspelled duration", stageLine, "    - { duraton: 10s, target: 5 }\n",
			`plan.yaml:6: load.stages[0].duraton: unknown field (did you mean "duration"?)`},
		{"stages not a list", stageLine, "    x: 1\n", `plan.yaml:6: load.stages: expected a list, got a map`},
		{"misspelled stages", "  stages:\n", "  stage:\n", `plan.yaml:5: load.stage: unknown field (did you mean "stages"?)`},
		{"misspelled version", "version: 1\n", "verison: 1\n", `plan.yaml:1: verison: unknown field (did you mean "version"?)`},
		{"version not a number", "version: 1\n", "version: one\n", `plan.yaml:1: version: "one" is not a whole number`},
		{"target not a map", "target:\n" + baseURLLine, "target: [x]\n", `plan.yaml:2: target: expected a map, got a list`},
		{"misspelled target", "target:\n", "targt:\n", `plan.yaml:2: targt: unknown field (did you mean "target"?)`},
		{"misspelled base_url", baseURLLine, "  base_ur: http://127.0.0.1:18081\n",
			`plan.yaml:3: target.base_ur: unknown field (did you mean "base_url"?)`},
		{"base_url not absolute, step URL absolute", baseURLLine + "load:\n  stages:\n" + stageLine + journeys,
			"  base_url: 127.0.0.1:18081\nload:\n  stages:\n" + stageLine + journeys + "      - get: http://127.0.0.1:18081/v1/cart\n",
			`plan.yaml:3: target.base_url: "127.0.0.1:18081" must be an absolute http:// or https:// URL`},
		{"unreadable allow", baseURLLine, baseURLLine + "  allow: [{ a: b }]\n",
			`plan.yaml:4: target.allow[0]: expected text, got a map`},
		{"misspelled journeys", "journeys:\n", "journey:\n", `plan.yaml:7: journey: unknown field (did you mean "journeys"?)`},
		{"misspelled csv", journeys, journeys + "data: { users: { cvs: u.csv } }\n",
			`plan.yaml:11: data.users.cvs: unknown field (did you mean "csv"?)`},
		{"negative stage target", stageLine, "    - { duration: 10s, target: -1 }\n",
			`plan.yaml:6: load.stages[0].target: must be >= 0, got -1`},
		{"bad journey name is not a duplicate", journeys, journeys + "  - { name: [x], steps: [ { get: / } ] }\n  - { steps: [ { get: / } ] }\n",
			`plan.yaml:11: journeys[1].name: expected text, got a list`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("plan.yaml", []byte(edit(t, c.old, c.new)))
			if err == nil {
				t.Fatal("Parse accepted the plan")
			}
			if err.Error() != c.want {
				t.Errorf("error\n got\n%s\n want\n%s", err, c.want)
			}
		})
	}
}

// TestIndependentProblemsInOneStep proves that the walk goes on inside a
// value: two bad fields of one step and a bad sibling step are all named.
func TestIndependentProblemsInOneStep(t *testing.T) {
	src := minimal + "      - { get: /v1/cart, timeout: 2x, chance: 2 }\n" +
		"      - { post: /v1/cart, json: {}, body: x, expect: { status: [200, 1000, 99] } }\n"
	want := strings.Join([]string{
		`plan.yaml:11: journeys[0].steps[1].chance: must be between 0 and 1, got 2`,
		`plan.yaml:11: journeys[0].steps[1].timeout: "2x" is not a duration`,
		`plan.yaml:12: journeys[0].steps[2].body: a step has one body: json and body cannot be used together`,
		`plan.yaml:12: journeys[0].steps[2].expect.status[1]: an HTTP status must be between 100 and 599, got 1000`,
		`plan.yaml:12: journeys[0].steps[2].expect.status[2]: an HTTP status must be between 100 and 599, got 99`,
	}, "\n")
	_, err := Parse("plan.yaml", []byte(src))
	if err == nil || err.Error() != want {
		t.Errorf("error\n got\n%v\n want\n%s", err, want)
	}
}

// TestProblemsAreCapped proves that a plan with many problems lists the
// first MaxShown and sums up the rest in one last line, while the Errors
// value keeps them all.
func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal)
	const n = MaxShown + 5
	for i := range n {
		fmt.Fprintf(&b, "bogus%d: 1\n", i)
	}
	_, err := Parse("plan.yaml", []byte(b.String()))
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("error %T is not plan.Errors: %v", err, err)
	}
	if len(all) != n {
		t.Errorf("Errors holds %d problems, want %d", len(all), n)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxShown+1 {
		t.Fatalf("Error() has %d lines, want %d:\n%s", len(lines), MaxShown+1, err)
	}
	if want := `plan.yaml:11: bogus0: unknown field`; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	if want := fmt.Sprintf(`plan.yaml:%d: bogus%d: unknown field`, 10+MaxShown, MaxShown-1); lines[MaxShown-1] != want {
		t.Errorf("last listed line %q, want %q", lines[MaxShown-1], want)
	}
	if want := "… and 5 more"; lines[MaxShown] != want {
		t.Errorf("summary line %q, want %q", lines[MaxShown], want)
	}
}

// TestRepeatedProblemIsReportedOnce proves that a problem met twice (an
// anchor merged twice) is listed once.
func TestRepeatedProblemIsReportedOnce(t *testing.T) {
	src := minimal + "x-slo: &s { p95: 1s, p95: 2s }\nslo: { <<: [*s, *s] }\n"
	_, err := Parse("plan.yaml", []byte(src))
	const want = `plan.yaml:11: slo.p95: duplicate key (first at line 11)`
	if _, ok := err.(*Error); !ok || err.Error() != want {
		t.Errorf("error %T\n%v\n want one *Error %s", err, err, want)
	}
}

// TestErrorsOrder proves that gather sorts by line, then field, and drops
// exact repeats, whatever order the problems were found in.
func TestErrorsOrder(t *testing.T) {
	e := func(line int, field, msg string) *Error {
		return &Error{File: "p.yaml", Line: line, Field: field, Msg: msg}
	}
	err := gather([]*Error{e(9, "b", "x"), e(3, "z", "x"), e(9, "a", "x"), e(3, "z", "x"), e(0, "", "file")})
	want := "p.yaml: file\np.yaml:3: z: x\np.yaml:9: a: x\np.yaml:9: b: x"
	if err == nil || err.Error() != want {
		t.Errorf("gather\n got\n%v\n want\n%s", err, want)
	}
	if err := gather(nil); err != nil {
		t.Errorf("gather(nil) = %v, want nil", err)
	}
}

// TestReadingStopsAfterTooManyProblems proves that a plan with a great
// many problems costs a bounded amount of work: the reading stops after
// maxProblems and says so, and the summary line counts what was found.
func TestReadingStopsAfterTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString(minimal)
	for i := range maxProblems + 50 {
		fmt.Fprintf(&b, "bogus%d: 1\n", i)
	}
	_, err := Parse("plan.yaml", []byte(b.String()))
	var all Errors
	if !errors.As(err, &all) {
		t.Fatalf("error %T is not plan.Errors: %v", err, err)
	}
	if len(all) != maxProblems+1 {
		t.Fatalf("Errors holds %d problems, want %d and the stop", len(all), maxProblems)
	}
	stop := fmt.Sprintf("plan.yaml:%d: stopped reading after %d problems", 10+maxProblems, maxProblems)
	if !slices.ContainsFunc(all, func(e *Error) bool { return e.Error() == stop }) {
		t.Errorf("no problem says %q", stop)
	}
	if got := all[len(all)-1].Field; got != fmt.Sprintf("bogus%d", maxProblems-1) {
		t.Errorf("last problem is at %s, want the %dth unknown field", got, maxProblems)
	}
	lines := strings.Split(err.Error(), "\n")
	if want := fmt.Sprintf("… and %d more", maxProblems+1-MaxShown); lines[len(lines)-1] != want {
		t.Errorf("summary line %q, want %q", lines[len(lines)-1], want)
	}
}

// TestLongValuesAreCutInMessages proves that a huge value is quoted in
// part, so that errors stay readable and small.
func TestLongValuesAreCutInMessages(t *testing.T) {
	long := strings.Repeat("é", maxQuoted) // two bytes a letter: the cut falls inside one
	_, err := Parse("plan.yaml", []byte(minimal+"capacity: { step_duration: "+long+" }\n"))
	want := fmt.Sprintf(`plan.yaml:11: capacity.step_duration: %q is not a duration`, strings.Repeat("é", maxQuoted/2)+"…")
	if err == nil || err.Error() != want {
		t.Errorf("error\n got  %v\n want %s", err, want)
	}
}
