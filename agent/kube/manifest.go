package kube

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
)

// Defaults of Options' zero values.
const (
	DefaultNamespace = "default"
	DefaultTokenKey  = "token"
	DefaultCPU       = "1"
	DefaultMemory    = "512Mi"
	DefaultTTL       = time.Hour
	// MaxAgents bounds Options.Agents: a fleet larger than this is a typo
	// more often than a plan.
	MaxAgents = 1000
)

// Names and paths the manifest uses; the agent reads its token from TokenPath.
const (
	// NamePrefix starts every Job's name; the job ID follows it.
	NamePrefix = "headroom-agents"
	// TokenDir is where the token Secret is mounted, read-only.
	TokenDir = "/var/run/headroom"
	// TokenPath is the file inside TokenDir holding the agent token.
	TokenPath = TokenDir + "/token"
	// RunAsUser is the non-root user the agents run as (the project image's
	// headroom user).
	RunAsUser = 10001

	labelName      = "app.kubernetes.io/name"
	labelComponent = "app.kubernetes.io/component"
	labelManagedBy = "app.kubernetes.io/managed-by"
	// LabelJob carries the headroom job ID on the Job and its pods.
	LabelJob = "headroom.dev/job"
)

// Options describe one fleet of agents. Each field's comment names the flag
// of `headroom agents manifest` that sets it; errors name that flag.
type Options struct {
	// Server is the URL the agents dial, as seen from inside the cluster
	// (--server); required, http or https.
	Server string
	// Agents is how many agents run: the Job's completions and parallelism
	// (--agents); 1..MaxAgents.
	Agents int
	// Image is the container image holding the headroom binary (--image);
	// required.
	Image string
	// TokenSecret names the Secret holding the agent token (--token-secret);
	// required.
	TokenSecret string
	// TokenKey is the key inside TokenSecret (--token-key); "" is "token".
	TokenKey string
	// Namespace is where the Job runs (--namespace); "" is "default".
	Namespace string
	// JobID is the headroom job the agents serve (--job-id): it names the
	// Job (headroom-agents-<id>) and labels it; "" names it headroom-agents.
	JobID string
	// CPU and Memory are each agent's requests (--cpu, --memory); "" is 1
	// core and 512Mi.
	CPU, Memory string
	// CPULimit and MemoryLimit are each agent's limits (--cpu-limit,
	// --memory-limit); "" is the request (a Guaranteed pod: a load
	// generator measures best on CPU it is sure of), "none" sets no limit.
	CPULimit, MemoryLimit string
	// TTL is how long a finished Job is kept before Kubernetes deletes it
	// (--ttl); 0 is DefaultTTL, negative is never.
	TTL time.Duration
	// Deadline bounds the Job's whole life (--deadline): past it Kubernetes
	// ends every agent; 0 is no bound.
	Deadline time.Duration
	// ServiceAccount runs the pods under this account (--service-account);
	// "" is the namespace's default. Agents never get an API token mounted.
	ServiceAccount string
	// ManagedBy, when set, is the app.kubernetes.io/managed-by label
	// ("headroom-serve" for Jobs that serve --kubernetes creates).
	ManagedBy string
}

// OptionError is a bad option, named by its flag.
type OptionError struct {
	Flag string // without dashes: "agents", "image"
	Msg  string
}

func (e *OptionError) Error() string { return "--" + e.Flag + ": " + e.Msg }

func bad(flag, format string, args ...any) *OptionError {
	return &OptionError{Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

// withDefaults fills the documented zero values.
func (o Options) withDefaults() Options {
	if o.TokenKey == "" {
		o.TokenKey = DefaultTokenKey
	}
	if o.Namespace == "" {
		o.Namespace = DefaultNamespace
	}
	if o.CPU == "" {
		o.CPU = DefaultCPU
	}
	if o.Memory == "" {
		o.Memory = DefaultMemory
	}
	if o.CPULimit == "" {
		o.CPULimit = o.CPU
	}
	if o.MemoryLimit == "" {
		o.MemoryLimit = o.Memory
	}
	if o.TTL == 0 {
		o.TTL = DefaultTTL
	}
	return o
}

// Name is the Job's name for these options: headroom-agents-<job id>.
func (o Options) Name() string {
	if o.JobID == "" {
		return NamePrefix
	}
	return NamePrefix + "-" + strings.ToLower(o.JobID)
}

// Validate checks the options as Manifest will use them; the error is an
// *OptionError naming the first bad flag.
func (o Options) Validate() error {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return err
	}
	if _, err := o.resources(); err != nil {
		return err
	}
	return nil
}

func (o Options) validate() *OptionError {
	if o.Server == "" {
		return bad("server", "the URL agents dial is required (as seen from inside the cluster)")
	}
	u, err := url.Parse(o.Server)
	switch {
	case err != nil:
		return bad("server", "%q is not a URL: %v", o.Server, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("server", "%q: want an http:// or https:// URL", o.Server)
	case u.Host == "":
		return bad("server", "%q has no host", o.Server)
	}
	if o.Agents < 1 || o.Agents > MaxAgents {
		return bad("agents", "%d: want 1 to %d", o.Agents, MaxAgents)
	}
	if strings.TrimSpace(o.Image) == "" {
		return bad("image", "the container image holding headroom is required")
	}
	if strings.ContainsAny(o.Image, " \t\n") {
		return bad("image", "%q holds white space", o.Image)
	}
	if o.TokenSecret == "" {
		return bad("token-secret", "the Secret holding the agent token is required (kubectl create secret generic NAME --from-file=token=FILE)")
	}
	if msgs := validation.IsDNS1123Subdomain(o.TokenSecret); len(msgs) > 0 {
		return bad("token-secret", "%q is not a Secret name: %s", o.TokenSecret, msgs[0])
	}
	if msgs := validation.IsConfigMapKey(o.TokenKey); len(msgs) > 0 {
		return bad("token-key", "%q is not a Secret key: %s", o.TokenKey, msgs[0])
	}
	if msgs := validation.IsDNS1123Label(o.Namespace); len(msgs) > 0 {
		return bad("namespace", "%q is not a namespace name: %s", o.Namespace, msgs[0])
	}
	if o.JobID != "" {
		if msgs := validation.IsDNS1123Label(strings.ToLower(o.JobID)); len(msgs) > 0 {
			return bad("job-id", "%q: lower-case letters, digits and '-' only: %s", o.JobID, msgs[0])
		}
		// Pods of an Indexed Job are named <job>-<index>-<5 chars>, and the
		// job-name label they carry must fit in 63 characters.
		if n := len(o.Name()); n > validation.DNS1123LabelMaxLength {
			return bad("job-id", "%q makes the Job name %s %d characters long; at most %d", o.JobID, o.Name(), n, validation.DNS1123LabelMaxLength)
		}
	}
	if o.ServiceAccount != "" {
		if msgs := validation.IsDNS1123Subdomain(o.ServiceAccount); len(msgs) > 0 {
			return bad("service-account", "%q is not a service account name: %s", o.ServiceAccount, msgs[0])
		}
	}
	if o.TTL > 0 && o.TTL.Seconds() > math.MaxInt32 {
		return bad("ttl", "%s is too long", o.TTL)
	}
	if o.Deadline < 0 {
		return bad("deadline", "%s: want 0 (no bound) or a positive duration", o.Deadline)
	}
	if o.Deadline > 0 && o.Deadline < time.Second {
		return bad("deadline", "%s: want at least 1s", o.Deadline)
	}
	return nil
}

// resources parses the requests and limits, naming the flag of the first
// bad one.
func (o Options) resources() (corev1.ResourceRequirements, *OptionError) {
	var r corev1.ResourceRequirements
	type q struct {
		flag, text string
		name       corev1.ResourceName
		limit      bool
	}
	for _, x := range []q{
		{"cpu", o.CPU, corev1.ResourceCPU, false},
		{"memory", o.Memory, corev1.ResourceMemory, false},
		{"cpu-limit", o.CPULimit, corev1.ResourceCPU, true},
		{"memory-limit", o.MemoryLimit, corev1.ResourceMemory, true},
	} {
		if x.limit && x.text == "none" {
			continue
		}
		v, err := resource.ParseQuantity(x.text)
		if err != nil {
			return r, bad(x.flag, "%q is not a quantity (like 500m, 2, 512Mi): %v", x.text, err)
		}
		if v.Sign() <= 0 {
			return r, bad(x.flag, "%q: want more than zero", x.text)
		}
		if !x.limit {
			if r.Requests == nil {
				r.Requests = corev1.ResourceList{}
			}
			r.Requests[x.name] = v
			continue
		}
		if req := r.Requests[x.name]; v.Cmp(req) < 0 {
			return r, bad(x.flag, "%s is below the request %s", v.String(), req.String())
		}
		if r.Limits == nil {
			r.Limits = corev1.ResourceList{}
		}
		r.Limits[x.name] = v
	}
	return r, nil
}

// Labels are the labels on the Job and its pods.
func (o Options) Labels() map[string]string {
	l := map[string]string{labelName: "headroom", labelComponent: "agent"}
	if o.JobID != "" {
		l[LabelJob] = strings.ToLower(o.JobID)
	}
	if o.ManagedBy != "" {
		l[labelManagedBy] = o.ManagedBy
	}
	return l
}

// Manifest builds the Indexed Job that runs the agents, after validating
// the options.
func Manifest(o Options) (*batchv1.Job, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	res, rerr := o.resources()
	if rerr != nil {
		return nil, rerr
	}
	n := int32(o.Agents)
	labels := o.Labels()
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: o.Name(), Namespace: o.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			CompletionMode: ptr.To(batchv1.IndexedCompletion),
			Completions:    ptr.To(n),
			Parallelism:    ptr.To(n),
			// No pod is retried: an agent that dies is reported by the
			// server (the step is invalid), never quietly replaced
			// mid-step by a new one with another clock offset.
			BackoffLimitPerIndex: ptr.To(int32(0)),
			// Every index may fail without Kubernetes ending the others:
			// the server's stated policy (retry with the agents left, or
			// abort) decides, and it deletes the Job when the job ends.
			MaxFailedIndexes: ptr.To(n),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       podSpec(o, res),
			},
		},
	}
	if o.TTL > 0 {
		job.Spec.TTLSecondsAfterFinished = ptr.To(int32(o.TTL / time.Second))
	}
	if o.Deadline > 0 {
		job.Spec.ActiveDeadlineSeconds = ptr.To(int64(o.Deadline / time.Second))
	}
	return job, nil
}

func podSpec(o Options, res corev1.ResourceRequirements) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		ServiceAccountName:           o.ServiceAccount,
		AutomountServiceAccountToken: ptr.To(false),
		EnableServiceLinks:           ptr.To(false),
		SecurityContext: &corev1.PodSecurityContext{
			RunAsNonRoot:   ptr.To(true),
			RunAsUser:      ptr.To(int64(RunAsUser)),
			RunAsGroup:     ptr.To(int64(RunAsUser)),
			FSGroup:        ptr.To(int64(RunAsUser)),
			SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
		},
		Containers: []corev1.Container{{
			Name:    "agent",
			Image:   o.Image,
			Command: []string{"headroom"},
			// $(HEADROOM_AGENT_NAME) is expanded by the kubelet from the
			// env below: each agent is named after its pod, whose name
			// holds the completion index.
			Args: []string{"agent", "--server", o.Server, "--token-file", TokenPath, "--name", "$(HEADROOM_AGENT_NAME)"},
			Env: []corev1.EnvVar{
				fieldEnv("HEADROOM_AGENT_INDEX", "metadata.annotations['"+batchv1.JobCompletionIndexAnnotation+"']"),
				fieldEnv("HEADROOM_AGENT_NAME", "metadata.name"),
			},
			Resources: res,
			VolumeMounts: []corev1.VolumeMount{
				{Name: "token", MountPath: TokenDir, ReadOnly: true},
				{Name: "tmp", MountPath: "/tmp"},
			},
			SecurityContext: &corev1.SecurityContext{
				RunAsNonRoot:             ptr.To(true),
				ReadOnlyRootFilesystem:   ptr.To(true),
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName:  o.TokenSecret,
				Items:       []corev1.KeyToPath{{Key: o.TokenKey, Path: "token"}},
				DefaultMode: ptr.To(int32(0o440)),
			}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
				SizeLimit: ptr.To(resource.MustParse("64Mi")),
			}}},
		},
	}
}

// fieldEnv is an environment variable from the downward API.
func fieldEnv(name, path string) corev1.EnvVar {
	return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: path},
	}}
}

// Secret is the Secret holding the agent token under the options' token key,
// for a manifest that carries its own token (`agents manifest --secret-from`).
func Secret(o Options, token string) (*corev1.Secret, error) {
	o = o.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, bad("secret-from", "the token file is empty")
	}
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: o.TokenSecret, Namespace: o.Namespace,
			Labels: map[string]string{labelName: "headroom", labelComponent: "agent"},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{o.TokenKey: []byte(token)},
	}, nil
}
