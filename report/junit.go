package report

import (
	"encoding/xml"
	"fmt"
	"io"
)

// JUnit XML: one suite per group of checks (slo, capacity, regression,
// run), one test case per check that has a pass/fail meaning.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Class     string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// groups in the order suites are written.
var junitGroups = []string{"slo", "capacity", "regression", "run"}

func writeJUnit(w io.Writer, v *view) error {
	all := junitSuites{Name: "headroom: " + v.Title}
	props := []junitProperty{{"kind", v.Kind}, {"plan", v.PlanName}, {"target", v.Target},
		{"outcome", v.Outcome}, {"verdict", v.Verdict}, {"summary", v.Sentence}}
	for _, g := range junitGroups {
		s := junitSuite{Name: "headroom." + g, Properties: props}
		s.Timestamp = timestamp(v)
		for _, c := range junitChecks(v) {
			if c.Group != g || c.Status == statusInfo {
				continue
			}
			tc := junitCase{Class: "headroom." + g, Name: caseName(c), Time: "0"}
			detail := fmt.Sprintf("measured %s; threshold %s", c.Measured, orDash(c.Threshold))
			if c.Note != "" {
				detail += "; " + c.Note
			}
			if c.Failed() {
				tc.Failure = &junitFailure{Type: g, Message: fmt.Sprintf("%s: measured %s, threshold %s", c.Name, c.Measured, orDash(c.Threshold)), Text: detail}
				s.Failures++
			} else {
				tc.SystemOut = resultWord(c.Status) + ": " + detail
			}
			s.Cases = append(s.Cases, tc)
			s.Tests++
		}
		if s.Tests == 0 {
			continue
		}
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Suites = append(all.Suites, s)
	}
	verdict := junitSuite{Name: "headroom.verdict", Tests: 1, Properties: props, Timestamp: timestamp(v),
		Cases: []junitCase{{Class: "headroom.verdict", Name: "ready", Time: "0", SystemOut: v.Sentence}}}
	if !v.Ready {
		verdict.Failures = 1
		verdict.Cases[0].SystemOut = ""
		verdict.Cases[0].Failure = &junitFailure{Type: "verdict", Message: v.Sentence, Text: v.Paragraph}
	}
	all.Suites = append([]junitSuite{verdict}, all.Suites...)
	all.Tests++
	all.Failures += verdict.Failures
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return fmt.Errorf("report: junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func caseName(c check) string {
	if c.Threshold == "" || c.Group == "regression" {
		return c.Name
	}
	return c.Name + " " + c.Threshold
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func timestamp(v *view) string {
	if v.Started.IsZero() {
		return ""
	}
	return v.Started.UTC().Format("2006-01-02T15:04:05")
}

// junitChecks are the verdict table's checks with every regression check
// (the table shows only the failed ones).
func junitChecks(v *view) []check {
	var out []check
	for _, c := range v.Checks {
		if c.Group != "regression" {
			out = append(out, c)
		}
	}
	return append(out, v.GateChecks...)
}
