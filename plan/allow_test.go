package plan

import "testing"

// TestAllowed proves host matching: case-insensitive, port and brackets
// stripped, and exact names only.
func TestAllowed(t *testing.T) {
	p := &Plan{Target: Target{Allow: []string{"127.0.0.1", "Shop.Local", "::1", "[fe80::2]:8080"}}}
	cases := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.1:18081", true},
		{"shop.local", true},
		{"SHOP.LOCAL:443", true},
		{"shop.local.", true},
		{"[::1]:8080", true},
		{"::1", true},
		{"[::1]", true},
		{"fe80::2", true},
		{"localhost", false}, // a different name for the same machine is not listed
		{"127.0.0.2", false},
		{"evil.shop.local", false},
		{"", false},
		{":80", false},
	}
	for _, c := range cases {
		if got := p.Allowed(c.host); got != c.want {
			t.Errorf("Allowed(%q) = %v, want %v", c.host, got, c.want)
		}
	}
}

// TestAllowedDefaultsToBaseURLHost proves that without target.allow only
// the base URL's host may receive load.
func TestAllowedDefaultsToBaseURLHost(t *testing.T) {
	p := &Plan{Target: Target{BaseURL: "http://[::1]:18081/api"}}
	if !p.Allowed("[::1]:9999") {
		t.Error("base URL host ::1 not allowed")
	}
	if p.Allowed("127.0.0.1") {
		t.Error("127.0.0.1 allowed though only ::1 is the base URL's host")
	}
	if (&Plan{}).Allowed("127.0.0.1") {
		t.Error("a plan without base URL or allow list allows a host")
	}
}
