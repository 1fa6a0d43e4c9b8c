package kube

import (
	"bytes"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// YAML renders objects as one multi-document YAML stream, in order, ready
// for kubectl apply -f -. Each object must carry its apiVersion and kind.
func YAML(objs ...runtime.Object) ([]byte, error) {
	var b bytes.Buffer
	for i, o := range objs {
		gvk := o.GetObjectKind().GroupVersionKind()
		if gvk.Kind == "" || gvk.Version == "" {
			return nil, fmt.Errorf("object %d (%T) has no apiVersion and kind", i, o)
		}
		doc, err := marshal(o)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gvk.Kind, err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// marshal is yaml.Marshal without the empty status a manifest never sets.
func marshal(o runtime.Object) ([]byte, error) {
	j, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	if st, ok := m["status"].(map[string]any); ok && len(st) == 0 {
		delete(m, "status")
	}
	return yaml.Marshal(m)
}
