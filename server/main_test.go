package server_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/headroom-sre/headroom/store/storetest"
)

// TestMain checks every /api/v1 response the tests receive against the
// OpenAPI document (openAPICheck), and stops the PostgreSQL server the
// claim test starts, by its PID.
func TestMain(m *testing.M) {
	check := &openAPICheck{next: http.DefaultTransport}
	http.DefaultTransport = check
	code := storetest.Main(m)
	if check.report() && code == 0 {
		code = 1
	}
	os.Exit(code)
}
