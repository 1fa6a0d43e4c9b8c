package obs

import (
	"context"
	"strings"
	"testing"
)

func TestStartRejectsBadConfigNamingTheField(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{}, "Config.Dir"},
		{"negative timeout", Config{Dir: "x", ReadyTimeout: -1}, "Config.ReadyTimeout"},
		{"negative max traces", Config{Dir: "x", MaxTraces: -1}, "Config.MaxTraces"},
		{"not host:port", Config{Dir: "x", ScrapeShop: []string{"127.0.0.1"}}, "Config.ScrapeShop[0]"},
		{"bad port", Config{Dir: "x", ScrapeFront: []string{"127.0.0.1:99999"}}, "Config.ScrapeFront[0]"},
		{"not loopback", Config{Dir: "x", ScrapeHeadroom: []string{"127.0.0.1:1", "10.0.0.1:80"}}, "Config.ScrapeHeadroom[1]"},
		{"bad root", Config{Dir: "x", Root: "/nonexistent"}, "Config.Root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, err := Start(context.Background(), tt.cfg)
			if err == nil {
				_ = stack.Stop()
				t.Fatal("Start accepted the config")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %s", err, tt.want)
			}
		})
	}
}

func TestCheckTargetAcceptsLoopbackOnly(t *testing.T) {
	tests := []struct {
		target string
		ok     bool
	}{
		{"127.0.0.1:18081", true},
		{"localhost:9090", true},
		{"[::1]:8080", true},
		{"127.0.0.2:80", true},
		{"192.168.1.10:80", false},
		{"example.com:80", false},
		{"127.0.0.1:0", false},
		{"127.0.0.1:http", false},
		{"127.0.0.1", false},
	}
	for _, tt := range tests {
		if err := checkTarget(tt.target); (err == nil) != tt.ok {
			t.Errorf("checkTarget(%q) = %v, want ok=%v", tt.target, err, tt.ok)
		}
	}
}

func TestFreePortsAreDistinct(t *testing.T) {
	ports, err := freePorts(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || seen[p] {
			t.Fatalf("ports %v: want 5 distinct positive ports", ports)
		}
		seen[p] = true
	}
}

func TestSourceRootHoldsTheScripts(t *testing.T) {
	root, err := findRoot("")
	if err != nil {
		t.Fatal(err)
	}
	if root != sourceRoot() {
		t.Errorf("findRoot = %q, want the source root %q", root, sourceRoot())
	}
}

func TestMaxTracesReachesTheScripts(t *testing.T) {
	for _, tt := range []struct {
		max  int
		want string // "" = the variable is not set (the script's default)
	}{{0, ""}, {3000, "OBS_MAX_TRACES=3000"}} {
		env, err := Config{Dir: "x", MaxTraces: tt.max}.env()
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, kv := range env {
			if strings.HasPrefix(kv, "OBS_MAX_TRACES=") {
				got = kv
			}
		}
		if got != tt.want {
			t.Errorf("MaxTraces %d: environment has %q, want %q", tt.max, got, tt.want)
		}
	}
}

func TestStartShopRejectsBadConfigNamingTheField(t *testing.T) {
	for _, tt := range []struct {
		cfg  ShopConfig
		want string
	}{
		{ShopConfig{}, "ShopConfig.Dir"},
		{ShopConfig{Dir: t.TempDir(), Addr: "10.0.0.1:80"}, "ShopConfig.Addr"},
		{ShopConfig{Dir: t.TempDir(), Root: "/nonexistent"}, "ShopConfig.Root"},
	} {
		p, err := StartShop(context.Background(), tt.cfg)
		if err == nil {
			_ = p.Stop()
			t.Fatalf("StartShop(%+v) started", tt.cfg)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("StartShop(%+v) error %q does not name %s", tt.cfg, err, tt.want)
		}
	}
}
