package profiles

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFetchAsksForTheSpanAndParses(t *testing.T) {
	var buf bytes.Buffer
	if err := newCPU().add(ms, burn, limited).withSpan(2 * time.Second).p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.String()
		_, _ = w.Write(buf.Bytes())
	}))
	defer srv.Close()
	got, err := Fetcher{Base: srv.URL + "/debug/pprof/"}.Fetch(context.Background(), CPU, 1600*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if asked != "/debug/pprof/profile?seconds=2" || got.Span != 2*time.Second || !bytes.Equal(got.Raw, buf.Bytes()) {
		t.Errorf("asked %q span %s raw %d bytes", asked, got.Span, len(got.Raw))
	}
	if _, err := (Fetcher{Base: srv.URL}).Fetch(context.Background(), Mutex, 0); err != nil || asked != "/mutex?seconds=1" {
		t.Errorf("mutex: asked %q, err %v", asked, err)
	}
	_, err = Fetcher{Base: srv.URL, MaxBytes: int64(buf.Len() - 1)}.Fetch(context.Background(), CPU, time.Second)
	if err == nil || !strings.Contains(err.Error(), "cap") {
		t.Errorf("over the cap: %v", err)
	}
}

func TestFetchErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/block") {
			<-r.Context().Done() // never answers: the caller's context must end it
			return
		}
		http.Error(w, "profiling disabled", http.StatusNotFound)
	}))
	defer srv.Close()
	_, err := Fetcher{Base: srv.URL}.Fetch(context.Background(), Heap, time.Second)
	if err == nil || !strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "profiling disabled") {
		t.Errorf("404: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	_, err = Fetcher{Base: srv.URL}.Fetch(ctx, Block, time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, base := range []string{"", "ftp://x/debug/pprof", "http:///debug/pprof", "http://h/debug/pprof?x=1", "://"} {
		if _, err := (Fetcher{Base: base}).Fetch(context.Background(), CPU, time.Second); err == nil || !strings.Contains(err.Error(), "base URL") {
			t.Errorf("base %q: %v", base, err)
		}
	}
	if _, err := (Fetcher{Base: srv.URL}).Fetch(context.Background(), Kind("goroutine"), time.Second); err == nil {
		t.Error("unknown kind: no error")
	}
}
