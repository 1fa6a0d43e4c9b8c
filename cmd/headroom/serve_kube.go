package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/headroom-sre/headroom/agent/kube"
	"github.com/headroom-sre/headroom/server"
)

// kubeServe holds `serve --kubernetes` and the flags that shape the agents'
// Jobs it creates.
type kubeServe struct {
	fs         *flag.FlagSet
	on         bool
	kubeconfig string
	opts       kube.Options
}

// The server's hook and agent/kube's contract are one method set.
var _ server.AgentLauncher = (kube.Launcher)(nil)
var _ server.AgentLauncher = (*kube.JobLauncher)(nil)

// serveKubeFlag names a kube.Options flag as serve spells it.
func serveKubeFlag(name string) string {
	if name == "namespace" {
		return "kube-namespace"
	}
	return "agent-" + name
}

// bindKubeServe registers --kubernetes, --kubeconfig, --agent-server and the
// --agent-*/--kube-namespace forms of the manifest's flags on fs.
func bindKubeServe(fs *flag.FlagSet) *kubeServe {
	k := &kubeServe{fs: fs}
	fs.BoolVar(&k.on, "kubernetes", false, "place the agents of distributed jobs as Kubernetes Indexed Jobs, created and deleted through the API (the --agent-* and --kube-* flags; docs/agents-kubernetes.md)")
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "with --kubernetes: the kubeconfig file(s) (default: $KUBECONFIG; without either, the server pod's service account)")
	fs.StringVar(&k.opts.Server, "agent-server", "", "with --kubernetes: the URL agents dial, as seen from inside the cluster (required)")
	bindKubeOptions(fs, &k.opts, serveKubeFlag)
	return k
}

// launcher is the agents' launcher that --kubernetes asks for, or nil (and
// no error) without it. kubeconfigEnv is $KUBECONFIG.
func (k *kubeServe) launcher(kubeconfigEnv string) (server.AgentLauncher, error) {
	if !k.on {
		var set []string
		k.fs.Visit(func(f *flag.Flag) {
			if f.Name == "kubeconfig" || strings.HasPrefix(f.Name, "agent-") || strings.HasPrefix(f.Name, "kube-") {
				set = append(set, "--"+f.Name)
			}
		})
		if len(set) > 0 {
			return nil, fmt.Errorf("%s: only with --kubernetes", strings.Join(set, ", "))
		}
		return nil, nil
	}
	o := k.opts
	o.Agents = 1 // each job sets its own; checked here so a bad flag stops the start
	if err := o.Validate(); err != nil {
		return nil, renameFlag(err)
	}
	path := k.kubeconfig
	if path == "" {
		path = kubeconfigEnv
	}
	client, ns, err := kube.Connect(path)
	if err != nil {
		return nil, fmt.Errorf("--kubernetes: %w", err)
	}
	if o.Namespace == "" {
		o.Namespace = ns
	}
	l, err := kube.NewJobLauncher(client, o)
	if err != nil {
		return nil, renameFlag(err)
	}
	return l, nil
}

// renameFlag turns an *kube.OptionError's manifest flag into serve's.
func renameFlag(err error) error {
	var oe *kube.OptionError
	if errors.As(err, &oe) {
		return &kube.OptionError{Flag: serveKubeFlag(oe.Flag), Msg: oe.Msg}
	}
	return err
}
