package derive

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// harExtract is one value a step's response gives a later request.
type harExtract struct {
	Var  string
	Path string // gjson path
}

func writeHARPlan(w io.Writer, opts HAROptions, base, host string, steps []*harStep, dropped, env []string, total int) error {
	if len(steps) == 0 {
		return fmt.Errorf("no request to %s in the HAR document", host)
	}
	b := bufio.NewWriter(w)
	pf := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	if opts.Command != "" {
		pf("# Derived by `%s`\n", opts.Command)
	}
	first, last := steps[0].e.Started, steps[len(steps)-1].e.Started
	pf("# from a HAR recording: %d of its %d requests went to %s (recorded %s, over %s);\n",
		len(steps), total, host, first.UTC().Format(time.RFC3339), last.Sub(first).Round(time.Second))
	if len(dropped) > 0 {
		pf("# left out (static assets, other hosts): %s\n", strings.Join(limit(dropped, 6), ", "))
	}
	pf("version: 1\nname: %s\n", yq(opts.Name))
	pf("description: %s\n\n", yq(fmt.Sprintf("The journey recorded in a HAR file: %d requests to %s.", len(steps), host)))
	pf("target:\n  base_url: %s   # the recording's origin unless --base-url said otherwise\n  timeout: 10s\n", yq(base))
	if len(env) > 0 {
		pf("  env: [%s]   # secrets the recording carried: set them in the environment, they are not written here\n", strings.Join(env, ", "))
	}
	pf("\n# PLACEHOLDER: the load. One recorded user says nothing of the rate; take it from logs\n# (headroom plan from-logs) or the business figures.\n")
	pf("load:\n  model: open\n  max_vus: 50\n  stages:\n    - { duration: 30s, target: 1 }\n\n")
	pf("journeys:\n  - name: recorded\n    weight: 1\n    steps:\n")
	for _, st := range steps {
		name := st.method + " " + Template(st.e.pathOnly())
		pf("      - name: %s\n", yq(name))
		pf("        %s: %s\n", strings.ToLower(st.method), yq(st.path))
		if len(st.headers) > 0 {
			keys := make([]string, 0, len(st.headers))
			for k := range st.headers {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, yq(k)+": "+yq(st.headers[k]))
			}
			pf("        headers: { %s }\n", strings.Join(parts, ", "))
		}
		switch {
		case st.json != nil:
			var buf strings.Builder
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(st.json); err != nil {
				return err
			}
			pf("        json: %s\n", strings.TrimSpace(buf.String()))
		case st.form != "":
			if pd := st.e.Request.PostData; pd != nil && pd.MimeType != "" {
				pf("        # body as recorded (%s); its Content-Type is not set by the plan: add it to headers\n", pd.MimeType)
			}
			pf("        body: %s\n", yq(st.form))
		}
		if s := st.e.Response.Status; s >= 100 && s < 400 {
			pf("        expect: { status: %d }   # as recorded\n", s)
		}
		if len(st.extract) > 0 {
			var parts []string
			for _, x := range st.extract {
				parts = append(parts, x.Var+": "+yq(x.Path))
			}
			pf("        extract: { %s }   # reused by a later request\n", strings.Join(parts, ", "))
		}
		for _, c := range st.comment {
			pf("        # %s\n", c)
		}
		if st.think > 0 {
			pf("      - think: %s..%s   # the recorded pause\n", dur(st.think), dur(st.think))
		}
	}
	return b.Flush()
}

func (e *HAREntry) pathOnly() string {
	u := e.Request.URL
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
		if j := strings.IndexByte(u, '/'); j >= 0 {
			u = u[j:]
		} else {
			u = "/"
		}
	}
	return u
}

func limit(xs []string, n int) []string {
	if len(xs) <= n {
		return xs
	}
	return append(xs[:n:n], fmt.Sprintf("and %d more", len(xs)-n))
}
