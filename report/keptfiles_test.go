package report

import (
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/pipeline"
)

// A study that kept its profiles as files (headroom capacity) names their
// folder in the report; one that kept none says nothing of profiles.
func TestReportNamesTheProfilesAStudyKeptAsFiles(t *testing.T) {
	a := fixedStudy(t, 1)
	a.Study.Profiles = []pipeline.ProfileFile{
		{File: "study-profiles/baseline-1-cpu.pb.gz", Kind: "cpu", Phase: "baseline", Step: 1},
		{File: "study-profiles/explore-4-cpu.pb.gz", Kind: "cpu", Phase: "explore", Step: 4},
		{File: "study-profiles/explore-4-alloc.pb.gz", Kind: "alloc", Phase: "explore", Step: 4},
	}
	md := string(render(t, a, Options{Format: Markdown, Plan: loadPlan(t)}))
	if want := "Profiles: 3 kept (1 alloc, 2 cpu) — download via study-profiles/"; !strings.Contains(md, want) {
		t.Errorf("the report lacks %q", want)
	}
	if md := string(render(t, fixedStudy(t, 1), Options{Format: Markdown, Plan: loadPlan(t)})); strings.Contains(md, "Profiles:") {
		t.Error("a study without profiles reports some")
	}
}
