package pipeline

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/headroom-sre/headroom/generator"
)

// Decode reads a run.json or study.json document by its "kind". A
// document without a kind (written before kinds existed) or of an unknown
// kind is an error that names the keys it has.
func Decode(data []byte) (Artifact, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return Artifact{}, fmt.Errorf("not a JSON object: %w", err)
	}
	var kind Kind
	if raw, ok := keys["kind"]; ok {
		if err := json.Unmarshal(raw, &kind); err != nil {
			return Artifact{}, fmt.Errorf("kind: %w", err)
		}
	}
	switch kind {
	case KindRun:
		r := &RunResult{Result: &generator.Result{}}
		if err := json.Unmarshal(data, r); err != nil {
			return Artifact{}, fmt.Errorf("run: %w", err)
		}
		if r.Result.Hist == nil {
			r.Result.Hist = mergedHistogram(r.Result.Seconds)
		}
		return Artifact{Kind: KindRun, Run: r}, nil
	case KindStudy:
		r := &StudyResult{}
		if err := json.Unmarshal(data, r); err != nil {
			return Artifact{}, fmt.Errorf("study: %w", err)
		}
		return Artifact{Kind: KindStudy, Study: r}, nil
	case "":
		return Artifact{}, fmt.Errorf("no \"kind\": not a run or study written by this version of headroom (its keys: %s)", keyList(keys))
	}
	return Artifact{}, fmt.Errorf("kind %q is neither %q nor %q", kind, KindRun, KindStudy)
}

func keyList(m map[string]json.RawMessage) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	if len(ks) == 0 {
		return "none"
	}
	return strings.Join(ks, ", ")
}

// mergedHistogram rebuilds a decoded run's overall histogram from its
// windows (nil when one cannot be decoded).
func mergedHistogram(rs []generator.SecondRecord) *hdrhistogram.Histogram {
	h, err := generator.Merged(rs, "")
	if err != nil {
		return nil
	}
	return h
}
