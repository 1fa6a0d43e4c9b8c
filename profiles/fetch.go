// Package profiles fetches Go pprof profiles from a service's
// /debug/pprof/ base URL while a load step runs, and compares a degraded
// step's profile with the baseline's by function: where the CPU (or the
// allocations, or the lock waits) went, its share, the change in points and
// the cost per request. Profiles are parsed with github.com/google/pprof/profile.
package profiles

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// Kind is one of the runtime's profiles.
type Kind string

// The profiles Headroom fetches.
const (
	CPU    Kind = "cpu"    // /profile?seconds=N: CPU time over the span
	Allocs Kind = "allocs" // allocations made during the span (delta)
	Heap   Kind = "heap"   // in-use heap change over the span (delta)
	Mutex  Kind = "mutex"  // time waiting for locks held by others during the span
	Block  Kind = "block"  // time blocked (channels, locks, select) during the span
)

// Name is the kind as the API, the CLI's files and the study document
// name it: the runtime's "allocs" is "alloc", the others as they are.
func (k Kind) Name() string {
	if k == Allocs {
		return "alloc"
	}
	return string(k)
}

// path is the profile's name under the base URL.
func (k Kind) path() (string, error) {
	switch k {
	case CPU:
		return "profile", nil
	case Allocs, Heap, Mutex, Block:
		return string(k), nil
	}
	return "", fmt.Errorf("profiles: unknown profile kind %q (cpu, allocs, heap, mutex, block)", k)
}

// DefaultMaxBytes caps a fetched profile (compressed) unless the Fetcher
// sets its own.
const DefaultMaxBytes = 32 << 20

// Fetcher fetches profiles from one service.
type Fetcher struct {
	// Base is the service's pprof base URL, e.g. http://127.0.0.1:6060/debug/pprof.
	Base string
	// Client makes the requests (default: a client with no timeout of its
	// own; the span plus Slack bounds each request).
	Client *http.Client
	// MaxBytes caps a profile's size (default DefaultMaxBytes).
	MaxBytes int64
	// Slack is added to the span for the request's deadline (default 10s).
	Slack time.Duration
}

// Fetched is one profile: its raw bytes (gzipped protobuf, what `go tool
// pprof` reads) and its parsed form.
type Fetched struct {
	Kind    Kind
	Start   time.Time
	Span    time.Duration
	Raw     []byte
	Profile *profile.Profile
}

// ValidateBase checks a pprof base URL: http or https, with a host.
func ValidateBase(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", base)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q: a base URL takes no query or fragment", base)
	}
	return nil
}

// Fetch asks for a kind profile covering span (whole seconds, at least 1:
// the runtime profiles by the second) and waits for it: the call returns
// after about span. ctx cancels it.
func (f Fetcher) Fetch(ctx context.Context, kind Kind, span time.Duration) (*Fetched, error) {
	name, err := kind.path()
	if err != nil {
		return nil, err
	}
	if err := ValidateBase(f.Base); err != nil {
		return nil, fmt.Errorf("profiles: pprof base URL %v", err)
	}
	secs := int((span + time.Second/2) / time.Second)
	if secs < 1 {
		secs = 1
	}
	slack := f.Slack
	if slack <= 0 {
		slack = 10 * time.Second
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+slack)
	defer cancel()
	u := strings.TrimSuffix(f.Base, "/") + "/" + name + fmt.Sprintf("?seconds=%d", secs)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("profiles: %s: %v", u, err)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("profiles: %s profile: %w", kind, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("profiles: %s profile: %s answered %s: %s", kind, u, resp.Status, strings.TrimSpace(string(msg)))
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("profiles: %s profile: reading %s: %w", kind, u, err)
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("profiles: %s profile from %s is larger than the %d-byte cap", kind, u, limit)
	}
	p, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("profiles: %s profile from %s: %w", kind, u, err)
	}
	return &Fetched{Kind: kind, Start: start, Span: time.Duration(secs) * time.Second, Raw: raw, Profile: p}, nil
}

// Parse reads a profile (gzipped or plain protobuf, or the legacy formats
// the pprof package knows).
func Parse(raw []byte) (*profile.Profile, error) {
	if len(raw) == 0 {
		return nil, errors.New("empty profile")
	}
	p, err := profile.Parse(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not a profile: %w", err)
	}
	return p, nil
}
