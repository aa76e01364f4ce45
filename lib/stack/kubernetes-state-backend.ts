import { DataTerraformRemoteStateConfig, TerraformBackend, TerraformRemoteState, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { PropChecker } from '../private/prop-checker';
import { checkDns1123Label, labelMapProblems } from '../private/validation';

/** Props for {@link KubernetesStateBackend}. */
export interface KubernetesStateBackendProps {
  /**
   * Namespace of the state Secrets and lock Leases. It must exist before the
   * first `tofu init`; {@link StateBackendAccess} creates it with the RBAC.
   * @default 'airgap-state'
   */
  readonly namespace?: string;
  /**
   * Names the state: the Secret `tfstate-<workspace>-<suffix>` and the Lease
   * `lock-tfstate-<workspace>-<suffix>`. One per stack, such as the preview's branch slug.
   * @default - the stack's name, lowercased, as a DNS label
   */
  readonly secretSuffix?: string;
  /**
   * Extra labels on the state Secret, such as the preview's branch.
   * @default - only `airgap-go-constructs.io/stack`
   */
  readonly labels?: { [key: string]: string };
  /**
   * Read the credentials of the pod Terraform runs in (a pipeline pod in the
   * cluster) instead of a kubeconfig.
   * @default false: the kubeconfig named by KUBE_CONFIG_PATH where Terraform runs
   */
  readonly inClusterConfig?: boolean;
}

/** The label that names the stack on its state Secret. */
export const STATE_STACK_LABEL = 'airgap-go-constructs.io/stack';

/**
 * State in the cluster's own API server: OpenTofu's and Terraform's
 * `kubernetes` backend keeps it in a Secret and locks it with a Lease, so two
 * pipelines never apply one stack at once and no state lives on a runner's
 * disk. Nothing of the synth machine and no credential is written: the
 * kubeconfig is read where Terraform runs (KUBE_CONFIG_PATH), or the pod's
 * service account with `inClusterConfig`.
 *
 * `new KubernetesStateBackend(stack, { secretSuffix: 'preview-pr-42' })`; it
 * replaces AirgapStack's local backend.
 */
export class KubernetesStateBackend extends TerraformBackend {
  /** The state's namespace. */
  public readonly namespace: string;
  /** The state Secret's suffix. */
  public readonly secretSuffix: string;
  /** The state Secret's labels. */
  public readonly labels: { [key: string]: string };
  private readonly inClusterConfig: boolean;

  constructor(scope: Construct, props: KubernetesStateBackendProps = {}) {
    super(scope, 'backend', 'kubernetes');
    const c = new PropChecker(this, 'KubernetesStateBackend');
    const stackName = TerraformStack.of(scope).node.id;
    this.namespace = props.namespace ?? 'airgap-state';
    this.secretSuffix = props.secretSuffix ?? stackName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
    c.check('namespace', this.namespace, checkDns1123Label(this.namespace), 'Use a namespace name such as "airgap-state".');
    // The backend labels the Secret with the suffix, so it must be a label value too.
    c.check('secretSuffix', this.secretSuffix, checkDns1123Label(this.secretSuffix), 'Use a lowercase DNS label of at most 63 characters, such as "preview-pr-42".');
    for (const p of labelMapProblems('labels', props.labels ?? {})) c.fail(p.prop, p.value, p.problem, 'Use Kubernetes label syntax, such as "airgap-go-constructs.io/branch": "pr-42".');
    c.throwIfAny({ discard: true });
    this.labels = { ...(props.labels ?? {}), [STATE_STACK_LABEL]: this.secretSuffix };
    this.inClusterConfig = props.inClusterConfig ?? false;
  }

  /** The backend block: names only, never a path or a credential. */
  protected override synthesizeAttributes(): { [name: string]: unknown } {
    return {
      secret_suffix: this.secretSuffix,
      namespace: this.namespace,
      labels: sorted(this.labels),
      ...(this.inClusterConfig ? { in_cluster_config: true } : {}),
    };
  }

  /** Other stacks read this one's outputs from the same Secret. */
  public override getRemoteStateDataSource(scope: Construct, name: string, _fromStack: string): TerraformRemoteState {
    return new DataTerraformRemoteStateKubernetes(scope, name, {
      secretSuffix: this.secretSuffix,
      namespace: this.namespace,
      inClusterConfig: this.inClusterConfig,
    });
  }
}

/** Config of {@link DataTerraformRemoteStateKubernetes}. */
export interface DataTerraformRemoteStateKubernetesConfig extends DataTerraformRemoteStateConfig {
  /** The producing stack's secret suffix. */
  readonly secretSuffix: string;
  /** Its namespace. */
  readonly namespace: string;
  /**
   * Use the pod's service account.
   * @default false
   */
  readonly inClusterConfig?: boolean;
}

/** `terraform_remote_state` over the `kubernetes` backend (cdktf 0.21 has no class for it). */
export class DataTerraformRemoteStateKubernetes extends TerraformRemoteState {
  constructor(scope: Construct, id: string, config: DataTerraformRemoteStateKubernetesConfig) {
    // cdktf writes the config's keys in snake case.
    super(scope, id, 'kubernetes', { ...config, inClusterConfig: config.inClusterConfig ? true : undefined } as DataTerraformRemoteStateConfig);
  }
}

function sorted(map: { [key: string]: string }): { [key: string]: string } {
  return Object.fromEntries(Object.keys(map).sort().map((k) => [k, map[k]]));
}
