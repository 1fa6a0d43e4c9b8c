package kube

import (
	"fmt"
	"path/filepath"

	batchclient "k8s.io/client-go/kubernetes/typed/batch/v1"
	"k8s.io/client-go/tools/clientcmd"
)

// Connect returns a Jobs client (the one part of client-go a JobLauncher
// needs, so the server does not build every API group's) for the cluster that kubeconfig names (one file,
// or a list joined as in $KUBECONFIG) and the namespace its current context
// sets; with kubeconfig "" it uses the in-cluster service account (a server
// running as a pod). Nothing is sent to the cluster yet.
func Connect(kubeconfig string) (batchclient.JobsGetter, string, error) {
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(kubeconfig)}
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{})
	cfg, err := cc.ClientConfig()
	if err != nil {
		if clientcmd.IsEmptyConfig(err) {
			return nil, "", fmt.Errorf("no Kubernetes configuration: not in a cluster, and no kubeconfig (--kubeconfig or $KUBECONFIG)")
		}
		return nil, "", fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig %s: namespace: %w", kubeconfig, err)
	}
	cfg.UserAgent = "headroom-serve"
	client, err := batchclient.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("kubernetes client: %w", err)
	}
	return client, ns, nil
}
