package correlate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Metrics answers PromQL range queries. Prometheus implements it; tests
// may use their own.
type Metrics interface {
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error)
}

// Series is one time series of a range query.
type Series struct {
	Labels  map[string]string
	Samples []Sample
}

// Sample is one value of a series.
type Sample struct {
	At    time.Time `json:"t"`
	Value float64   `json:"v"`
}

// ErrNotAvailable marks a source or a signal that could not be read; the
// error's text says why.
var ErrNotAvailable = errors.New("not available")

// QueryError is a query the server rejected (bad PromQL, unknown function):
// the query is at fault, not the server.
type QueryError struct {
	Query string
	Err   error
}

func (e *QueryError) Error() string { return fmt.Sprintf("query %s: %v", e.Query, e.Err) }
func (e *QueryError) Unwrap() error { return e.Err }

// summarized shows a remote system's error by its kind only: the text of
// a reply (which a misdirected URL could fill with anything) is never
// quoted to whoever reads the findings. The error itself stays wrapped.
type summarized struct{ err error }

func (s summarized) Error() string {
	var apiErr *v1.Error
	if errors.As(s.err, &apiErr) {
		if localStatus.MatchString(apiErr.Msg) { // the client's own words for the status code
			return apiErr.Msg
		}
		return fmt.Sprintf("%s (the reply is not shown)", apiErr.Type)
	}
	var ue *url.Error
	if errors.As(s.err, &ue) {
		return fmt.Sprintf("%s: %v", ue.Op, ue.Err)
	}
	return s.err.Error()
}

func (s summarized) Unwrap() error { return s.err }

// localStatus matches the messages client_golang writes itself for an
// HTTP status (no reply text in them).
var localStatus = regexp.MustCompile(`^((server|client) error: \d+|bad response code \d+)$`)

// Prometheus reads range queries from a Prometheus server's HTTP API.
type Prometheus struct {
	URL     string
	api     v1.API
	timeout time.Duration
}

var _ Metrics = (*Prometheus)(nil)

// NewPrometheus returns a client for the Prometheus at url; every call
// gives up after timeout (default 10s) or when its context ends.
func NewPrometheus(url string, timeout time.Duration) (*Prometheus, error) {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	c, err := api.NewClient(api.Config{
		Address:      url,
		RoundTripper: &http.Transport{Proxy: nil, ResponseHeaderTimeout: timeout, MaxIdleConnsPerHost: 4},
	})
	if err != nil {
		return nil, fmt.Errorf("observe.prometheus %q: %w", url, err)
	}
	return &Prometheus{URL: url, api: v1.NewAPI(c), timeout: timeout}, nil
}

// QueryRange runs one range query. Errors say their kind: a *QueryError
// for a query the server rejected, otherwise the server or the connection
// is at fault.
func (p *Prometheus) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	val, _, _, err := p.api.QueryRange(ctx, query, v1.Range{Start: start, End: end, Step: step})
	if err != nil {
		var apiErr *v1.Error
		if errors.As(err, &apiErr) && (apiErr.Type == v1.ErrBadData || apiErr.Type == v1.ErrExec) {
			return nil, &QueryError{Query: query, Err: err}
		}
		if ctx.Err() == context.DeadlineExceeded {
			return nil, fmt.Errorf("prometheus %s: no answer within %s: %w", p.URL, p.timeout, err)
		}
		return nil, fmt.Errorf("prometheus %s: %w", p.URL, summarized{err})
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("prometheus %s: range query returned %s, want a matrix", p.URL, val.Type())
	}
	out := make([]Series, 0, len(m))
	for _, ss := range m {
		s := Series{Labels: make(map[string]string, len(ss.Metric)), Samples: make([]Sample, 0, len(ss.Values))}
		for k, v := range ss.Metric {
			s.Labels[string(k)] = string(v)
		}
		for _, v := range ss.Values {
			s.Samples = append(s.Samples, Sample{At: v.Timestamp.Time(), Value: float64(v.Value)})
		}
		out = append(out, s)
	}
	return out, nil
}

// sumSeries adds the series of a result sample by sample (a signal is one
// number per instant), dropping NaN and infinite values.
func sumSeries(ss []Series) []Sample {
	if len(ss) == 1 {
		return finite(ss[0].Samples)
	}
	acc := map[int64]float64{}
	for _, s := range ss {
		for _, v := range finite(s.Samples) {
			acc[v.At.UnixMilli()] += v.Value
		}
	}
	out := make([]Sample, 0, len(acc))
	for ms, v := range acc {
		out = append(out, Sample{At: time.UnixMilli(ms), Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

func finite(in []Sample) []Sample {
	out := in[:0:0]
	for _, v := range in {
		if v.Value == v.Value && v.Value < 1e300 && v.Value > -1e300 {
			out = append(out, v)
		}
	}
	return out
}
