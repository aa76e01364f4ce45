import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { RoleBindingV1 } from '@cdktf/provider-kubernetes/lib/role-binding-v1';
import { RoleV1 } from '@cdktf/provider-kubernetes/lib/role-v1';
import { Construct } from 'constructs';
import { PropChecker } from '../private/prop-checker';
import { checkSubjects, namespacedGrant } from '../private/rbac';
import { checkDns1123Label } from '../private/validation';

/** A ServiceAccount that applies stacks, such as a pipeline's. */
export interface StateServiceAccount {
  /** Its name. */
  readonly name: string;
  /** Its namespace. */
  readonly namespace: string;
}

/** Props for {@link StateBackendAccess}. */
export interface StateBackendAccessProps {
  /**
   * The state namespace, as the stacks' KubernetesStateBackend names it.
   * @default 'airgap-state'
   */
  readonly namespace?: string;
  /**
   * Create the namespace (Pod Security "restricted": it holds no pods).
   * @default true
   */
  readonly createNamespace?: boolean;
  /**
   * ServiceAccounts that apply stacks.
   * @default - none
   */
  readonly serviceAccounts?: StateServiceAccount[];
  /**
   * Users (as the API server authenticates them) that apply stacks.
   * @default - none
   */
  readonly users?: string[];
  /**
   * Groups that apply stacks.
   * @default - none
   */
  readonly groups?: string[];
  /**
   * Also allow deleting state Secrets and Leases, for `tofu workspace
   * delete`; not for pipelines. The reaper's identity gets its own Role from
   * PreviewReaperAccess.
   * @default false
   */
  readonly allowDelete?: boolean;
}

/** What the kubernetes backend does to Secrets and Leases for init, plan, apply and destroy. */
export const STATE_VERBS: { readonly secrets: readonly string[]; readonly leases: readonly string[] } = {
  // list: init enumerates workspaces by label.
  secrets: ['create', 'get', 'list', 'update'],
  leases: ['create', 'get', 'update'],
};

/**
 * The least privilege the kubernetes state backend needs, in the state
 * namespace only: a Role with {@link STATE_VERBS} on Secrets and Leases, bound
 * to the identities that apply. Put it in a stack of its own, applied once by
 * an administrator before the stacks that keep state there.
 */
export class StateBackendAccess extends Construct {
  /** The namespace (escape hatch), when created. */
  public readonly namespaceResource?: NamespaceV1;
  /** The Role (escape hatch). */
  public readonly role: RoleV1;
  /** The RoleBinding (escape hatch). */
  public readonly roleBinding: RoleBindingV1;
  /** The state namespace's name. */
  public readonly namespaceName: string;
  /** The state namespace as the Role names it: a reference to the namespace resource when created, so what uses it is applied after. */
  public readonly namespaceRef: string;

  constructor(scope: Construct, id: string, props: StateBackendAccessProps = {}) {
    super(scope, id);
    const c = new PropChecker(this, 'StateBackendAccess');
    const namespace = props.namespace ?? 'airgap-state';
    c.check('namespace', namespace, checkDns1123Label(namespace), 'Use the namespace the stacks\' KubernetesStateBackend names, such as "airgap-state".');
    checkSubjects(c, props, { who: 'pipelines', example: 'preview-pipeline', consequence: 'no pipeline could keep state' });
    c.throwIfAny({ discard: true });

    this.namespaceName = namespace;
    const labels = { 'app.kubernetes.io/managed-by': 'airgap-go-constructs', 'app.kubernetes.io/component': 'terraform-state' };
    if (props.createNamespace ?? true) {
      this.namespaceResource = new NamespaceV1(this, 'Namespace', {
        metadata: { name: namespace, labels: { ...labels, 'pod-security.kubernetes.io/enforce': 'restricted' } },
      });
    }
    const ns = this.namespaceResource?.metadata.name ?? namespace;
    this.namespaceRef = ns;
    const extra = props.allowDelete ? ['delete'] : [];
    const { role, binding } = namespacedGrant(this, { role: 'Role', binding: 'Binding' }, {
      name: 'terraform-state',
      namespace: ns,
      labels,
      rules: [
        { apiGroups: [''], resources: ['secrets'], verbs: [...STATE_VERBS.secrets, ...extra].sort() },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: [...STATE_VERBS.leases, ...extra].sort() },
      ],
      subjects: props,
    });
    this.role = role;
    this.roleBinding = binding;
  }
}
