package generator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

func TestOwnConnectionNeverHandsOutAnotherRequestsAnswer(t *testing.T) {
	// Timeouts fire at every point of an exchange (before the write, while
	// waiting, in the body, just after it): whatever answer a request gets
	// must be its own, and every failure a timeout.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		us, _ := strconv.Atoi(r.Header.Get("X-Delay-Us"))
		time.Sleep(time.Duration(us) * time.Microsecond) // the service's own time
		_, _ = io.WriteString(w, r.Header.Get("X-Id"))
	}))
	t.Cleanup(srv.Close)
	c := newTestH1(t, t.Context(), srv.URL)
	r := newRNG()
	base := time.Now()
	ctl := newReqCtl(t.Context(), base)
	defer func() { ctl.release() }()
	var ok, timedOut int
	for i := range 1500 {
		id := strconv.Itoa(i)
		req, err := http.NewRequestWithContext(ctl.ctx, "GET", srv.URL+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Id", id)
		req.Header.Set("X-Delay-Us", strconv.Itoa(r.intn(800)))
		timeout := time.Duration(r.intn(1500)) * time.Microsecond
		if i%3 == 0 {
			timeout = 10 * time.Second // some surely succeed
		}
		ctl.begin(time.Since(base), timeout)
		var body []byte
		resp, err := c.RoundTrip(req)
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		fired := ctl.end()
		if fired {
			ctl.release()
			ctl = newReqCtl(t.Context(), base)
		}
		switch {
		case err == nil && string(body) == id:
			ok++
		case err == nil:
			t.Fatalf("request %s got the answer %q", id, body)
		case !fired:
			t.Fatalf("request %s: %v, though its timeout did not fire", id, err)
		case isTimeout(err) || errors.Is(err, context.Canceled):
			timedOut++
		default:
			t.Fatalf("request %s: %v, want a timeout", id, err)
		}
	}
	if ok < 500 {
		t.Errorf("%d answered, %d timed out; want at least the 500 without a short timeout answered", ok, timedOut)
	}
	t.Logf("%d answered, %d timed out", ok, timedOut)
}
