package kube

import (
	"context"
	"errors"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeJobs is the Jobs of client-go's fake clientset.
func fakeJobs(cs *fake.Clientset) Jobs {
	return func(ns string) JobsClient { return cs.BatchV1().Jobs(ns) }
}

func launcherOpts() Options {
	o := base()
	o.Agents, o.JobID = 0, "" // set per job by the launcher
	return o
}

// TestLauncherCreatesAndDeletesTheJob applies the manifest through
// client-go's fake clientset as serve --kubernetes does, reads the Job back
// from the API, and proves Release deletes it with background propagation.
func TestLauncherCreatesAndDeletesTheJob(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	l, err := NewJobLauncher(fakeJobs(cs), launcherOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Launch(ctx, "17", 4); err != nil {
		t.Fatal(err)
	}

	got, err := cs.BatchV1().Jobs("load").Get(ctx, "headroom-agents-17", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Job is not in the cluster: %v", err)
	}
	want := launcherOpts()
	want.JobID, want.Agents = "17", 4
	assertJob(t, got, want.withDefaults())
	if got.Labels[LabelJob] != "17" || got.Labels["app.kubernetes.io/managed-by"] != ManagedBy {
		t.Errorf("labels %v, want job 17 managed by %s", got.Labels, ManagedBy)
	}
	// What the launcher creates is what `agents manifest` prints.
	want.ManagedBy = ManagedBy
	printed, err := Manifest(want)
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got.Spec, printed.Spec) || !equality.Semantic.DeepEqual(got.Labels, printed.Labels) {
		a, _ := YAML(printed)
		got.TypeMeta, got.ManagedFields = printed.TypeMeta, nil
		b, _ := YAML(got)
		t.Errorf("the created Job differs from the printed manifest:\n%s\n---\n%s", b, a)
	}
	if len(got.ManagedFields) == 0 || got.ManagedFields[0].Manager != ManagedBy {
		t.Errorf("managed fields %v, want the manager %s", got.ManagedFields, ManagedBy)
	}

	// The same job launched again (a restarted server) is no error, and
	// still one Job.
	if err := l.Launch(ctx, "17", 4); err != nil {
		t.Errorf("launching the same job again: %v", err)
	}
	// Another size under the same name is refused, not silently kept.
	if err := l.Launch(ctx, "17", 2); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("launching job 17 with 2 agents over its 4: %v, want an error saying it exists", err)
	}
	list, err := cs.BatchV1().Jobs("load").List(ctx, metav1.ListOptions{LabelSelector: LabelJob + "=17"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("jobs labelled 17: %v %v, want one", list, err)
	}

	if err := l.Release(ctx, "17"); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.BatchV1().Jobs("load").Get(ctx, "headroom-agents-17", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after Release the Job is still there (get: %v)", err)
	}
	var deletes int
	for _, a := range cs.Actions() {
		d, ok := a.(k8stesting.DeleteActionImpl)
		if !ok {
			continue
		}
		deletes++
		p := d.GetDeleteOptions().PropagationPolicy
		if d.GetNamespace() != "load" || d.GetName() != "headroom-agents-17" || p == nil || *p != metav1.DeletePropagationBackground {
			t.Errorf("delete %s/%s propagation %v, want load/headroom-agents-17 Background", d.GetNamespace(), d.GetName(), p)
		}
	}
	if deletes != 1 {
		t.Errorf("%d delete calls, want 1", deletes)
	}
	// Releasing a job whose Job is gone (TTL, a person) is no error.
	if err := l.Release(ctx, "17"); err != nil {
		t.Errorf("releasing twice: %v", err)
	}
}

// TestLauncherRefusesBadInput proves bad launcher options stop the server at
// start with the flag named, a bad agent count names --agents and creates
// nothing, and an API error comes back wrapped with the Job's name.
func TestLauncherRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	cs := fake.NewClientset()
	o := launcherOpts()
	o.Image = ""
	var oe *OptionError
	if _, err := NewJobLauncher(fakeJobs(cs), o); !errors.As(err, &oe) || oe.Flag != "image" {
		t.Errorf("no image: %v, want an error naming --image", err)
	}
	if _, err := NewJobLauncher(nil, launcherOpts()); err == nil {
		t.Error("a launcher without a client was made")
	}

	l, err := NewJobLauncher(fakeJobs(cs), launcherOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Launch(ctx, "9", 0); !errors.As(err, &oe) || oe.Flag != "agents" {
		t.Errorf("0 agents: %v, want an error naming --agents", err)
	}
	if err := l.Launch(ctx, "", 2); err == nil {
		t.Error("an empty job ID was launched")
	}
	if n := len(cs.Actions()); n != 0 {
		t.Errorf("bad launches made %d API calls: %v", n, cs.Actions())
	}

	cs.PrependReactor("create", "jobs", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(batchv1.Resource("jobs"), "", errors.New("RBAC says no"))
	})
	err = l.Launch(ctx, "9", 2)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "load/headroom-agents-9") {
		t.Errorf("a forbidden create: %v, want the Forbidden error naming load/headroom-agents-9", err)
	}
}
