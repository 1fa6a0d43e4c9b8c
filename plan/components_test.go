package plan

import (
	"strings"
	"testing"
)

const componentsBase = `version: 1
target: { base_url: "http://127.0.0.1:18081" }
load: { stages: [{ duration: 1m, target: 10 }] }
journeys:
  - name: browse
    steps:
      - get: /v1/products
observe:
  prometheus: http://127.0.0.1:19090
  selector: '{job="shop"}'
`

// TestComponentsAndDatabaseParse reads observe.components and
// observe.database as the issue names them.
func TestComponentsAndDatabaseParse(t *testing.T) {
	p, err := Parse("plan.yaml", []byte(componentsBase+`  components:
    - { name: postgres, kind: database, selector: '{job="postgres"}' }
    - { name: pgbouncer, kind: pooler, selector: '{job="pgbouncer"}' }
    - { name: db-host, kind: host, selector: '{job="node"}' }
  database: { driver: postgres, dsn_env: HEADROOM_DEMO_DSN }
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Component{
		{"postgres", KindDatabase, `{job="postgres"}`},
		{"pgbouncer", KindPooler, `{job="pgbouncer"}`},
		{"db-host", KindHost, `{job="node"}`},
	}
	if len(p.Observe.Components) != len(want) {
		t.Fatalf("components: %+v", p.Observe.Components)
	}
	for i, c := range want {
		if p.Observe.Components[i] != c {
			t.Errorf("components[%d] = %+v, want %+v", i, p.Observe.Components[i], c)
		}
	}
	if db := p.Observe.Database; db == nil || db.Driver != "postgres" || db.DSNEnv != "HEADROOM_DEMO_DSN" {
		t.Errorf("database = %+v", db)
	}
}

// TestComponentsErrorsNameLineAndField: every mistake gives its line, its
// field and what is wanted; a DSN written in the plan is refused without
// being echoed whole.
func TestComponentsErrorsNameLineAndField(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown kind", `  components:
    - { name: pg, kind: db, selector: '{job="postgres"}' }
`, []string{":12:", "observe.components[0].kind", `"db" is not a kind`, "service, database, pooler, host, cache, downstream"}},
		{"missing name", `  components:
    - { kind: database, selector: '{job="postgres"}' }
`, []string{":12:", "observe.components[0].name", "required"}},
		{"duplicate name", `  components:
    - { name: pg, kind: database, selector: '{job="postgres"}' }
    - { name: pg, kind: pooler, selector: '{job="pgbouncer"}' }
`, []string{":13:", "observe.components[1].name", "already the name of observe.components[0]"}},
		{"bad selector", `  components:
    - { name: pg, kind: database, selector: 'job="postgres"' }
`, []string{":12:", "observe.components[0].selector", "label matchers in braces"}},
		{"empty selector", `  components:
    - { name: pg, kind: database, selector: '{}' }
`, []string{"observe.components[0].selector", "selects everything"}},
		{"unknown field", `  components:
    - { name: pg, kind: database, selector: '{job="x"}', url: x }
`, []string{":12:", "observe.components[0].url"}},
		{"driver", `  database: { driver: mysql, dsn_env: DSN }
`, []string{":11:", "observe.database.driver", `"mysql" is not supported`}},
		{"dsn written in the plan", `  database:
    driver: postgres
    dsn_env: "postgres://app:secret@db:5432/shop"
`, []string{":13:", "observe.database.dsn_env", "not an environment variable name"}},
		{"dsn_env missing", `  database: { driver: postgres }
`, []string{"observe.database.dsn_env", "required"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("plan.yaml", []byte(componentsBase+c.yaml))
			if err == nil {
				t.Fatal("parsed without error")
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("the error shows the DSN's password: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
