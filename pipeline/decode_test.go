package pipeline

import (
	"strings"
	"testing"
)

func TestDecodeRefusesWhatItCannotTell(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"not an object", `[1]`, "not a JSON object"},
		{"old run", `{"start":"2026-01-01T00:00:00Z","summary":{},"windows":[]}`, `no "kind": not a run or study written by this version of headroom (its keys: start, summary, windows)`},
		{"empty", `{}`, "(its keys: none)"},
		{"unknown kind", `{"kind":"benchmark"}`, `kind "benchmark" is neither "run" nor "study"`},
		{"kind not a string", `{"kind":3}`, "kind:"},
		{"bad run", `{"kind":"run","windows":{}}`, "run:"},
		{"bad study", `{"kind":"study","steps":3}`, "study:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeReadsEachKind(t *testing.T) {
	run, err := Decode([]byte(`{"kind":"run","plan":"p","outcome":"failed","summary":{"requests":3},"windows":[],"slo":[],"findings":[]}`))
	if err != nil || run.Kind != KindRun || run.Run.Plan != "p" || run.Run.Outcome != Failed || run.Run.Summary.Requests != 3 {
		t.Errorf("run: %+v, %v", run, err)
	}
	study, err := Decode([]byte(`{"kind":"study","outcome":"cancelled","plan":"p","steps":[{"index":1,"phase":"baseline","latency_ms":{"p99":4}}],"windows":[{"phase":"baseline","step":1,"requests":2}]}`))
	if err != nil || study.Kind != KindStudy || study.Study.Outcome != Cancelled || study.Study.Plan != "p" ||
		study.Study.Steps[0].Latency.P99 != 4 || study.Study.Windows[0].Step != 1 || study.Study.Windows[0].Requests != 2 {
		t.Errorf("study: %+v, %v", study, err)
	}
}
