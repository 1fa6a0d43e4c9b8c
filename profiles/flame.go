package profiles

import (
	"fmt"
	"sort"

	"github.com/google/pprof/profile"
)

// Node is one frame of a flame graph: a function, the value of every
// sample whose stack passes through it along this path (in the profile's
// sample unit), and its callees.
type Node struct {
	Name     string  `json:"name"`
	Value    int64   `json:"value"`
	Children []*Node `json:"children"`
}

// MinFlameShare is the share of the root under which Flame drops a node.
const MinFlameShare = 0.005

// Flame builds p's flame graph for kind's sample type (cpu, alloc_space,
// delay, …): a root holding every sample, and under it the stacks from the
// outermost caller in, children merged by function name along each stack,
// the largest first. Nodes under MinFlameShare of the root are dropped
// (the root keeps their value).
func Flame(p *profile.Profile, kind Kind) (*Node, error) {
	if p == nil {
		return nil, fmt.Errorf("profiles: no %s profile", kind)
	}
	idx, err := valueIndex(p, kind)
	if err != nil {
		return nil, err
	}
	root := &Node{Name: "root", Children: []*Node{}}
	index := map[*Node]map[string]*Node{}
	child := func(n *Node, name string) *Node {
		m := index[n]
		if m == nil {
			m = map[string]*Node{}
			index[n] = m
		}
		c := m[name]
		if c == nil {
			c = &Node{Name: name, Children: []*Node{}}
			m[name] = c
			n.Children = append(n.Children, c)
		}
		return c
	}
	var stack []string
	for _, smp := range p.Sample {
		if idx >= len(smp.Value) || smp.Value[idx] <= 0 {
			continue
		}
		v := smp.Value[idx]
		root.Value += v
		stack = frames(smp, stack[:0])
		n := root
		for i := len(stack) - 1; i >= 0; i-- { // outermost caller first
			n = child(n, stack[i])
			n.Value += v
		}
	}
	prune(root, int64(float64(root.Value)*MinFlameShare))
	return root, nil
}

// prune drops n's descendants whose value is under min and orders the
// rest, the largest first.
func prune(n *Node, min int64) {
	kept := n.Children[:0]
	for _, c := range n.Children {
		if c.Value >= min && c.Value > 0 {
			prune(c, min)
			kept = append(kept, c)
		}
	}
	n.Children = kept
	sort.Slice(kept, func(i, j int) bool {
		if kept[i].Value != kept[j].Value {
			return kept[i].Value > kept[j].Value
		}
		return kept[i].Name < kept[j].Name
	})
}

// frames appends a sample's function names to stack, leaf first (an
// inlined call before the function it was inlined into; an unsymbolized
// location by its address).
func frames(smp *profile.Sample, stack []string) []string {
	for _, loc := range smp.Location {
		for _, ln := range loc.Line { // Line[0] is the innermost inlined call
			name := "?"
			if ln.Function != nil && ln.Function.Name != "" {
				name = ln.Function.Name
			}
			stack = append(stack, name)
		}
		if len(loc.Line) == 0 {
			stack = append(stack, fmt.Sprintf("0x%x", loc.Address))
		}
	}
	return stack
}

// valueIndex is the index of kind's sample type in p (the last type when p
// has no such type, as pprof does).
func valueIndex(p *profile.Profile, kind Kind) (int, error) {
	if _, err := kind.path(); err != nil {
		return 0, err
	}
	if len(p.SampleType) == 0 {
		return 0, fmt.Errorf("profiles: the %s profile has no sample types", kind)
	}
	want := sampleType(kind)
	for i, st := range p.SampleType {
		if st.Type == want {
			return i, nil
		}
	}
	return len(p.SampleType) - 1, nil
}
