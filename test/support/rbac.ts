/**
 * The RBAC resource (`group/resource`) of each kubernetes provider resource
 * type a preview can hold, for tests that check grants against what a state
 * or the library's constructs hold. A type missing here is a test failure,
 * never a silent pass.
 */
export const RBAC_RESOURCE_OF: Readonly<Record<string, string>> = {
  kubernetes_namespace_v1: '/namespaces',
  kubernetes_deployment_v1: 'apps/deployments',
  kubernetes_service_v1: '/services',
  kubernetes_service_account_v1: '/serviceaccounts',
  kubernetes_default_service_account_v1: '/serviceaccounts',
  kubernetes_network_policy_v1: 'networking.k8s.io/networkpolicies',
  kubernetes_ingress_v1: 'networking.k8s.io/ingresses',
  kubernetes_resource_quota_v1: '/resourcequotas',
  kubernetes_limit_range_v1: '/limitranges',
  kubernetes_pod_disruption_budget_v1: 'policy/poddisruptionbudgets',
  kubernetes_secret_v1: '/secrets',
};

/** The RBAC resource of a provider resource type; throws for one this table does not know. */
export function rbacResourceOf(type: string): string {
  const r = RBAC_RESOURCE_OF[type];
  if (r === undefined) throw new Error(`no RBAC resource known for ${type}: add it to test/support/rbac.ts, and to PREVIEW_RESOURCES if previews hold it`);
  return r;
}
