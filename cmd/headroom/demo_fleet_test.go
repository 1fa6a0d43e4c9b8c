package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestDemoFleetRejectsBadArguments(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		args    []string
		mention string
	}{
		{[]string{"fleet"}, "target_rps"},
		{[]string{"fleet", "--target-rps", "10", "--min", "3", "--max", "2"}, "max"},
		{[]string{"fleet", "--target-rps", "10", "--service-time", "-1ms"}, "service_time"},
		{[]string{"fleet", "--target-rps", "10", "--addr", "0.0.0.0:1"}, "--addr"},
		{[]string{"fleet", "--target-rps", "10", "extra"}, "extra"},
	} {
		var stdout, stderr bytes.Buffer
		if code := runDemo(ctx, c.args, &stdout, &stderr); code != exitUsage || !strings.Contains(stderr.String(), c.mention) {
			t.Errorf("demo %q = exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr.String(), exitUsage, c.mention)
		}
	}
}

func TestDemoFleetServesAndExportsReplicas(t *testing.T) {
	url := startDemo(t, "fleet", "--addr", "127.0.0.1:0", "--min", "2", "--max", "3", "--target-rps", "10", "--capacity", "2", "--service-time", "1ms")
	if code, body := getBody(t, url+"/v1/products/7"); code != http.StatusOK || !strings.Contains(body, `"id":7`) {
		t.Errorf("product through the fleet: %d %s", code, body)
	}
	if code, body := getBody(t, url+"/metrics"); code != http.StatusOK || !strings.Contains(body, `kube_deployment_status_replicas_available{deployment="shop",namespace="demo"} 2`) {
		t.Errorf("fleet metrics: %d %s", code, body)
	}
}
