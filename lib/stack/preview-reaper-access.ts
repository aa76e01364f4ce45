import { ClusterRoleBindingV1 } from '@cdktf/provider-kubernetes/lib/cluster-role-binding-v1';
import { ClusterRoleV1 } from '@cdktf/provider-kubernetes/lib/cluster-role-v1';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { Construct } from 'constructs';
import { PropChecker } from '../private/prop-checker';
import { checkSubjects, clusterGrant, namespacedGrant } from '../private/rbac';
import { checkDns1123Label, checkDns1123Subdomain } from '../private/validation';
import { StateBackendAccess, StateServiceAccount } from './state-backend-access';

/** A kind of namespaced object, as RBAC names it. */
export interface ApiResource {
  /** Its API group: `''` for the core group, such as `'apps'`. */
  readonly apiGroup: string;
  /** Its resource, plural and lowercase, such as `'deployments'`. */
  readonly resource: string;
}

/**
 * The namespaced kinds a PreviewEnvironment (its services, Ingress and
 * namespace mirror included) puts in its namespace, Secrets aside: what the
 * reaper's Terraform refreshes and deletes.
 */
export const PREVIEW_RESOURCES: readonly ApiResource[] = [
  { apiGroup: '', resource: 'limitranges' },
  { apiGroup: '', resource: 'resourcequotas' },
  { apiGroup: '', resource: 'serviceaccounts' },
  { apiGroup: '', resource: 'services' },
  { apiGroup: 'apps', resource: 'deployments' },
  { apiGroup: 'networking.k8s.io', resource: 'ingresses' },
  { apiGroup: 'networking.k8s.io', resource: 'networkpolicies' },
  { apiGroup: 'policy', resource: 'poddisruptionbudgets' },
];

/**
 * What the reaper does: in the state namespace, to Secrets and Leases
 * (`list` to find the states, `update` to empty one under its lock, `delete`
 * once empty; `create` on Leases for a state whose Lease is gone); in the
 * previews, to their namespaces (`list` to judge them) and to what they hold.
 * Refreshing and destroying need `get` and `delete` and nothing else.
 */
export const REAPER_VERBS: {
  readonly stateSecrets: readonly string[];
  readonly stateLeases: readonly string[];
  readonly namespaces: readonly string[];
  readonly previewObjects: readonly string[];
} = {
  stateSecrets: ['delete', 'get', 'list', 'update'],
  stateLeases: ['create', 'delete', 'get', 'update'],
  namespaces: ['delete', 'get', 'list'],
  previewObjects: ['delete', 'get'],
};

/** Props for {@link PreviewReaperAccess}. */
export interface PreviewReaperAccessProps {
  /**
   * ServiceAccounts that run `airgap-kit previews reap`, such as a CronJob's.
   * @default - none
   */
  readonly serviceAccounts?: StateServiceAccount[];
  /**
   * Users (as the API server authenticates them) that reap.
   * @default - none
   */
  readonly users?: string[];
  /**
   * Groups that reap.
   * @default - none
   */
  readonly groups?: string[];
  /**
   * The StateBackendAccess of the state namespace, when it is in the same
   * stack: the reaper's Role then goes into its namespace, after it exists.
   * @default - the namespace `stateNamespace` names, which must exist
   */
  readonly stateAccess?: StateBackendAccess;
  /**
   * The state namespace, as the previews' KubernetesStateBackend names it.
   * @default - `stateAccess`'s namespace, else 'airgap-state'
   */
  readonly stateNamespace?: string;
  /**
   * Also `get` and `delete` Secrets in every namespace, for previews that hold
   * Secrets (RegistryCredentials, say). Off by default because it lets the
   * reaper read every Secret in the cluster: RBAC cannot scope a grant to
   * namespaces carrying a label, and a preview's namespace is not known
   * before it exists.
   * @default false
   */
  readonly previewSecrets?: boolean;
  /**
   * More namespaced kinds your preview stacks hold (beside
   * {@link PREVIEW_RESOURCES}), granted `get` and `delete` alike.
   * @default - none
   */
  readonly extraResources?: ApiResource[];
  /**
   * The ClusterRole's and ClusterRoleBinding's name.
   * @default 'airgap-preview-reaper'
   */
  readonly clusterRoleName?: string;
}

/**
 * The least privilege `airgap-kit previews reap` needs, bound to the identity
 * that runs it: a Role in the state namespace ({@link REAPER_VERBS}), and a
 * ClusterRole to list, read and delete preview namespaces and read and delete
 * the kinds they hold (no create, update, patch or watch anywhere). The
 * ClusterRole is cluster-wide because previews' namespaces come and go; the
 * reaper itself only ever destroys what a preview's own state holds. Put it
 * in the administrator's stack, beside {@link StateBackendAccess}.
 */
export class PreviewReaperAccess extends Construct {
  /** The Role in the state namespace (escape hatch). */
  public readonly stateRole: RoleV1;
  /** Its RoleBinding (escape hatch). */
  public readonly stateRoleBinding: RoleBindingV1;
  /** The ClusterRole over the previews (escape hatch). */
  public readonly clusterRole: ClusterRoleV1;
  /** Its ClusterRoleBinding (escape hatch). */
  public readonly clusterRoleBinding: ClusterRoleBindingV1;

  constructor(scope: Construct, id: string, props: PreviewReaperAccessProps) {
    super(scope, id);
    const c = new PropChecker(this, 'PreviewReaperAccess');
    checkSubjects(c, props, { who: 'reapers', example: 'preview-reaper', consequence: 'no reaper could run' });
    const stateNamespace = props.stateNamespace ?? props.stateAccess?.namespaceName ?? 'airgap-state';
    c.check('stateNamespace', stateNamespace, checkDns1123Label(stateNamespace), 'Use the namespace the previews\' KubernetesStateBackend names, such as "airgap-state".');
    if (props.stateAccess && props.stateNamespace !== undefined && props.stateNamespace !== props.stateAccess.namespaceName) {
      c.fail('stateNamespace', props.stateNamespace, `differs from stateAccess's namespace "${props.stateAccess.namespaceName}"`, 'Pass one of them, or the same namespace in both.');
    }
    const name = props.clusterRoleName ?? 'airgap-preview-reaper';
    c.check('clusterRoleName', name, checkDns1123Subdomain(name), 'Use a DNS-1123 subdomain, such as "airgap-preview-reaper".');
    const extra = props.extraResources ?? [];
    for (const [i, r] of extra.entries()) {
      c.check(`extraResources[${i}].apiGroup`, r.apiGroup, r.apiGroup === '' ? undefined : checkDns1123Subdomain(r.apiGroup), 'Use the kind\'s API group, such as "batch", or "" for the core group.');
      const problem = r.resource === '*' ? 'is a wildcard, which would grant every kind' : r.resource === 'namespaces' || r.resource === 'secrets' ? 'is granted already (namespaces) or by previewSecrets (secrets)' : checkDns1123Label(r.resource);
      c.check(`extraResources[${i}].resource`, r.resource, problem, 'Name one namespaced resource, plural and lowercase, such as "configmaps"; for Secrets set previewSecrets: true.');
    }
    c.throwIfAny({ discard: true });

    const labels = { 'app.kubernetes.io/managed-by': 'airgap-go-constructs', 'app.kubernetes.io/component': 'preview-reaper' };
    const state = namespacedGrant(this, { role: 'StateRole', binding: 'StateBinding' }, {
      name: 'terraform-state-reaper',
      namespace: props.stateAccess?.namespaceRef ?? stateNamespace,
      labels,
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: [...REAPER_VERBS.stateSecrets] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...REAPER_VERBS.stateLeases] },
      ],
      subjects: props,
    });
    this.stateRole = state.role;
    this.stateRoleBinding = state.binding;

    // One rule per API group, sorted, so the same props give the same bytes.
    const kinds = [...PREVIEW_RESOURCES, ...extra, ...(props.previewSecrets ? [{ apiGroup: '', resource: 'secrets' }] : [])];
    const byGroup = new Map<string, Set<string>>();
    for (const k of kinds) byGroup.set(k.apiGroup, (byGroup.get(k.apiGroup) ?? new Set<string>()).add(k.resource));
    const cluster = clusterGrant(this, { role: 'ClusterRole', binding: 'ClusterBinding' }, {
      name,
      labels,
      rules: [
        { apiGroups: [''], resources: ['namespaces'], verbs: [...REAPER_VERBS.namespaces] },
        ...[...byGroup.keys()].sort().map((g) => ({ apiGroups: [g], resources: [...(byGroup.get(g) ?? [])].sort(), verbs: [...REAPER_VERBS.previewObjects] })),
      ],
      subjects: props,
    });
    this.clusterRole = cluster.role;
    this.clusterRoleBinding = cluster.binding;
  }
}
