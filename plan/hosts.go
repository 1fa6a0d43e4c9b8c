package plan

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is where a connection goes: a normalised host (lower case, no
// trailing dot, no brackets, an IP in its canonical form) and a port
// number. Two spellings of one endpoint ("127.0.0.1:018601",
// "127.0.0.1:18601") are one Endpoint.
type Endpoint struct {
	Host string
	Port int
}

// String is host:port ("[::1]:8080" for IPv6).
func (e Endpoint) String() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// URLEndpoint is the endpoint of an absolute http(s) URL; a URL without a
// port has its scheme's (80, 443).
func URLEndpoint(raw string) (Endpoint, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return Endpoint{}, fmt.Errorf("%q is not a URL", raw)
	}
	def := 0
	switch strings.ToLower(u.Scheme) {
	case "http":
		def = 80
	case "https":
		def = 443
	default:
		return Endpoint{}, fmt.Errorf("%q must be an absolute http:// or https:// URL", raw)
	}
	if u.Hostname() == "" {
		return Endpoint{}, fmt.Errorf("%q has no host", raw)
	}
	return ParseEndpoint(u.Host, def)
}

// ParseEndpoint reads "host[:port]"; def is the port when none is given
// (0 leaves it 0, meaning any port in a HostList entry).
func ParseEndpoint(s string, def int) (Endpoint, error) {
	s = strings.TrimSpace(s)
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	} else if strings.Count(s, ":") == 1 {
		return Endpoint{}, fmt.Errorf("%q: bad port", s)
	}
	host = canonicalHost(host)
	if host == "" || strings.ContainsAny(host, "/ \t{}@?#") {
		return Endpoint{}, fmt.Errorf("%q is not a host name or address", s)
	}
	e := Endpoint{Host: host, Port: def}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.ContainsAny(port, "+-") {
			return Endpoint{}, fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, port)
		}
		e.Port = n
	}
	return e, nil
}

// canonicalHost lower-cases a host name and drops its trailing dot; an IP
// address is written canonically (an IPv4-mapped IPv6 address as IPv4).
func canonicalHost(h string) string {
	h = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(h), "."))
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().WithZone("").String()
	}
	return h
}

// HostList is an allow-list of "host[:port]" entries: a name or address,
// "*.example.com" for any name under example.com, or "*" for any host; an
// entry without a port allows every port of its host. Ports compare as
// numbers.
type HostList struct {
	entries []Endpoint // Host "*" or "*.x" for patterns; Port 0 = any
	text    []string
}

// ParseHostList reads entries; an error names the first bad one.
func ParseHostList(entries []string) (HostList, error) {
	var l HostList
	for _, raw := range entries {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		e, err := ParseEndpoint(raw, 0)
		if err != nil {
			return HostList{}, err
		}
		if strings.Contains(e.Host, "*") && e.Host != "*" && (!strings.HasPrefix(e.Host, "*.") || strings.Count(e.Host, "*") > 1) {
			return HostList{}, fmt.Errorf("%q: a pattern is * or *.domain", raw)
		}
		l.entries = append(l.entries, e)
		l.text = append(l.text, raw)
	}
	return l, nil
}

// MustHostList is ParseHostList for lists known to be good.
func MustHostList(entries ...string) HostList {
	l, err := ParseHostList(entries)
	if err != nil {
		panic(err)
	}
	return l
}

// Allows reports whether the list allows e.
func (l HostList) Allows(e Endpoint) bool {
	for _, a := range l.entries {
		if a.Port != 0 && a.Port != e.Port {
			continue
		}
		switch {
		case a.Host == "*" || a.Host == e.Host:
			return true
		case strings.HasPrefix(a.Host, "*.") && strings.HasSuffix(e.Host, a.Host[1:]):
			return true
		}
	}
	return false
}

// Len is how many entries the list has.
func (l HostList) Len() int { return len(l.entries) }

// String is the entries as given, comma-separated ("(none)" when empty).
func (l HostList) String() string {
	if len(l.text) == 0 {
		return "(none)"
	}
	return strings.Join(l.text, ", ")
}

// Local reports whether e names this machine at port: a loopback or
// unspecified address, "localhost", or one of addrs (the machine's own).
func (e Endpoint) Local(port int, addrs ...string) bool {
	if e.Port != port {
		return false
	}
	if e.Host == "localhost" || strings.HasSuffix(e.Host, ".localhost") {
		return true
	}
	if a, err := netip.ParseAddr(e.Host); err == nil && (a.IsLoopback() || a.IsUnspecified()) {
		return true
	}
	for _, h := range addrs {
		if canonicalHost(h) == e.Host {
			return true
		}
	}
	return false
}
