package generator

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// tlsServer is an httptest TLS server running h, speaking HTTP/2 when h2.
// It counts the connections it accepted.
func tlsServer(t *testing.T, h2 bool, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = h2
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// closedLoad keeps users virtual users busy for d.
func closedLoad(users int, d time.Duration) plan.Load {
	return plan.Load{Model: "closed", Start: float64(users), Stages: []plan.Stage{{Duration: d, Target: float64(users)}}}
}

func TestHTTPSRunsOnOwnTLSConnections(t *testing.T) {
	var h1, other atomic.Int64
	srv, conns := tlsServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && r.TLS != nil {
			h1.Add(1)
		} else {
			other.Add(1)
		}
		_, _ = w.Write([]byte("ok"))
	}))
	p := newPlan(srv.URL, closedLoad(4, time.Second))
	p.Target.Insecure = true
	e, err := newEngine(context.Background(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.ownScheme != "https" || !e.ownH1 {
		t.Fatalf("own connections: scheme %q, h1 %v; want https, true", e.ownScheme, e.ownH1)
	}
	res := mustRun(t, p, Options{})
	if res.Summary.Requests == 0 || res.Summary.Errors != 0 {
		t.Fatalf("%d requests, %d errors %v", res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
	}
	if h1.Load() != res.Summary.Requests || other.Load() != 0 {
		t.Errorf("server saw %d HTTP/1.1-over-TLS and %d other requests of %d", h1.Load(), other.Load(), res.Summary.Requests)
	}
	// The ALPN probe plus one kept-alive connection per user.
	if n := conns.Load(); n > 5 {
		t.Errorf("%d connections for 4 users, want at most 5 (one each and the probe)", n)
	}
}

func TestOwnTLSConnectionsResumeSessions(t *testing.T) {
	var resumed, full atomic.Int64
	srv, _ := tlsServer(t, false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.DidResume {
			resumed.Add(1)
		} else {
			full.Add(1)
		}
		w.Header().Set("Connection", "close") // every request dials again
		_, _ = w.Write([]byte("ok"))
	}))
	p := newPlan(srv.URL, constant(20, time.Second, 4))
	p.Target.Insecure = true
	res := mustRun(t, p, Options{})
	if res.Summary.Requests < 10 || res.Summary.Errors != 0 {
		t.Fatalf("%d requests, %d errors %v", res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
	}
	if resumed.Load() < res.Summary.Requests/2 {
		t.Errorf("%d of %d connections resumed a TLS session (%d full handshakes); want most", resumed.Load(), res.Summary.Requests, full.Load())
	}
}

func TestHTTP2MultiplexesWithinMaxConns(t *testing.T) {
	var h2, other atomic.Int64
	var mu sync.Mutex
	seen := map[string]bool{} // remote addresses that sent requests
	srv, conns := tlsServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			h2.Add(1)
		} else {
			other.Add(1)
		}
		mu.Lock()
		seen[r.RemoteAddr] = true
		mu.Unlock()
		_, _ = w.Write([]byte("ok"))
	}))
	p := newPlan(srv.URL, closedLoad(12, time.Second))
	p.Target.Insecure = true
	p.Target.MaxConns = 3
	res := mustRun(t, p, Options{})
	if res.Summary.Requests == 0 || res.Summary.Errors != 0 {
		t.Fatalf("%d requests, %d errors %v", res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
	}
	if h2.Load() != res.Summary.Requests || other.Load() != 0 {
		t.Errorf("server saw %d HTTP/2 and %d other requests of %d", h2.Load(), other.Load(), res.Summary.Requests)
	}
	if n := conns.Load(); n != 4 || len(seen) != 3 {
		t.Errorf("%d connections, %d carrying requests; want the ALPN probe and 12 users on 3 (max_conns)", n, len(seen))
	}
}

func TestHTTP2RequestsStopWithTheRun(t *testing.T) {
	srv, _ := tlsServer(t, true, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	}))
	p := newPlan(srv.URL, closedLoad(3, 500*time.Millisecond))
	p.Target.Insecure = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := Run(ctx, p, Options{Warn: func(string) {}})
	if err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("the run outlived its deadline")
	}
	if res.Summary.Requests != 3 {
		t.Errorf("%d requests, want the 3 that hung (one per user)", res.Summary.Requests)
	}
}

// TestCAPEMTrustsAPrivateCA runs against a TLS server whose certificate no
// system root signed, on each of the three paths an https target can take:
// the users' own HTTP/1.1 connections, net/http (max_conns below the users)
// and HTTP/2. Without target.ca_pem every request fails as a tls error and
// the run warns once how to fix it; with the certificate in target.ca_pem
// every request succeeds.
func TestCAPEMTrustsAPrivateCA(t *testing.T) {
	for _, tc := range []struct {
		name     string
		h2       bool
		maxConns int
	}{{"own HTTP/1.1", false, 0}, {"net/http", false, 2}, {"HTTP/2", true, 2}} {
		var h2Requests atomic.Int64
		srv, _ := tlsServer(t, tc.h2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor == 2 {
				h2Requests.Add(1)
			}
			_, _ = w.Write([]byte("ok"))
		}))
		ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))

		p := newPlan(srv.URL, closedLoad(4, time.Second))
		p.Target.MaxConns = tc.maxConns
		var mu sync.Mutex
		var warnings []string
		res := mustRun(t, p, Options{Warn: func(msg string) { mu.Lock(); warnings = append(warnings, msg); mu.Unlock() }})
		if res.Summary.Requests == 0 || res.Summary.Classes["tls"] != res.Summary.Errors || res.Summary.Errors != res.Summary.Requests {
			t.Errorf("%s without ca_pem: %d requests, %d errors %v; want every one a tls error", tc.name, res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
		}
		mu.Lock()
		got := warnings
		mu.Unlock()
		if len(got) != 1 || !strings.Contains(got[0], "target.ca_pem") || !strings.Contains(got[0], "certificate") {
			t.Errorf("%s without ca_pem: warnings %q, want one naming the certificate problem and target.ca_pem", tc.name, got)
		}

		p.Target.CAPEM = ca
		res = mustRun(t, p, Options{})
		if res.Summary.Requests == 0 || res.Summary.Errors != 0 {
			t.Errorf("%s with ca_pem: %d requests, %d errors %v; want none", tc.name, res.Summary.Requests, res.Summary.Errors, res.Summary.Classes)
		}
		if want := map[bool]int64{true: res.Summary.Requests, false: 0}[tc.h2]; h2Requests.Load() != want {
			t.Errorf("%s with ca_pem: %d HTTP/2 requests of %d, want %d", tc.name, h2Requests.Load(), res.Summary.Requests, want)
		}
	}
}
