package obs

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// pollEvery is how often the Wait helpers ask again.
const pollEvery = 200 * time.Millisecond

// WaitForSeries polls Prometheus with the instant query promql until it
// returns at least one sample, and fails when ctx ends first or the query
// is malformed (that never fixes itself).
func (s *Stack) WaitForSeries(ctx context.Context, promql string) error {
	client, err := api.NewClient(api.Config{Address: s.PrometheusURL})
	if err != nil {
		return fmt.Errorf("obs: Prometheus client for %s: %w", s.PrometheusURL, err)
	}
	prom := v1.NewAPI(client)
	var last error
	for {
		value, _, _, err := prom.Query(ctx, promql, time.Now())
		var apiErr *v1.Error
		switch {
		case errors.As(err, &apiErr) && apiErr.Type == v1.ErrBadData:
			return fmt.Errorf("obs: query %q: %w", promql, err)
		case err != nil:
			last = err
		case hasSamples(value):
			return nil
		default:
			last = errors.New("no data yet")
		}
		if err := pause(ctx); err != nil {
			return fmt.Errorf("obs: waiting for %q: %w (last: %v)", promql, err, last)
		}
	}
}

// WaitForTrace polls GET <TracesURL>/api/traces/<traceIDHex> until the trace
// store has the trace and returns the JSON body (DecodeTrace reads it). The
// trace may still be missing spans that arrive later: poll again if a test
// needs a particular span.
func (s *Stack) WaitForTrace(ctx context.Context, traceIDHex string) ([]byte, error) {
	if id, err := hex.DecodeString(traceIDHex); err != nil || len(id) != 16 {
		return nil, fmt.Errorf("obs: trace ID %q is not 32 hex digits", traceIDHex)
	}
	url := s.TracesURL + "/api/traces/" + traceIDHex
	var last error
	for {
		body, status, err := get(ctx, url)
		switch {
		case err != nil:
			last = err
		case status == http.StatusOK:
			return body, nil
		default:
			last = fmt.Errorf("HTTP %d", status)
		}
		if err := pause(ctx); err != nil {
			return nil, fmt.Errorf("obs: waiting for trace %s at %s: %w (last: %v)", traceIDHex, url, err, last)
		}
	}
}

// get fetches url as JSON, with a per-request bound.
func get(ctx context.Context, url string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	return body, resp.StatusCode, err
}

// pause waits one poll interval or until ctx ends.
func pause(ctx context.Context) error {
	t := time.NewTimer(pollEvery)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// hasSamples reports whether a query result holds at least one sample.
func hasSamples(v model.Value) bool {
	switch v := v.(type) {
	case model.Vector:
		return len(v) > 0
	case model.Matrix:
		return len(v) > 0
	case *model.Scalar, *model.String:
		return v != nil
	}
	return false
}
