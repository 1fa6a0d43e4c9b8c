package server

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// DefaultAllow is the server's allow-list when --allow is not given: load
// goes to this machine only.
var DefaultAllow = []string{"127.0.0.1", "localhost", "::1"}

// allowList is the server's own list of hosts load may go to, on top of
// each plan's target.allow. An entry is a host name or address ("shop.internal",
// "10.0.0.7"), "*.example.com" for any name under example.com, or "*"
// for any host.
type allowList []string

// allows reports whether host (with or without a port) is on the list.
func (l allowList) allows(host string) bool {
	h := normalHost(host)
	if h == "" {
		return false
	}
	for _, a := range l {
		a = normalHost(a)
		switch {
		case a == "*" || a == h:
			return true
		case strings.HasPrefix(a, "*.") && strings.HasSuffix(h, a[1:]):
			return true
		}
	}
	return false
}

// check returns an errInvalid naming every host the plan (with the job's
// settings) would send load to that the server does not allow.
func (l allowList) check(p *plan.Plan, s pipeline.Settings) error {
	var outside []string
	seen := map[string]bool{}
	for _, h := range loadHosts(p, s) {
		if !l.allows(h) && !seen[h] {
			seen[h] = true
			outside = append(outside, h)
		}
	}
	if len(outside) == 0 {
		return nil
	}
	sort.Strings(outside)
	return fmt.Errorf("%w: host %s is outside this server's allow-list (%s); start the server with --allow to add it",
		errInvalid, strings.Join(outside, ", "), strings.Join(l, ", "))
}

// loadHosts is every host a plan run with these settings may send load
// to: the base URL's, the verify URL's, and each name in target.allow (a
// journey may aim at any of them).
func loadHosts(p *plan.Plan, s pipeline.Settings) []string {
	var hosts []string
	for _, raw := range []string{p.Target.BaseURL, s.BaseURL, p.Capacity.VerifyURL, s.VerifyURL} {
		if raw == "" {
			continue
		}
		if u, err := url.Parse(raw); err == nil && u.Hostname() != "" {
			hosts = append(hosts, normalHost(u.Host))
		}
	}
	for _, a := range p.Target.Allow {
		hosts = append(hosts, normalHost(a))
	}
	return hosts
}

// jobTarget is the host:port a job's load goes to: one load job per target
// at a time.
func jobTarget(p *plan.Plan, s pipeline.Settings) string {
	raw := p.Target.BaseURL
	if s.BaseURL != "" {
		raw = s.BaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return strings.ToLower(u.Host)
}

// normalHost lower-cases host and strips a port, IPv6 brackets and a
// trailing dot.
func normalHost(host string) string {
	h := strings.TrimSpace(host)
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
