package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/headroom-sre/headroom/agent/kube"
	"k8s.io/apimachinery/pkg/runtime"
)

// agentsCmd is `headroom agents manifest|rbac`: the Kubernetes manifests that
// run agents on a cluster, printed as YAML for kubectl apply -f -.
func agentsCmd(args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: headroom agents manifest --server URL --agents N --image IMAGE --token-secret NAME [--namespace NS] [--job-id ID] [--cpu 1] [--memory 512Mi] [--secret-from FILE] …")
		fmt.Fprintln(stderr, "       headroom agents rbac --service-account NAME [--namespace NS]   (what serve --kubernetes needs)")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	fs := flag.NewFlagSet("agents "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(); fs.PrintDefaults() }
	var objs func() ([]runtime.Object, error)
	switch args[0] {
	case "manifest":
		var o kube.Options
		bindKubeOptions(fs, &o, plainFlag)
		fs.StringVar(&o.Server, "server", "", "the URL agents dial, as seen from inside the cluster (required)")
		fs.IntVar(&o.Agents, "agents", 0, "how many agents: the Job's completions and parallelism (required)")
		fs.StringVar(&o.JobID, "job-id", "", "the headroom job they serve: names the Job headroom-agents-<id> and labels it")
		secretFrom := fs.String("secret-from", "", "also print the Secret --token-secret, holding the token read from this file (an agent token: headroom token create --role agent)")
		objs = func() ([]runtime.Object, error) {
			job, err := kube.Manifest(o)
			if err != nil || *secretFrom == "" {
				return []runtime.Object{job}, err
			}
			b, err := os.ReadFile(*secretFrom)
			if err != nil {
				return nil, fmt.Errorf("--secret-from: %w", err)
			}
			s, err := kube.Secret(o, string(b))
			return []runtime.Object{s, job}, err
		}
	case "rbac":
		ns := fs.String("namespace", kube.DefaultNamespace, "the namespace the server creates agent Jobs in")
		sa := fs.String("service-account", "", "the service account the server runs as (required)")
		objs = func() ([]runtime.Object, error) { return kube.RBAC(*ns, *sa) }
	default:
		fmt.Fprintf(stderr, "headroom agents: unknown subcommand %q\n", args[0])
		usage()
		return exitUsage
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "headroom agents %s: unexpected argument %q\n", args[0], fs.Arg(0))
		return exitUsage
	}
	list, err := objs()
	if err != nil {
		fmt.Fprintf(stderr, "headroom agents %s: %v\n", args[0], err)
		return exitUsage
	}
	text, err := kube.YAML(list...)
	if err != nil {
		fmt.Fprintf(stderr, "headroom agents %s: %v\n", args[0], err)
		return exitFailed
	}
	if _, err := stdout.Write(text); err != nil {
		return exitFailed
	}
	return exitOK
}

// plainFlag names a kube.Options flag as `agents manifest` spells it.
func plainFlag(name string) string { return name }

// bindKubeOptions registers the flags shared by `agents manifest` and
// `serve --kubernetes` on fs, each named by name(the manifest's flag).
func bindKubeOptions(fs *flag.FlagSet, o *kube.Options, name func(string) string) {
	fs.StringVar(&o.Image, name("image"), "", "the container image holding headroom (required)")
	fs.StringVar(&o.TokenSecret, name("token-secret"), "", "the Secret holding the agent token, mounted at "+kube.TokenPath+" (required)")
	fs.StringVar(&o.TokenKey, name("token-key"), kube.DefaultTokenKey, "the token's key in that Secret")
	fs.StringVar(&o.Namespace, name("namespace"), "", "the namespace the agents run in (default: "+kube.DefaultNamespace+"; for serve: the kubeconfig's or the server pod's)")
	fs.StringVar(&o.CPU, name("cpu"), kube.DefaultCPU, "each agent's CPU request")
	fs.StringVar(&o.Memory, name("memory"), kube.DefaultMemory, "each agent's memory request")
	fs.StringVar(&o.CPULimit, name("cpu-limit"), "", "each agent's CPU limit (default: the request; none: no limit)")
	fs.StringVar(&o.MemoryLimit, name("memory-limit"), "", "each agent's memory limit (default: the request; none: no limit)")
	fs.DurationVar(&o.TTL, name("ttl"), kube.DefaultTTL, "keep a finished Job this long before Kubernetes deletes it (negative: keep)")
	fs.DurationVar(&o.Deadline, name("deadline"), 0, "end every agent this long after the Job starts (0: no bound)")
	fs.StringVar(&o.ServiceAccount, name("service-account"), "", "run the agents as this service account (no API token is mounted either way)")
}
