import { ClusterRoleBindingV1 } from '@cdktf/provider-kubernetes/lib/cluster-role-binding-v1';
import { ClusterRoleV1 } from '@cdktf/provider-kubernetes/lib/cluster-role-v1';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { Construct } from 'constructs';
import { PropChecker } from './prop-checker';
import { checkDns1123Label, checkDns1123Subdomain } from './validation';

/** A ServiceAccount named as an RBAC subject. */
export interface SubjectServiceAccount {
  readonly name: string;
  readonly namespace: string;
}

/** Who a Role or ClusterRole is bound to. */
export interface Subjects {
  readonly serviceAccounts?: SubjectServiceAccount[];
  readonly users?: string[];
  readonly groups?: string[];
}

/**
 * Checks the subjects of a binding: valid names, and someone actually named.
 * Groups that mean every caller are refused, so a binding never grants to all.
 */
export function checkSubjects(c: PropChecker, s: Subjects, use: { readonly who: string; readonly example: string; readonly consequence: string }): void {
  const { who, example } = use;
  for (const [i, sa] of (s.serviceAccounts ?? []).entries()) {
    c.check(`serviceAccounts[${i}].name`, sa.name, checkDns1123Subdomain(sa.name), `Use the ServiceAccount's name, such as "${example}".`);
    c.check(`serviceAccounts[${i}].namespace`, sa.namespace, checkDns1123Label(sa.namespace), 'Use the ServiceAccount\'s namespace, such as "ci".');
  }
  for (const [i, u] of (s.users ?? []).entries()) c.check(`users[${i}]`, u, u.trim() === '' ? 'is empty' : undefined, 'Use the user name the API server authenticates.');
  for (const [i, g] of (s.groups ?? []).entries()) {
    c.check(`groups[${i}]`, g, g.trim() === '' || g === 'system:authenticated' || g === 'system:unauthenticated' ? 'is empty or every caller' : undefined, `Name the ${who}' own group.`);
  }
  if ((s.serviceAccounts ?? []).length + (s.users ?? []).length + (s.groups ?? []).length === 0) {
    c.fail('serviceAccounts/users/groups', [], `name no one, so ${use.consequence}`, `Pass serviceAccounts: [{ name: "${example}", namespace: "ci" }], or users, or groups.`);
  }
}

/** The binding's subject blocks, in the provider's shape. */
function renderSubjects(s: Subjects): Array<{ kind: string; name: string; namespace?: string; apiGroup?: string }> {
  return [
    ...(s.serviceAccounts ?? []).map((sa) => ({ kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace })),
    ...(s.users ?? []).map((name) => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' })),
    ...(s.groups ?? []).map((name) => ({ kind: 'Group', name, apiGroup: 'rbac.authorization.k8s.io' })),
  ];
}

/** One RBAC rule, in the provider's shape. */
export interface RbacRule {
  readonly apiGroups: string[];
  readonly resources: string[];
  readonly verbs: string[];
}

/** What a grant is: its name, labels, rules and subjects; a namespace makes it a Role, none a ClusterRole. */
export interface Grant {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Record<string, string>;
  readonly rules: RbacRule[];
  readonly subjects: Subjects;
}

/** A Role and its RoleBinding, the binding naming the Role by reference (so it is applied after it). */
export function namespacedGrant(scope: Construct, ids: { readonly role: string; readonly binding: string }, g: Grant & { readonly namespace: string }): { role: RoleV1; binding: RoleBindingV1 } {
  const metadata = { name: g.name, namespace: g.namespace, labels: g.labels };
  const role = new RoleV1(scope, ids.role, { metadata, rule: g.rules });
  const binding = new RoleBindingV1(scope, ids.binding, {
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata.name },
    subject: renderSubjects(g.subjects),
  });
  return { role, binding };
}

/** A ClusterRole and its ClusterRoleBinding, the binding naming the role by reference. */
export function clusterGrant(scope: Construct, ids: { readonly role: string; readonly binding: string }, g: Grant): { role: ClusterRoleV1; binding: ClusterRoleBindingV1 } {
  const metadata = { name: g.name, labels: g.labels };
  const role = new ClusterRoleV1(scope, ids.role, { metadata, rule: g.rules });
  const binding = new ClusterRoleBindingV1(scope, ids.binding, {
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
    subject: renderSubjects(g.subjects),
  });
  return { role, binding };
}
