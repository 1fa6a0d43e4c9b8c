package main

import (
	"errors"
	"fmt"
	"io"

	"os"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// printFindings prints the top findings of a run's or study's correlation
// under a heading (pipeline.WriteFindings, as the server writes them).
func printFindings(w io.Writer, rep correlate.Report) {
	if err := pipeline.WriteFindings(w, &rep); err != nil {
		fmt.Fprintln(os.Stderr, "headroom: writing the findings:", err)
	}
}

// settingFlags names the flag that sets each pipeline setting, by the
// setting's JSON name (the Field of the pipeline's *plan.Error).
var settingFlags = map[string]string{
	"base_url":      "--base-url",
	"verify_url":    "--verify-url",
	"instances":     "--instances",
	"step_duration": "--step-duration",
}

// flagError rewrites a problem with a setting as one with the flag that
// set it: "--base-url: host "x" is not allowed …". Plan problems pass.
func flagError(err error) error {
	var all plan.Errors
	if !errors.As(err, &all) {
		var one *plan.Error
		if !errors.As(err, &one) {
			return err
		}
		all = plan.Errors{one}
	}
	mapped, out := false, make([]error, len(all))
	for i, e := range all {
		out[i] = e
		if f, ok := settingFlags[e.Field]; ok && e.Line == 0 {
			out[i], mapped = errors.New(f+": "+e.Msg), true
		}
	}
	if !mapped {
		return err
	}
	return errors.Join(out...)
}
