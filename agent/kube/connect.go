package kube

import (
	"context"
	"fmt"
	"path/filepath"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Connect returns the Jobs of the cluster that kubeconfig names (one file,
// or a list joined as in $KUBECONFIG) and the namespace its current context
// sets; with kubeconfig "" it uses the in-cluster service account (a server
// running as a pod). Nothing is sent to the cluster yet.
//
// The client is client-go's REST client over a scheme of batch/v1 alone:
// the typed clientset registers every API group, which would add about
// 18 MB to the headroom binary for one resource.
func Connect(kubeconfig string) (Jobs, string, error) {
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
	jobs, err := restJobsFor(cfg)
	if err != nil {
		return nil, "", err
	}
	return jobs, ns, nil
}

// restJobsFor builds the batch/v1 REST client for cfg.
func restJobsFor(cfg *rest.Config) (Jobs, error) {
	scheme := runtime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &batchv1.SchemeGroupVersion
	c.APIPath = "/apis"
	c.ContentType = runtime.ContentTypeJSON
	c.AcceptContentTypes = runtime.ContentTypeJSON
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	c.UserAgent = "headroom-serve"
	client, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	params := runtime.NewParameterCodec(scheme)
	return func(ns string) JobsClient { return restJobs{client: client, params: params, ns: ns} }, nil
}

// restJobs is one namespace's Jobs over the REST client.
type restJobs struct {
	client *rest.RESTClient
	params runtime.ParameterCodec
	ns     string
}

func (r restJobs) Create(ctx context.Context, job *batchv1.Job, opts metav1.CreateOptions) (*batchv1.Job, error) {
	out := &batchv1.Job{}
	err := r.client.Post().Namespace(r.ns).Resource("jobs").VersionedParams(&opts, r.params).Body(job).Do(ctx).Into(out)
	return out, err
}

func (r restJobs) Get(ctx context.Context, name string, opts metav1.GetOptions) (*batchv1.Job, error) {
	out := &batchv1.Job{}
	err := r.client.Get().Namespace(r.ns).Resource("jobs").Name(name).VersionedParams(&opts, r.params).Do(ctx).Into(out)
	return out, err
}

func (r restJobs) Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error {
	return r.client.Delete().Namespace(r.ns).Resource("jobs").Name(name).Body(&opts).Do(ctx).Error()
}
