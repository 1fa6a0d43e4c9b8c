package pipeline

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/correlate"
)

// unevenProm is a Prometheus whose service component shows instance
// 127.0.0.1:7001 serving three requests for every one of 127.0.0.1:7002;
// every other query has no series.
func unevenProm(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		q, end := r.Form.Get("query"), r.Form.Get("end")
		var result string
		if strings.Contains(q, "http_request_duration_seconds_count") && strings.Contains(q, "by (instance)") {
			result = fmt.Sprintf(`{"metric":{"instance":"127.0.0.1:7001"},"values":[[%s,"75"]]},{"metric":{"instance":"127.0.0.1:7002"},"values":[[%s,"25"]]}`, end, end)
		}
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"matrix","result":[%s]}}`, result)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestStudyExplainsAFleetThatFellShort(t *testing.T) {
	prom := unevenProm(t)
	p := parsePlan(t, studyPlan, "OBSERVE", fmt.Sprintf(`observe:
  prometheus: %s
  components:
    - { name: fleet, kind: service, selector: '{job="shop"}' }
`, prom.URL))
	// Two instances carry what one does: half the prediction.
	svc := &fakeService{Capacity: 100, Instances: 1, VerifyURL: "http://127.0.0.1:2"}
	res, err := study(context.Background(), p, Settings{}, Hooks{}, svc.prober)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Prediction.Ratio; r == nil || *r > 0.6 {
		t.Fatalf("precondition: verification ratio %v, want about 0.5", r)
	}
	last := res.Findings[len(res.Findings)-1]
	if last.Kind != correlate.KindScaling || last.Rank != len(res.Findings) {
		t.Fatalf("last finding %s ranked %d of %d, want the scaling finding last", last.Kind, last.Rank, len(res.Findings))
	}
	if !strings.Contains(last.Title, "instance 127.0.0.1:7001 received 75% of the requests (an even split is 50%)") {
		t.Errorf("scaling finding %q does not name the busiest instance and its share", last.Title)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "sub-linear; instance 127.0.0.1:7001 received 75%") || strings.Contains(notes, "look for what the instances share") {
		t.Errorf("the study's scaling note does not carry the cause:\n%s", notes)
	}
	if res.Correlation != nil && len(res.Correlation.Findings) != len(res.Findings) {
		t.Errorf("correlation holds %d findings, the result %d", len(res.Correlation.Findings), len(res.Findings))
	}

	// Without correlation nothing is read and the note stays generic.
	res, err = study(context.Background(), p, Settings{NoCorrelate: true}, Hooks{}, (&fakeService{Capacity: 100, Instances: 1, VerifyURL: "http://127.0.0.1:2"}).prober)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Findings {
		if f.Kind == correlate.KindScaling {
			t.Errorf("a scaling finding with NoCorrelate: %s", f.Title)
		}
	}
}
