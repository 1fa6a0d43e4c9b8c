package server_test

import (
	"os"
	"testing"

	"github.com/headroom-sre/headroom/store/storetest"
)

// TestMain stops the PostgreSQL server the claim test starts, by its PID.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
