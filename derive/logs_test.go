package derive

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/plan"
)

// synthLog writes a combined log of n sessions from distinct clients, each
// one of two journeys: browse (list, detail, detail) twice as often as buy
// (login, cart, checkout). Sessions start one a second, requests 2 s apart.
func synthLog(n int) []byte {
	var b bytes.Buffer
	r := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	type line struct {
		t    time.Time
		text string
	}
	var lines []line
	for s := 0; s < n; s++ {
		addr := fmt.Sprintf("10.0.%d.%d", s/250, s%250)
		start := t0.Add(time.Duration(s) * time.Second)
		var reqs []string
		if s%3 != 2 {
			reqs = []string{
				fmt.Sprintf("GET /v1/products?page=%d HTTP/1.1", 1+r.IntN(20)),
				fmt.Sprintf("GET /v1/products/%d HTTP/1.1", 1+r.IntN(1000)),
				fmt.Sprintf("GET /v1/products/%d HTTP/1.1", 1+r.IntN(1000)),
			}
		} else {
			reqs = []string{
				"POST /v1/login HTTP/1.1",
				"POST /v1/cart/items HTTP/1.1",
				fmt.Sprintf("POST /v1/cart/%x/coupons HTTP/1.1", r.Uint64()|1<<63),
			}
		}
		for k, req := range reqs {
			at := start.Add(time.Duration(k) * 2 * time.Second)
			lines = append(lines, line{at, fmt.Sprintf(`%s - - [%s] "%s" 200 512 "-" "Mozilla/5.0 (X11)"`,
				addr, at.Format("02/Jan/2006:15:04:05 -0700"), req)})
		}
	}
	// in time order, as a server writes them
	for sorted := false; !sorted; {
		sorted = true
		for i := 1; i < len(lines); i++ {
			if lines[i].t.Before(lines[i-1].t) {
				lines[i], lines[i-1] = lines[i-1], lines[i]
				sorted = false
			}
		}
	}
	for _, l := range lines {
		b.WriteString(l.text + "\n")
	}
	return b.Bytes()
}

func TestReadLogRebuildsMixJourneysAndRates(t *testing.T) {
	log := synthLog(300)
	p, err := ReadLog(context.Background(), bytes.NewReader(log), "synth.log", LogOptions{Gap: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if p.Requests != 900 || p.Sessions != 300 {
		t.Fatalf("requests %d sessions %d, want 900 and 300", p.Requests, p.Sessions)
	}
	want := map[string]int64{
		"GET /v1/products":             400,
		"GET /v1/products/{id}":        200,
		"POST /v1/login":               100,
		"POST /v1/cart/items":          100,
		"POST /v1/cart/{hash}/coupons": 100,
	}
	want["GET /v1/products/{id}"] = 400
	want["GET /v1/products"] = 200
	for _, r := range p.Routes {
		if want[r.Key()] != r.Count {
			t.Errorf("route %s: %d requests, want %d", r.Key(), r.Count, want[r.Key()])
		}
		delete(want, r.Key())
	}
	if len(want) > 0 {
		t.Errorf("routes missing: %v", want)
	}
	if len(p.Journeys) != 2 || p.Journeys[0].Count != 200 || p.Journeys[1].Count != 100 {
		t.Fatalf("journeys %+v, want two of 200 and 100 sessions", p.Journeys)
	}
	if got := strings.Join(p.Journeys[0].Steps, ","); got != "GET /v1/products,GET /v1/products/{id},GET /v1/products/{id}" {
		t.Errorf("first journey %s", got)
	}
	if p.Think.P50 != 2*time.Second {
		t.Errorf("think p50 %v, want 2s", p.Think.P50)
	}
	// one session a second, three requests each 2 s apart: from the fifth
	// second on, three sessions overlap: 3 requests a second.
	if p.Rates.PeakSecond != 3 {
		t.Errorf("peak second %v, want 3", p.Rates.PeakSecond)
	}
	if p.Rates.P50 < 2.9 || p.Rates.P50 > 3.0 {
		t.Errorf("per-minute p50 %v req/s, want 3", p.Rates.P50)
	}
	var out bytes.Buffer
	if err := WritePlan(&out, p, PlanOptions{Name: "synth"}); err != nil {
		t.Fatal(err)
	}
	pl, err := plan.Parse("derived.yaml", out.Bytes())
	if err != nil {
		t.Fatalf("derived plan does not validate: %v\n%s", err, out.String())
	}
	if len(pl.Journeys) != 2 || pl.Journeys[0].Weight != 667 || pl.Journeys[1].Weight != 333 {
		t.Errorf("journeys/weights wrong:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "weight: 667   # 200 of 300 sessions (66.7%)") {
		t.Errorf("no evidence comment for the weight:\n%s", out.String())
	}
	if got := pl.Journeys[0].Steps[2].Path; !strings.HasPrefix(got, "/v1/products/{{ randInt ") {
		t.Errorf("detail path %q, want a randInt over the ids seen", got)
	}
	t.Log(out.String())
}

func TestReadLogNamesTheBadLine(t *testing.T) {
	log := "127.0.0.1 - - [01/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"x\"\nnot a log line at all\n"
	_, err := ReadLog(context.Background(), strings.NewReader(log), "a.log", LogOptions{})
	if err == nil || !strings.Contains(err.Error(), "a.log:2:") {
		t.Fatalf("error %v, want one naming a.log:2", err)
	}
	p, err := ReadLog(context.Background(), strings.NewReader(log), "a.log", LogOptions{MaxBadLines: 1})
	if err != nil || p.Skipped != 1 || p.Requests != 1 {
		t.Fatalf("with MaxBadLines 1: %v, %+v", err, p)
	}
}

func TestReadLogJSONFields(t *testing.T) {
	log := `{"ts":1733047200.250,"req":{"m":"GET","uri":"/v1/orders/12?x=1"},"code":200,"ip":"10.0.0.1","ua":"curl","sid":"abc"}
{"ts":1733047201.500,"req":{"m":"GET","uri":"/v1/orders/13"},"code":404,"ip":"10.0.0.2","ua":"curl","sid":"abc"}
`
	p, err := ReadLog(context.Background(), strings.NewReader(log), "j.log", LogOptions{
		Fields: Fields{Time: "ts", Method: "req.m", Path: "req.uri", Status: "code", Addr: "ip", Agent: "ua", Session: "sid"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Requests != 2 || p.Sessions != 1 || len(p.Routes) != 1 || p.Routes[0].Key() != "GET /v1/orders/{id}" {
		t.Fatalf("got %+v", p)
	}
	if d := p.Think.P50 - 1250*time.Millisecond; d < -15*time.Millisecond || d > 15*time.Millisecond {
		t.Errorf("think %v, want 1.25s (sessions keyed by sid across addresses)", p.Think.P50)
	}
}

func FuzzParseCombined(f *testing.F) {
	f.Add([]byte(`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.0" 200 2326 "-" "ua"`))
	f.Add([]byte(`1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a" 200 -`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var r Record
		_ = parseCombined(line, &r)
	})
}

func TestReadLogCountsLinesWithoutARoute(t *testing.T) {
	log := `10.0.0.1 - - [01/Dec/2026:10:00:00 +0000] "-" 400 0 "-" "-"
10.0.0.1 - - [01/Dec/2026:10:00:01 +0000] "OPTIONS * HTTP/1.1" 200 0 "-" "-"
10.0.0.1 - - [01/Dec/2026:10:00:02 +0000] "GET http://shop.example.com/v1/products/7?x=1 HTTP/1.1" 200 10 "-" "a"
10.0.0.1 - - [01/Dec/2026:10:00:03 +0000] "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" 400 157 "-" "-"
`
	p, err := ReadLog(context.Background(), strings.NewReader(log), "a.log", LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Requests != 1 || p.NoRoute != 3 || p.Routes[0].Key() != "GET /v1/products/{id}" {
		t.Fatalf("requests %d, no route %d, routes %+v: want 1 (the proxy request's path), 3", p.Requests, p.NoRoute, p.Routes)
	}
}

func TestPeakMinuteOfALogShorterThanAMinute(t *testing.T) {
	// 25 s across a minute boundary (10:00:50 .. 10:01:14), 4 requests a second
	var b strings.Builder
	t0 := time.Date(2026, 12, 1, 10, 0, 50, 0, time.UTC)
	for s := 0; s < 25; s++ {
		for k := 0; k < 4; k++ {
			fmt.Fprintf(&b, "10.0.0.%d - - [%s] \"GET /a HTTP/1.1\" 200 1 \"-\" \"x\"\n", k, t0.Add(time.Duration(s)*time.Second).Format("02/Jan/2006:15:04:05 -0700"))
		}
	}
	p, err := ReadLog(context.Background(), strings.NewReader(b.String()), "short.log", LogOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Rates.PeakMinute < 4 || p.Rates.PeakMinute > 4.2 || p.Rates.PeakSecond != 4 {
		t.Errorf("peak minute %v, peak second %v: want the span's own 4 req/s for both", p.Rates.PeakMinute, p.Rates.PeakSecond)
	}
}
