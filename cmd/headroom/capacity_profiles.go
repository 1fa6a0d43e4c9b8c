package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/profiles"
)

// profileKeeper collects the profiles a study fetched (observe.pprof) as
// its steps end, to write them beside the study's document: the hook
// only appends, so it never holds up the load.
type profileKeeper struct {
	mu   sync.Mutex
	kept []profiles.Kept
}

func (k *profileKeeper) add(p profiles.Kept) {
	k.mu.Lock()
	k.kept = append(k.kept, p)
	k.mu.Unlock()
}

func (k *profileKeeper) all() []profiles.Kept {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]profiles.Kept(nil), k.kept...)
}

// profilesDir is where the profiles of a study written to out go: the
// folder beside it named after it ("study.json" → "study-profiles").
func profilesDir(out string) string {
	return strings.TrimSuffix(out, filepath.Ext(out)) + "-profiles"
}

// write writes each profile to dir as <phase>-<step>-<kind>.pb.gz (what
// go tool pprof reads) and lists them with their top functions, their
// file names relative to docDir (the document's folder).
func (k *profileKeeper) write(dir, docDir string) ([]pipeline.ProfileFile, error) {
	kept := k.all()
	if len(kept) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	files := make([]string, len(kept))
	used := map[string]int{}
	for i, p := range kept {
		name := fmt.Sprintf("%s-%d-%s", p.Phase, p.Step, p.Kind.Name())
		if used[name]++; used[name] > 1 { // a step profiled twice (another component)
			name = fmt.Sprintf("%s-%d", name, used[name])
		}
		path := filepath.Join(dir, name+".pb.gz")
		if err := os.WriteFile(path, p.Raw, 0o644); err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(docDir, path)
		if err != nil {
			rel = path
		}
		files[i] = filepath.ToSlash(rel)
	}
	return pipeline.ProfileFiles(kept, files), nil
}

// printProfiles says where the profiles are, by kind.
func printProfiles(w io.Writer, dir string, fs []pipeline.ProfileFile) {
	if len(fs) == 0 {
		return
	}
	kinds := map[string]int{}
	for _, f := range fs {
		kinds[f.Kind]++
	}
	names := make([]string, 0, len(kinds))
	for k := range kinds {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%d %s", kinds[k], k)
	}
	fmt.Fprintf(w, "\nProfiles: %d kept in %s (%s), each a .pb.gz for go tool pprof; their top functions are in the study's \"profiles\".\n",
		len(fs), dir, strings.Join(parts, ", "))
}
