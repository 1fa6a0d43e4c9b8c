package profiles

import (
	"testing"
)

func TestFlameMergesStacksByFunctionAndDropsTinyNodes(t *testing.T) {
	p := newCPU().
		add(600e6, burn, limited, srv).
		add(300e6, sha, burn, limited, srv).
		add(97e6, json, list, srv).
		add(3e6, gc). // 0.3% of the root: dropped
		roundTrip(t)
	root, err := Flame(p, CPU)
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "root" || root.Value != 1000e6 {
		t.Fatalf("root %s = %d, want root = 1e9 (every sample)", root.Name, root.Value)
	}
	if len(root.Children) != 1 || root.Children[0].Name != srv || root.Children[0].Value != 997e6 {
		t.Fatalf("root's children %+v, want only %s with 997e6", root.Children, srv)
	}
	s := root.Children[0]
	if len(s.Children) != 2 || s.Children[0].Name != limited || s.Children[0].Value != 900e6 || s.Children[1].Name != list {
		t.Fatalf("under %s: %+v, want %s (900e6) then %s", srv, s.Children, limited, list)
	}
	b := s.Children[0].Children
	if len(b) != 1 || b[0].Name != burn || b[0].Value != 900e6 {
		t.Fatalf("under %s: %+v, want one %s merged from both stacks (900e6)", limited, b, burn)
	}
	if len(b[0].Children) != 1 || b[0].Children[0].Name != sha || b[0].Children[0].Value != 300e6 {
		t.Errorf("under %s: %+v, want %s (300e6)", burn, b[0].Children, sha)
	}
	if len(b[0].Children[0].Children) != 0 || b[0].Children[0].Children == nil {
		t.Errorf("a leaf's children = %#v, want an empty list (JSON [])", b[0].Children[0].Children)
	}
}

func TestFlameRefusesAnUnknownKind(t *testing.T) {
	if _, err := Flame(newCPU().add(1e7, burn).roundTrip(t), Kind("cycles")); err == nil {
		t.Error("Flame of an unknown kind: no error")
	}
	if _, err := Flame(nil, CPU); err == nil {
		t.Error("Flame of no profile: no error")
	}
}
