// Package kube places headroom agents on a Kubernetes cluster as one Indexed
// Job per distributed job: the completion index is the agent index, no pod is
// retried (a lost agent is the server's to report, not Kubernetes' to hide),
// and each agent reads its token from a Secret.
//
// The manifests are built from k8s.io/api types, never from templated text,
// and validated before anything is printed or created:
//
//	job, err := kube.Manifest(kube.Options{
//		Server:      "http://headroom.load.svc:8080",
//		Agents:      3,
//		Image:       "ghcr.io/example/headroom:v1",
//		TokenSecret: "headroom-agent",
//		Namespace:   "load",
//		JobID:       "42",
//	})
//	if err != nil { /* an *OptionError naming the flag */ }
//	text, err := kube.YAML(job)
//
// A JobLauncher does the same through client-go for `headroom serve
// --kubernetes`: Launch creates the Job when a distributed job starts, Release
// deletes it (and its pods) when the job ends.
package kube
