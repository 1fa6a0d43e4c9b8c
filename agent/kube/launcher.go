package kube

import (
	"context"
	"errors"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// Launcher places the agents of a distributed job and takes them away again.
// The server calls Launch when a job asking for agents starts waiting for
// them, and Release when that job ends, however it ends.
type Launcher interface {
	Launch(ctx context.Context, jobID string, agents int) error
	Release(ctx context.Context, jobID string) error
}

// ManagedBy is the managed-by label on the Jobs a JobLauncher creates.
const ManagedBy = "headroom-serve"

// JobsClient is the part of client-go's batch/v1 Jobs client a JobLauncher
// uses: a kubernetes.Interface's BatchV1().Jobs(namespace) is one, and so
// is Connect's.
type JobsClient interface {
	Create(ctx context.Context, job *batchv1.Job, opts metav1.CreateOptions) (*batchv1.Job, error)
	Get(ctx context.Context, name string, opts metav1.GetOptions) (*batchv1.Job, error)
	Delete(ctx context.Context, name string, opts metav1.DeleteOptions) error
}

// Jobs returns the JobsClient of a namespace; with a clientset cs it is
// func(ns string) kube.JobsClient { return cs.BatchV1().Jobs(ns) }.
type Jobs func(namespace string) JobsClient

// JobLauncher is the Launcher of `headroom serve --kubernetes`: one Indexed
// Job per headroom job, created and deleted through client-go.
type JobLauncher struct {
	jobs Jobs
	opts Options
}

var _ Launcher = (*JobLauncher)(nil)

// NewJobLauncher returns a launcher creating Jobs with opts (its Agents and
// JobID are set per job) through jobs. The options are validated here, once,
// so a bad flag stops the server at start and not at a job's.
func NewJobLauncher(jobs Jobs, opts Options) (*JobLauncher, error) {
	if jobs == nil {
		return nil, errors.New("kube: no Kubernetes client")
	}
	opts.Agents, opts.JobID, opts.ManagedBy = 1, "", ManagedBy
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	return &JobLauncher{jobs: jobs, opts: opts.withDefaults()}, nil
}

// Options are the launcher's options (with defaults filled).
func (l *JobLauncher) Options() Options { return l.opts }

func (l *JobLauncher) forJob(jobID string, agents int) Options {
	o := l.opts
	o.JobID, o.Agents = jobID, agents
	return o
}

// Launch creates the Job running agents agents for jobID. Launching a job
// whose Job already exists with the same size (a server restarted while
// the job waited) is not an error.
func (l *JobLauncher) Launch(ctx context.Context, jobID string, agents int) error {
	if jobID == "" {
		return errors.New("kube: launch: empty job ID")
	}
	job, err := Manifest(l.forJob(jobID, agents))
	if err != nil {
		return fmt.Errorf("kube: launch job %s: %w", jobID, err)
	}
	jobs := l.jobs(job.Namespace)
	_, err = jobs.Create(ctx, job, metav1.CreateOptions{FieldManager: ManagedBy})
	if apierrors.IsAlreadyExists(err) {
		had, gerr := jobs.Get(ctx, job.Name, metav1.GetOptions{})
		if gerr != nil {
			return fmt.Errorf("kube: launch job %s: %s/%s exists: %w", jobID, job.Namespace, job.Name, gerr)
		}
		if had.Labels[LabelJob] == job.Labels[LabelJob] && ptr.Deref(had.Spec.Completions, 0) == int32(agents) && had.DeletionTimestamp == nil {
			return nil
		}
		return fmt.Errorf("kube: launch job %s: %s/%s exists and is not this job's %d agents; delete it or wait for it to go", jobID, job.Namespace, job.Name, agents)
	}
	if err != nil {
		return fmt.Errorf("kube: launch job %s: create %s/%s: %w", jobID, job.Namespace, job.Name, err)
	}
	return nil
}

// Release deletes jobID's Job and, in the background, its pods. A Job
// already gone is not an error.
func (l *JobLauncher) Release(ctx context.Context, jobID string) error {
	if jobID == "" {
		return errors.New("kube: release: empty job ID")
	}
	o := l.forJob(jobID, 1)
	err := l.jobs(o.Namespace).Delete(ctx, o.Name(), metav1.DeleteOptions{
		PropagationPolicy: ptr.To(metav1.DeletePropagationBackground),
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("kube: release job %s: delete %s/%s: %w", jobID, o.Namespace, o.Name(), err)
	}
	return nil
}
