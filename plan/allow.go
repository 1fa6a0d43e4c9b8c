package plan

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// Allowed reports whether load may be sent to host, which may carry a port
// ("127.0.0.1:18081", "[::1]:80"). Names compare case-insensitively and
// exactly: "localhost" and "127.0.0.1" are different hosts, and only the
// names in target.allow (by default the base URL's host) are allowed.
func (p *Plan) Allowed(host string) bool {
	h := normalHost(host)
	if h == "" {
		return false
	}
	for _, a := range p.allowList() {
		if normalHost(a) == h {
			return true
		}
	}
	return false
}

// allowList is target.allow, or the base URL's host when it is empty.
func (p *Plan) allowList() []string {
	if len(p.Target.Allow) > 0 {
		return p.Target.Allow
	}
	if u, err := url.Parse(p.Target.BaseURL); err == nil && u.Hostname() != "" {
		return []string{u.Hostname()}
	}
	return nil
}

// normalHost lower-cases host and strips a port, IPv6 brackets and a
// trailing dot: "[::1]:8080" → "::1", "Example.COM." → "example.com".
func normalHost(host string) string {
	h := strings.TrimSpace(host)
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	} else if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	h = strings.TrimSuffix(h, ".")
	return strings.ToLower(h)
}

// urlHost returns the host of an absolute http(s) URL, or a problem.
func urlHost(raw string) (host, problem string) {
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", "is not a URL: " + err.Error()
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", "must be an absolute http:// or https:// URL"
	}
	if u.Hostname() == "" {
		return "", "has no host"
	}
	return u.Host, ""
}
