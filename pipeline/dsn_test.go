package pipeline

import (
	"testing"

	"github.com/headroom-sre/headroom/plan"
)

// TestDatabaseDSNComesFromTheNamedVariable: the pipeline resolves
// observe.database.dsn_env with its LookupEnv and reads no other
// variable; a plan without observe.database, or with the variable unset,
// hands correlation no DSN.
func TestDatabaseDSNComesFromTheNamedVariable(t *testing.T) {
	var asked []string
	h := Hooks{LookupEnv: func(name string) (string, bool) {
		asked = append(asked, name)
		if name == "SHOP_DB_DSN" {
			return "postgres://ro@127.0.0.1/shop", true
		}
		return "", false
	}}
	withDB := func(env string) *plan.Plan {
		return &plan.Plan{Observe: plan.Observe{Database: &plan.Database{Driver: "postgres", DSNEnv: env}}}
	}
	if got := h.databaseDSN(withDB("SHOP_DB_DSN")); got != "postgres://ro@127.0.0.1/shop" {
		t.Errorf("DSN %q", got)
	}
	if got := h.databaseDSN(withDB("UNSET_DSN")); got != "" {
		t.Errorf("unset variable gave %q", got)
	}
	if got := h.databaseDSN(&plan.Plan{}); got != "" {
		t.Errorf("no observe.database gave %q", got)
	}
	if len(asked) != 2 || asked[0] != "SHOP_DB_DSN" || asked[1] != "UNSET_DSN" {
		t.Errorf("variables read: %v, want only the ones observe.database.dsn_env names", asked)
	}
}
