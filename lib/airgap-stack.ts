import { LocalBackend, TerraformBackend, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { PropChecker } from './errors';

/** Props for {@link AirgapStack}. */
export interface AirgapStackProps {
  /**
   * State file of the default local backend, relative to the stack's output
   * directory (where `terraform`/`tofu` runs). Ignored when the stack has a
   * backend of its own.
   * @default 'terraform.<stack id>.tfstate'
   */
  readonly localStatePath?: string;
}

/**
 * A TerraformStack whose output is portable across the air gap.
 *
 * cdktf's implicit local backend writes the synth machine's absolute working
 * directory into `cdk.tf.json`, which leaks a path and breaks byte-identical
 * output between clones. This stack falls back to a relative state path
 * instead. Add any other backend (S3, http, pg) as usual and it wins.
 */
export class AirgapStack extends TerraformStack {
  private readonly localStatePath: string;

  constructor(scope: Construct, id: string, props: AirgapStackProps = {}) {
    super(scope, id);
    const statePath = props.localStatePath ?? `terraform.${id}.tfstate`;
    const c = new PropChecker(this, 'AirgapStack');
    if (statePath.length === 0 || statePath.startsWith('/') || /^[A-Za-z]:[\\/]/.test(statePath)) {
      c.fail('localStatePath', statePath, 'is not a relative path', 'Use a path relative to the stack directory, such as "terraform.tfstate", or configure a remote backend.');
    }
    c.throwIfAny({ discard: true });
    this.localStatePath = statePath;
  }

  /** Uses the stack's own backend if it has one, else a local backend with a relative path. */
  public override ensureBackendExists(): TerraformBackend {
    const own = this.node.findAll().find((c): c is TerraformBackend => TerraformBackend.isBackend(c));
    return own ?? new LocalBackend(this, { path: this.localStatePath });
  }
}
