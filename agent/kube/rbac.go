package kube

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
)

// RoleName names the Role (and RoleBinding) RBAC returns.
const RoleName = "headroom-agent-launcher"

// RBAC returns what `headroom serve --kubernetes` needs in namespace when it
// runs in the cluster as serviceAccount: that ServiceAccount, a Role that may
// create, read and delete Jobs there and nothing else, and the binding
// between them. Errors name the flags of `headroom agents rbac`.
func RBAC(namespace, serviceAccount string) ([]runtime.Object, error) {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	if msgs := validation.IsDNS1123Label(namespace); len(msgs) > 0 {
		return nil, bad("namespace", "%q is not a namespace name: %s", namespace, msgs[0])
	}
	if serviceAccount == "" {
		return nil, bad("service-account", "the account the server runs as is required")
	}
	if msgs := validation.IsDNS1123Subdomain(serviceAccount); len(msgs) > 0 {
		return nil, bad("service-account", "%q is not a service account name: %s", serviceAccount, msgs[0])
	}
	labels := map[string]string{labelName: "headroom", labelComponent: "server"}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels}
	}
	return []runtime.Object{
		&corev1.ServiceAccount{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: meta(serviceAccount),
		},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: meta(RoleName),
			Rules: []rbacv1.PolicyRule{{
				APIGroups: []string{"batch"},
				Resources: []string{"jobs"},
				Verbs:     []string{"create", "get", "delete"},
			}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: meta(RoleName),
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: RoleName},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: namespace}},
		},
	}, nil
}
