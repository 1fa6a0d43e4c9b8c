package kube

import (
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/headroom-sre/headroom/internal/golden"
)

// base is a valid fleet every case starts from.
func base() Options {
	return Options{
		Server:      "http://headroom.load.svc:8080",
		Agents:      3,
		Image:       "registry.example/headroom:v1.4.0",
		TokenSecret: "headroom-agent",
		Namespace:   "load",
		JobID:       "42",
	}
}

// TestManifestGolden proves the printed Job (and Secret) for three option
// sets match the reviewed golden files, and that each one decodes back with
// the Kubernetes scheme into the Job we built (the YAML is what the API
// server will read).
func TestManifestGolden(t *testing.T) {
	big := base()
	big.Agents, big.JobID, big.Namespace = 20, "study-7", "perf"
	big.CPU, big.Memory, big.CPULimit, big.MemoryLimit = "2", "1Gi", "none", "2Gi"
	big.TTL, big.Deadline, big.ServiceAccount = 10*time.Minute, 2*time.Hour, "headroom-agent"
	big.TokenKey = "agent-token"

	minimal := Options{Server: "https://headroom.example.com", Agents: 1, Image: "headroom:dev", TokenSecret: "tok"}

	cases := []struct {
		name   string
		opts   Options
		secret string
	}{
		{"three-agents.yaml", base(), ""},
		{"twenty-agents-no-cpu-limit.yaml", big, ""},
		{"one-agent-with-secret.yaml", minimal, "hr_agent_0123456789abcdef\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			job, err := Manifest(c.opts)
			if err != nil {
				t.Fatal(err)
			}
			objs := []runtime.Object{job}
			if c.secret != "" {
				s, err := Secret(c.opts, c.secret)
				if err != nil {
					t.Fatal(err)
				}
				objs = []runtime.Object{s, job}
			}
			text, err := YAML(objs...)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, c.name, text)

			docs := strings.Split(string(text), "\n---\n")
			if len(docs) != len(objs) {
				t.Fatalf("%d YAML documents, want %d", len(docs), len(objs))
			}
			decoded, _, err := serializer.NewCodecFactory(scheme.Scheme).UniversalDeserializer().Decode([]byte(docs[len(docs)-1]), nil, nil)
			if err != nil {
				t.Fatalf("the Job's YAML does not decode: %v", err)
			}
			back, ok := decoded.(*batchv1.Job)
			if !ok {
				t.Fatalf("decoded a %T, want a *batchv1.Job", decoded)
			}
			assertJob(t, back, c.opts.withDefaults())
		})
	}
}

// assertJob checks the fields the agents depend on, on a Job read back from
// YAML or from a clientset.
func assertJob(t *testing.T, j *batchv1.Job, o Options) {
	t.Helper()
	n := int32(o.Agents)
	s := j.Spec
	if j.Name != o.Name() || j.Namespace != o.Namespace {
		t.Errorf("job %s/%s, want %s/%s", j.Namespace, j.Name, o.Namespace, o.Name())
	}
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || *s.Completions != n || s.Parallelism == nil || *s.Parallelism != n {
		t.Errorf("completions %v parallelism %v, want both %d", s.Completions, s.Parallelism, n)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
		t.Errorf("backoffLimitPerIndex %v, want 0", s.BackoffLimitPerIndex)
	}
	if s.MaxFailedIndexes == nil || *s.MaxFailedIndexes != n {
		t.Errorf("maxFailedIndexes %v, want %d", s.MaxFailedIndexes, n)
	}
	if s.TTLSecondsAfterFinished == nil || *s.TTLSecondsAfterFinished != int32(o.TTL/time.Second) {
		t.Errorf("ttlSecondsAfterFinished %v, want %d", s.TTLSecondsAfterFinished, int32(o.TTL/time.Second))
	}
	if j.Labels[LabelJob] != strings.ToLower(o.JobID) && o.JobID != "" {
		t.Errorf("job label %q, want %q", j.Labels[LabelJob], o.JobID)
	}
	if s.Template.Labels[LabelJob] != j.Labels[LabelJob] {
		t.Errorf("pod job label %q, want the Job's %q", s.Template.Labels[LabelJob], j.Labels[LabelJob])
	}
	p := s.Template.Spec
	if p.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", p.RestartPolicy)
	}
	if p.SecurityContext == nil || p.SecurityContext.RunAsNonRoot == nil || !*p.SecurityContext.RunAsNonRoot {
		t.Error("the pod may run as root")
	}
	if p.AutomountServiceAccountToken == nil || *p.AutomountServiceAccountToken {
		t.Error("agents get a Kubernetes API token mounted")
	}
	if len(p.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(p.Containers))
	}
	c := p.Containers[0]
	if c.Image != o.Image {
		t.Errorf("image %q, want %q", c.Image, o.Image)
	}
	wantArgs := []string{"agent", "--server", o.Server, "--token-file", TokenPath, "--name", "$(HEADROOM_AGENT_NAME)"}
	if strings.Join(c.Args, " ") != strings.Join(wantArgs, " ") {
		t.Errorf("args %q, want %q", c.Args, wantArgs)
	}
	sc := c.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("the container's root file system is writable or it may escalate")
	}
	var index bool
	for _, e := range c.Env {
		if e.Name == "HEADROOM_AGENT_INDEX" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
			e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			index = true
		}
	}
	if !index {
		t.Errorf("no HEADROOM_AGENT_INDEX from the completion index in %v", c.Env)
	}
	cpu := c.Resources.Requests[corev1.ResourceCPU]
	if want := o.CPU; cpu.String() != want {
		t.Errorf("cpu request %s, want %s", cpu.String(), want)
	}
	_, hasLimit := c.Resources.Limits[corev1.ResourceCPU]
	if hasLimit != (o.CPULimit != "none") {
		t.Errorf("cpu limit present %v with --cpu-limit %q", hasLimit, o.CPULimit)
	}
	var secret *corev1.SecretVolumeSource
	for _, v := range p.Volumes {
		if v.Secret != nil {
			secret = v.Secret
		}
	}
	if secret == nil || secret.SecretName != o.TokenSecret || len(secret.Items) != 1 || secret.Items[0].Key != o.TokenKey || secret.Items[0].Path != "token" {
		t.Errorf("token volume %+v, want Secret %s key %s at token", secret, o.TokenSecret, o.TokenKey)
	}
}

// TestOptionErrorsNameTheFlag proves every bad option is refused with an
// *OptionError naming the flag to fix, and no Job is built.
func TestOptionErrorsNameTheFlag(t *testing.T) {
	cases := []struct {
		flag string
		edit func(*Options)
	}{
		{"server", func(o *Options) { o.Server = "" }},
		{"server", func(o *Options) { o.Server = "headroom:8080" }},
		{"server", func(o *Options) { o.Server = "ftp://headroom" }},
		{"server", func(o *Options) { o.Server = "http://" }},
		{"agents", func(o *Options) { o.Agents = 0 }},
		{"agents", func(o *Options) { o.Agents = -2 }},
		{"agents", func(o *Options) { o.Agents = MaxAgents + 1 }},
		{"image", func(o *Options) { o.Image = " " }},
		{"image", func(o *Options) { o.Image = "headroom v1" }},
		{"token-secret", func(o *Options) { o.TokenSecret = "" }},
		{"token-secret", func(o *Options) { o.TokenSecret = "Bad_Name" }},
		{"token-key", func(o *Options) { o.TokenKey = "a/b" }},
		{"namespace", func(o *Options) { o.Namespace = "Load" }},
		{"job-id", func(o *Options) { o.JobID = "a b" }},
		{"job-id", func(o *Options) { o.JobID = strings.Repeat("7", 60) }},
		{"cpu", func(o *Options) { o.CPU = "two" }},
		{"cpu", func(o *Options) { o.CPU = "0" }},
		{"memory", func(o *Options) { o.Memory = "-1Gi" }},
		{"cpu-limit", func(o *Options) { o.CPU, o.CPULimit = "2", "1" }},
		{"memory-limit", func(o *Options) { o.MemoryLimit = "lots" }},
		{"service-account", func(o *Options) { o.ServiceAccount = "UPPER" }},
		{"deadline", func(o *Options) { o.Deadline = -time.Second }},
		{"deadline", func(o *Options) { o.Deadline = time.Millisecond }},
		{"ttl", func(o *Options) { o.TTL = 1 << 62 }},
	}
	for _, c := range cases {
		o := base()
		c.edit(&o)
		job, err := Manifest(o)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Flag != c.flag {
			t.Errorf("%+v: error %v, want one naming --%s", o, err, c.flag)
			continue
		}
		if job != nil {
			t.Errorf("--%s: a Job was built beside the error", c.flag)
		}
		if !strings.HasPrefix(err.Error(), "--"+c.flag+": ") {
			t.Errorf("error %q does not start with the flag --%s", err, c.flag)
		}
		if verr := o.Validate(); verr == nil || verr.Error() != err.Error() {
			t.Errorf("Validate says %v, Manifest %v", verr, err)
		}
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("the base options are refused: %v", err)
	}
	if _, err := Secret(base(), " \n"); err == nil || !strings.Contains(err.Error(), "--secret-from") {
		t.Errorf("an empty token gives %v, want an error naming --secret-from", err)
	}
}
