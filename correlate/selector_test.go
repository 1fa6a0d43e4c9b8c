package correlate

import (
	"strings"
	"testing"
)

func TestInjectSelector(t *testing.T) {
	ms, err := ParseSelector(`{job="shop", env=~"prod|staging"}`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
	}{
		{"bare metric", `go_goroutines`, `go_goroutines{job="shop",env=~"prod|staging"}`},
		{"inside rate with range", `sum(rate(process_cpu_seconds_total[15s]))`,
			`sum(rate(process_cpu_seconds_total{job="shop",env=~"prod|staging"}[15s]))`},
		{"existing matchers kept and extended", `x{container!=""}`, `x{container!="",job="shop",env=~"prod|staging"}`},
		{"own job matcher wins", `rate(x{job="db"}[1m])`, `rate(x{job="db",env=~"prod|staging"}[1m])`},
		{"every selector of a ratio", `sum(a) / sum(b)`,
			`sum(a{job="shop",env=~"prod|staging"}) / sum(b{job="shop",env=~"prod|staging"})`},
		{"by clause labels untouched", `sum by (route) (rate(h_count[1m]))`,
			`sum by (route) (rate(h_count{job="shop",env=~"prod|staging"}[1m]))`},
		{"trailing by and on", `sum(a) by (job) * on(job) group_left(le) b`,
			`sum(a{job="shop",env=~"prod|staging"}) by (job) * on(job) group_left(le) b{job="shop",env=~"prod|staging"}`},
		{"numbers, comparisons and offset", `sum(a offset 5m) > 1e-3 and b < 9e18`,
			`sum(a{job="shop",env=~"prod|staging"} offset 5m) > 1e-3 and b{job="shop",env=~"prod|staging"} < 9e18`},
		{"string with braces untouched", `label_replace(a, "dst", "{x}", "src", "(.*)")`,
			`label_replace(a{job="shop",env=~"prod|staging"}, "dst", "{x}", "src", "(.*)")`},
		{"bare braces selector", `{__name__="up"}`, `{__name__="up",job="shop",env=~"prod|staging"}`},
		{"quantile label", `max(go_gc_duration_seconds{quantile="1"})`,
			`max(go_gc_duration_seconds{quantile="1",job="shop",env=~"prod|staging"})`},
		{"histogram_quantile with le", `histogram_quantile(0.99, sum by (le) (rate(h_bucket[30s])))`,
			`histogram_quantile(0.99, sum by (le) (rate(h_bucket{job="shop",env=~"prod|staging"}[30s])))`},
		{"subquery", `max_over_time(rate(a[1m])[5m:30s])`,
			`max_over_time(rate(a{job="shop",env=~"prod|staging"}[1m])[5m:30s])`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InjectSelector(tt.in, ms)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("InjectSelector(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			again, err := InjectSelector(got, ms)
			if err != nil || again != got {
				t.Errorf("injecting twice changed %q to %q (err %v)", got, again, err)
			}
		})
	}
}

func TestInjectSelectorRejectsBrokenPromQL(t *testing.T) {
	ms := []Matcher{{Label: "job", Op: "=", Value: `"shop"`}}
	for _, in := range []string{`rate(x[1m)`, `x{job="a"`, `x{job=}`, `"unterminated`, `x{a="1" b="2"}`} {
		if _, err := InjectSelector(in, ms); err == nil {
			t.Errorf("InjectSelector(%q): want an error", in)
		}
	}
}

func TestParseSelector(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{`{job="shop"}`, `job="shop"`, ""},
		{`job="shop", instance!~"10\\..*"`, `job="shop"|instance!~"10\\..*"`, ""},
		{``, ``, ""},
		{`{job="shop"`, "", "missing closing brace"},
		{`{job shop}`, "", "expected =, !=, =~ or !~"},
		{`{job=shop}`, "", "expected a quoted value"},
	}
	for _, tt := range tests {
		ms, err := ParseSelector(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "observe.selector") {
				t.Errorf("ParseSelector(%q) error = %v, want one naming observe.selector and %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSelector(%q): %v", tt.in, err)
			continue
		}
		var parts []string
		for _, m := range ms {
			parts = append(parts, m.String())
		}
		if got := strings.Join(parts, "|"); got != tt.want {
			t.Errorf("ParseSelector(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCatalogExpandsEveryTemplate(t *testing.T) {
	ms, _ := ParseSelector(`{job="shop"}`)
	sigs := Catalog(map[string]string{
		"pool_wait": `rate(go_sql_wait_duration_seconds_total{job="shop"}[15s])`,
		"queue":     `sum(my_queue_depth)`,
	})
	var sawOverride, sawCustom bool
	for _, s := range sigs {
		all := append([]string(nil), s.Queries...)
		for _, a := range s.Context {
			all = append(all, a.Queries...)
		}
		for _, q := range all {
			got, err := expand(q, ms, 0)
			if err != nil {
				t.Fatalf("%s: %v", s.Name, err)
			}
			if strings.Contains(got, "$rate") || !strings.Contains(got, `job="shop"`) {
				t.Errorf("%s: expanded %q lacks the selector or kept $rate", s.Name, got)
			}
		}
		switch s.Name {
		case "pool_wait":
			sawOverride = len(s.Queries) == 1 && strings.Contains(s.Queries[0], "[15s]")
		case "queue":
			sawCustom = s.Resource == "custom"
		}
	}
	if !sawOverride || !sawCustom {
		t.Errorf("override applied %v, custom signal added %v", sawOverride, sawCustom)
	}
}

func FuzzInjectSelector(f *testing.F) {
	for _, s := range []string{`sum(rate(x[1m])) by (job)`, `a{b="c"} / on(d) e`, `{__name__=~"x.*"}`, `1 + 2e-3`, `"s"`} {
		f.Add(s)
	}
	ms := []Matcher{{Label: "job", Op: "=", Value: `"shop"`}}
	f.Fuzz(func(t *testing.T, expr string) {
		out, err := InjectSelector(expr, ms)
		if err != nil {
			return
		}
		again, err := InjectSelector(out, ms)
		if err != nil {
			t.Fatalf("re-injecting %q (from %q): %v", out, expr, err)
		}
		if again != out {
			t.Fatalf("not idempotent: %q → %q → %q", expr, out, again)
		}
	})
}
