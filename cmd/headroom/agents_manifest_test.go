package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// TestAgentsManifestMatchesGolden proves `headroom agents manifest` prints,
// byte for byte, the reviewed Job of agent/kube's golden file for the same
// options, and that --secret-from puts the Secret first.
func TestAgentsManifestMatchesGolden(t *testing.T) {
	var out, errs bytes.Buffer
	code := dispatch([]string{"agents", "manifest", "--server", "http://headroom.load.svc:8080", "--agents", "3",
		"--image", "registry.example/headroom:v1.4.0", "--token-secret", "headroom-agent", "--namespace", "load", "--job-id", "42"}, &out, &errs)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	want, err := os.ReadFile("../../agent/kube/testdata/three-agents.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("printed manifest differs from agent/kube/testdata/three-agents.yaml:\n%s", out.String())
	}

	tok := filepath.Join(t.TempDir(), "agent.token")
	if err := os.WriteFile(tok, []byte("hr_agent_0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	code = dispatch([]string{"agents", "manifest", "--server", "https://headroom.example.com", "--agents", "1",
		"--image", "headroom:dev", "--token-secret", "tok", "--secret-from", tok}, &out, &errs)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	want, err = os.ReadFile("../../agent/kube/testdata/one-agent-with-secret.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if out.String() != string(want) {
		t.Errorf("printed manifest with its Secret differs from agent/kube/testdata/one-agent-with-secret.yaml:\n%s", out.String())
	}
}

// TestAgentsBadFlagsNameTheFlag proves a bad or missing flag exits 2 with
// the flag named on stderr and nothing on stdout.
func TestAgentsBadFlagsNameTheFlag(t *testing.T) {
	good := map[string]string{"server": "http://h:8080", "agents": "2", "image": "img:1", "token-secret": "tok"}
	cases := []struct{ flag, value string }{
		{"server", ""}, {"server", "h:8080"}, {"agents", "0"}, {"agents", "5000"}, {"image", ""},
		{"token-secret", ""}, {"token-secret", "No_Such"}, {"cpu", "lots"}, {"memory-limit", "1Mi"},
		{"namespace", "UPPER"}, {"job-id", "x/y"}, {"secret-from", "/nonexistent/token"},
	}
	for _, c := range cases {
		args := []string{"agents", "manifest"}
		for f, v := range good {
			if f != c.flag {
				args = append(args, "--"+f, v)
			}
		}
		if c.value != "" {
			args = append(args, "--"+c.flag, c.value)
		}
		var out, errs bytes.Buffer
		code := dispatch(args, &out, &errs)
		if code != exitUsage || !strings.Contains(errs.String(), "--"+c.flag+":") || out.Len() != 0 {
			t.Errorf("--%s %q: exit %d, stderr %q, %d bytes out; want exit 2 naming --%s", c.flag, c.value, code, errs.String(), out.Len(), c.flag)
		}
	}
	var out, errs bytes.Buffer
	if code := dispatch([]string{"agents", "rbac"}, &out, &errs); code != exitUsage || !strings.Contains(errs.String(), "--service-account:") {
		t.Errorf("rbac without an account: exit %d, %q", code, errs.String())
	}
	if code := dispatch([]string{"agents", "deploy"}, &out, &errs); code != exitUsage {
		t.Errorf("an unknown subcommand: exit %d", code)
	}
}

// TestAgentsRBAC proves the printed RBAC lets the server's account create,
// read and delete Jobs in its namespace, and nothing else.
func TestAgentsRBAC(t *testing.T) {
	var out, errs bytes.Buffer
	if code := dispatch([]string{"agents", "rbac", "--namespace", "load", "--service-account", "headroom"}, &out, &errs); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	s := out.String()
	for _, want := range []string{
		"kind: ServiceAccount", "kind: Role\n", "kind: RoleBinding",
		"  - batch\n  resources:\n  - jobs\n  verbs:\n  - create\n  - get\n  - delete\n",
		"subjects:\n- kind: ServiceAccount\n  name: headroom\n  namespace: load\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("rbac output lacks %q:\n%s", want, s)
		}
	}
	if n := strings.Count(s, "resources:"); n != 1 {
		t.Errorf("%d rules, want the one on jobs:\n%s", n, s)
	}
}

// decoder reads what client-go sends (protobuf or JSON) into API types.
var decoder = scheme.Codecs.UniversalDeserializer()

// fakeAPI is a loopback stand-in for the Kubernetes API server that records
// the Jobs created and deleted through it.
type fakeAPI struct {
	mu      sync.Mutex
	created []batchv1.Job
	deleted []string // path and propagation policy
	auth    []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/apis/batch/v1/namespaces/team/jobs":
		obj, _, err := decoder.Decode(body, nil, nil)
		j, ok := obj.(*batchv1.Job)
		if err != nil || !ok {
			http.Error(w, fmt.Sprintf("content type %s: %T %v", r.Header.Get("Content-Type"), obj, err), http.StatusBadRequest)
			return
		}
		for _, had := range f.created {
			if had.Name == j.Name {
				w.WriteHeader(http.StatusConflict)
				fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"AlreadyExists","code":409,"message":"jobs.batch %q already exists"}`, j.Name)
				return
			}
		}
		f.created = append(f.created, *j)
		out, _ := json.Marshal(j)
		w.WriteHeader(http.StatusCreated)
		w.Write(out)
	case r.Method == http.MethodGet && len(f.created) > 0 && r.URL.Path == "/apis/batch/v1/namespaces/team/jobs/"+f.created[0].Name:
		out, _ := json.Marshal(f.created[0])
		w.Write(out)
	case r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/apis/batch/v1/namespaces/team/jobs/"):
		d := &metav1.DeleteOptions{}
		if _, _, err := decoder.Decode(body, nil, d); err != nil {
			http.Error(w, fmt.Sprintf("delete options (%s): %v", r.Header.Get("Content-Type"), err), http.StatusBadRequest)
			return
		}
		p := ""
		if d.PropagationPolicy != nil {
			p = string(*d.PropagationPolicy)
		}
		f.deleted = append(f.deleted, r.URL.Path+" "+p)
		w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Success"}`))
	default:
		http.Error(w, r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

// TestServeKubernetesLauncher proves serve's --kubernetes flags build a
// launcher from a kubeconfig (its context's namespace used when
// --kube-namespace is not given) that creates the agents' Job through the
// API with the bearer token, and deletes it with background propagation.
func TestServeKubernetesLauncher(t *testing.T) {
	api := &fakeAPI{}
	ts := httptest.NewTLSServer(api)
	defer ts.Close()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: %q, certificate-authority-data: %s}
users:
- name: headroom
  user: {token: sa-token}
contexts:
- name: test
  context: {cluster: test, user: headroom, namespace: team}
current-context: test
`, ts.URL, base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ts.Certificate().Raw})))
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	k := bindKubeServe(fs)
	if err := fs.Parse([]string{"--kubernetes", "--agent-server", "http://headroom.team.svc:8080", "--agent-image", "headroom:v1",
		"--agent-token-secret", "agent-token", "--agent-cpu", "2"}); err != nil {
		t.Fatal(err)
	}
	l, err := k.launcher(kubeconfig) // as $KUBECONFIG
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.Launch(ctx, "5", 3); err != nil {
		t.Fatal(err)
	}
	// Launched again (a restarted server): the API says it exists, the
	// launcher reads it back, finds it is this job's, and is content.
	if err := l.Launch(ctx, "5", 3); err != nil {
		t.Fatalf("launching job 5 again: %v", err)
	}
	if err := l.Launch(ctx, "5", 4); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("launching job 5 with 4 agents over its 3: %v, want an error saying it exists", err)
	}
	if err := l.Release(ctx, "5"); err != nil {
		t.Fatal(err)
	}

	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.created) != 1 {
		t.Fatalf("%d Jobs created, want 1", len(api.created))
	}
	j := api.created[0]
	c := j.Spec.Template.Spec.Containers[0]
	cpu := c.Resources.Requests["cpu"]
	if j.Name != "headroom-agents-5" || j.Namespace != "team" || *j.Spec.Completions != 3 || *j.Spec.Parallelism != 3 ||
		*j.Spec.CompletionMode != batchv1.IndexedCompletion || *j.Spec.BackoffLimitPerIndex != 0 ||
		c.Image != "headroom:v1" || cpu.String() != "2" || strings.Join(c.Args, " ") != "agent --server http://headroom.team.svc:8080 --token-file /var/run/headroom/token --name $(HEADROOM_AGENT_NAME)" {
		t.Errorf("created Job %s/%s completions %v image %s cpu %s args %q", j.Namespace, j.Name, *j.Spec.Completions, c.Image, cpu.String(), c.Args)
	}
	if want := []string{"/apis/batch/v1/namespaces/team/jobs/headroom-agents-5 Background"}; strings.Join(api.deleted, ",") != want[0] {
		t.Errorf("deletes %q, want %q", api.deleted, want)
	}
	for _, a := range api.auth {
		if a != "Bearer sa-token" {
			t.Errorf("Authorization %q, want the kubeconfig's bearer token", a)
		}
	}

	// Bad serve flags are named as serve spells them.
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	k = bindKubeServe(fs)
	if err := fs.Parse([]string{"--kubernetes", "--agent-server", "http://h:8080", "--agent-token-secret", "s", "--agent-image", "i", "--kube-namespace", "Bad"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.launcher(kubeconfig); err == nil || !strings.HasPrefix(err.Error(), "--kube-namespace: ") {
		t.Errorf("a bad namespace: %v, want an error naming --kube-namespace", err)
	}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	k = bindKubeServe(fs)
	if err := fs.Parse([]string{"--kubernetes", "--agent-server", "http://h:8080", "--agent-token-secret", "s", "--agent-image", "i"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.launcher(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "--kubernetes") {
		t.Errorf("no kubeconfig: %v, want an error naming --kubernetes", err)
	}
	// Without --kubernetes there is no launcher, and its flags are refused.
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	k = bindKubeServe(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if l, err := k.launcher(kubeconfig); l != nil || err != nil {
		t.Errorf("without --kubernetes: %v, %v; want no launcher", l, err)
	}
}
