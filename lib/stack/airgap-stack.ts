import { existsSync } from 'fs';
import { join, resolve } from 'path';
import {
  Annotations,
  Aspects,
  DataTerraformRemoteStateLocal,
  IAspect,
  IStackSynthesizer,
  ISynthesisSession,
  LocalBackend,
  TerraformBackend,
  TerraformRemoteState,
  TerraformStack,
} from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { AirgapError } from '../core/errors';
import { PropChecker } from '../private/prop-checker';
import { hostPlatform, ImageRecord, writeOfflineKit } from '../private/offline-kit';
import { KitContents } from './kit-contents';
import { PolicyChecks, StackPolicy } from '../policy/policy-checks';

/** Props for {@link AirgapStack}. */
export interface AirgapStackProps {
  /**
   * State file of the default local backend, relative to the stack's output
   * directory (where `terraform`/`tofu` runs). Ignored when the stack has a
   * backend of its own.
   * @default 'terraform.<stack id>.tfstate'
   */
  readonly localStatePath?: string;
  /**
   * Write the offline apply kit beside cdk.tf.json at synth: `offline/` with CLI
   * configs for a filesystem provider mirror, the provider and image lists and
   * `verify.sh`, plus `SHA256SUMS` over the whole stack directory.
   * @default true
   */
  readonly offlineKit?: boolean;
  /**
   * Provider versions to require instead of the ones the cdktf bindings pin,
   * by local provider name (`kubernetes`, `docker`): the versions the
   * air-gapped side's provider mirror actually holds.
   * @default - the versions the bindings were generated for
   */
  readonly providerVersions?: { readonly [name: string]: string };
  /**
   * Platforms of the cluster's nodes (`linux/amd64`, `linux/arm64`): the
   * children of multi-platform indexes that `airgap-kit pack` carries (the
   * index itself is always carried unchanged, so its digest resolves).
   * Also read from the context key `airgap-go-constructs:platforms`
   * (an array, or a comma-separated string).
   * @default - every platform of every index
   */
  readonly platforms?: string[];
  /**
   * Platforms where tofu runs on the far side (`linux_amd64`, `darwin_arm64`):
   * the providers carried and locked. Also read from the context key
   * `airgap-go-constructs:providerPlatforms`.
   * @default - the synth machine's platform
   */
  readonly providerPlatforms?: string[];
  /**
   * A provider filesystem mirror on the synth machine (what `tofu providers
   * mirror DIR` writes, packed or unpacked). With it, the kit writes
   * `.terraform.lock.hcl` (and `offline/terraform.lock.hcl` for Terraform)
   * with the `h1:` hash of every provider for every provider platform, so
   * `tofu init` on the far side verifies what it is given. Also read from the
   * context key `airgap-go-constructs:providerMirror` and the environment
   * variable `AIRGAP_PROVIDER_MIRROR`.
   * @default - no lock file, and synth warns
   */
  readonly providerMirror?: string;
  /**
   * The rule packs the stack runs at synth, and the registries images may
   * come from. Errors fail synth; `offline/policy-report.json` lists every
   * finding and suppression.
   * @default StackPolicy.defaults(): the restricted, air-gap and hygiene packs; images from any non-public registry
   */
  readonly policy?: StackPolicy;
}

const AIRGAP_STACK = Symbol.for('airgap-go-constructs.AirgapStack');

/**
 * Something that writes files next to a stack's `cdk.tf.json` at synth, such
 * as a Docker build context. Paths it writes must stay inside `stackDir`.
 */
export interface IStackArtifact {
  /** Writes the artifact's files below `stackDir`. */
  writeTo(stackDir: string): void;
}

/**
 * A TerraformStack whose output is portable across the air gap.
 *
 * cdktf's implicit local backend writes the synth machine's absolute working
 * directory into `cdk.tf.json`, which leaks a path and breaks byte-identical
 * output between clones. This stack falls back to a relative state path
 * instead, and cross-stack references read a sibling stack's state by a
 * relative path too. Add any other backend (S3, http, pg) as usual and it wins.
 *
 * Constructs that need files beside the Terraform (build contexts, checksums)
 * register them with {@link AirgapStack.addArtifact}.
 */
export class AirgapStack extends TerraformStack {
  /** Context key for {@link AirgapStackProps.platforms}. */
  static readonly CONTEXT_PLATFORMS = 'airgap-go-constructs:platforms';
  /** Context key for {@link AirgapStackProps.providerPlatforms}. */
  static readonly CONTEXT_PROVIDER_PLATFORMS = 'airgap-go-constructs:providerPlatforms';
  /** Context key for {@link AirgapStackProps.providerMirror}. */
  static readonly CONTEXT_PROVIDER_MIRROR = 'airgap-go-constructs:providerMirror';
  /** Context key of the digests `airgap-kit built-images` recorded for images built outside the gap. */
  static readonly CONTEXT_BUILT_IMAGES = 'airgap-go-constructs:builtImages';

  /** True when `x` is an AirgapStack, from any copy of this package. */
  static isAirgapStack(x: unknown): boolean {
    return x !== null && typeof x === 'object' && AIRGAP_STACK in x;
  }

  /** The AirgapStack that `scope` belongs to; an AirgapError names the construct when there is none. */
  static enclosing(scope: IConstruct, kind: string): AirgapStack {
    const stack = TerraformStack.of(scope);
    if (!AirgapStack.isAirgapStack(stack)) {
      throw new AirgapError(scope.node.path, kind, [
        {
          prop: 'scope',
          value: stack.node.path,
          problem: 'is a plain TerraformStack, but this construct writes files beside the Terraform',
          fix: 'Create the stack with `new AirgapStack(app, id)` instead of `new TerraformStack(app, id)`.',
        },
      ]);
    }
    return stack as AirgapStack;
  }

  /** What the offline kit recorded at the last synth, when it is enabled. */
  public offlineKit?: KitContents;
  private readonly localStatePath: string;
  private readonly providerVersions: { readonly [name: string]: string };
  private readonly artifacts: IStackArtifact[] = [];
  private readonly records: ImageRecord[] = [];
  /** Cluster node platforms, `os/arch`; empty for every platform. */
  public readonly platforms: string[];
  /** Platforms where tofu runs on the far side, `os_arch`. */
  public readonly providerPlatforms: string[];
  /** The provider mirror the lock files are computed from, if any. */
  public readonly providerMirror?: string;
  /** The rule packs this stack runs at synth, with the findings of the last synth. */
  public readonly policyChecks: PolicyChecks;
  /** Set once prepareStack has run, so the preparing aspect does not run it a second time. */
  private prepared = false;

  constructor(scope: Construct, id: string, props: AirgapStackProps = {}) {
    super(scope, id);
    Object.defineProperty(this, AIRGAP_STACK, { value: true });
    const statePath = props.localStatePath ?? `terraform.${id}.tfstate`;
    const c = new PropChecker(this, 'AirgapStack');
    if (statePath.length === 0 || statePath.startsWith('/') || /^[A-Za-z]:[\\/]/.test(statePath) || statePath.split('/').includes('..')) {
      c.fail('localStatePath', statePath, 'is not a relative path inside the stack directory', 'Use a path relative to the stack directory, such as "terraform.tfstate", or configure a remote backend.');
    }
    for (const [name, version] of Object.entries(props.providerVersions ?? {})) {
      c.check(
        `providerVersions["${name}"]`,
        version,
        /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version) ? undefined : 'is not an exact version (x.y.z)',
        'Pin the exact version the provider mirror holds, such as "3.2.1".',
      );
    }
    const [os, arch] = hostPlatform();
    const platforms = props.platforms ?? contextList(this, AirgapStack.CONTEXT_PLATFORMS) ?? [];
    const providerPlatforms = props.providerPlatforms ?? contextList(this, AirgapStack.CONTEXT_PROVIDER_PLATFORMS) ?? [`${os}_${arch}`];
    platforms.forEach((p, i) =>
      c.check(`platforms[${i}]`, p, /^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(p) ? undefined : 'is not os/arch[/variant]', 'Name node platforms as Go does, such as "linux/amd64" or "linux/arm64".'),
    );
    providerPlatforms.forEach((p, i) =>
      c.check(`providerPlatforms[${i}]`, p, /^[a-z0-9]+_[a-z0-9]+$/.test(p) ? undefined : 'is not os_arch', 'Name provider platforms as tofu does, such as "linux_amd64" or "darwin_arm64".'),
    );
    const mirror = props.providerMirror ?? (this.node.tryGetContext(AirgapStack.CONTEXT_PROVIDER_MIRROR) as string | undefined) ?? (process.env.AIRGAP_PROVIDER_MIRROR || undefined);
    if (mirror !== undefined && !existsSync(resolve(mirror))) {
      c.fail('providerMirror', mirror, 'is not a folder on this machine', 'Point it at the folder `tofu providers mirror DIR` wrote, or leave it out (no lock file is written then).');
    }
    const policy = props.policy ?? StackPolicy.defaults();
    if (!(policy instanceof StackPolicy)) c.fail('policy', policy, 'is not a StackPolicy', 'Use StackPolicy.defaults(), or StackPolicy.only("<why>", PolicyPack.RESTRICTED, ...).');
    else c.addAll(policy._problems('policy'));
    c.throwIfAny({ discard: true });
    this.localStatePath = statePath;
    this.providerVersions = props.providerVersions ?? {};
    this.platforms = [...new Set(platforms)].sort();
    this.providerPlatforms = [...new Set(providerPlatforms)].sort();
    this.providerMirror = mirror === undefined ? undefined : resolve(mirror);
    if (this.providerMirror === undefined && props.offlineKit !== false) {
      Annotations.of(this).addInfo(
        `no providerMirror was given, so the kit has no .terraform.lock.hcl and tofu init on the far side trusts whatever mirror it finds. Set AIRGAP_PROVIDER_MIRROR (or AirgapStack's providerMirror) to a folder from tofu providers mirror.`,
      );
    }
    const kit: IStackArtifact[] =
      props.offlineKit === false
        ? []
        : [
            {
              writeTo: (dir) =>
                (this.offlineKit = writeOfflineKit(dir, {
                  platforms: this.platforms,
                  providerPlatforms: this.providerPlatforms,
                  providerMirror: this.providerMirror,
                  records: this.records,
                  stackPath: this.node.path,
                })),
            },
          ];
    // The kit goes last, so its SHA256SUMS covers every other artifact.
    this.synthesizer = new ArtifactSynthesizer(this.synthesizer, this, this.artifacts, kit);
    // `app.synth()` prepares every stack before synthesizing it, but cdktf's
    // Testing.synth and Testing.fullSynth never call prepareStack. They do run
    // aspects, so an aspect prepares the stack there: all three then render the
    // same cdk.tf.json (backend and provider pins included).
    Aspects.of(this).add(new PrepareOnce(this));
    // Every resource is judged by the packs; the report is an artifact, so the kit's SHA256SUMS covers it.
    this.policyChecks = new PolicyChecks(this, policy, false);
    Aspects.of(this).add(this.policyChecks);
    if (props.offlineKit !== false) this.addArtifact({ writeTo: (dir) => this.policyChecks._writeReport(dir) });
  }

  /**
   * Records an image the far side needs that cdk.tf.json does not show as
   * such (a Dockerfile base), or the source of one the AirgapPolicy aspect rewrote.
   * The kit lists it in `offline/images.json`.
   * @internal
   */
  _recordImage(record: ImageRecord): void {
    this.records.push(record);
  }

  /** Registers files to write beside this stack's `cdk.tf.json` at synth. */
  addArtifact(artifact: IStackArtifact): void {
    this.artifacts.push(artifact);
  }

  /**
   * Prepares every stack of the app that is not prepared yet, as `app.synth()`
   * does before it synthesizes any: a consumer's preparation adds the
   * cross-stack outputs its producer renders.
   * @internal
   */
  _prepareApp(): void {
    for (const stack of this.node.root.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c))) {
      const ours = AirgapStack.isAirgapStack(stack);
      if (ours ? (stack as AirgapStack).prepared : preparedPlainStacks.has(stack)) continue;
      if (!ours) preparedPlainStacks.add(stack);
      stack.prepareStack();
    }
  }

  /** The version `providerVersions` pins for provider `name`, if any. */
  pinnedProviderVersion(name: string): string | undefined {
    return this.providerVersions[name];
  }

  /** Pins the providers this stack uses to the versions given in `providerVersions`. */
  public override prepareStack(): void {
    this.prepared = true;
    // Only providers the stack really has: an entry for another would be a provider without a source.
    const present = new Set(this.allProviders().map((p) => p.terraformResourceType));
    for (const [name, version] of Object.entries(this.providerVersions)) {
      if (present.has(name)) this.addOverride(`terraform.required_providers.${name}.version`, version);
    }
    super.prepareStack();
  }

  /** Uses the stack's own backend if it has one, else a local backend with a relative path. */
  public override ensureBackendExists(): TerraformBackend {
    const own = this.node.findAll().find((c): c is TerraformBackend => TerraformBackend.isBackend(c));
    return own ?? new PortableLocalBackend(this, this.localStatePath);
  }
}

/** A context value as a list: an array, or a comma-separated string. */
function contextList(scope: IConstruct, key: string): string[] | undefined {
  const v: unknown = scope.node.tryGetContext(key);
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) return v.map(String);
  return String(v).split(',').map((x) => x.trim()).filter((x) => x.length > 0);
}

/** Plain TerraformStacks the preparing aspect has prepared. */
const preparedPlainStacks = new WeakSet<TerraformStack>();

/** Runs {@link AirgapStack.prepareStack} during aspect invocation when nothing else has. */
class PrepareOnce implements IAspect {
  constructor(private readonly stack: AirgapStack) {}

  visit(node: IConstruct): void {
    if (node === this.stack) this.stack._prepareApp();
  }
}

/** A local backend whose state other stacks read by a path relative to their own directory. */
class PortableLocalBackend extends LocalBackend {
  constructor(
    scope: AirgapStack,
    private readonly statePath: string,
  ) {
    super(scope, { path: statePath });
  }

  public override getRemoteStateDataSource(scope: Construct, name: string, _fromStack: string): TerraformRemoteState {
    // Every stack runs in its own directory under cdktf.out/stacks/, so the
    // producing stack's state is one level up and across.
    const producer = TerraformStack.of(this).node.id;
    return new DataTerraformRemoteStateLocal(scope, name, {
      path: `../${producer}/${this.statePath}`,
      workspace: '${terraform.workspace}',
    });
  }
}

/** Wraps the stack's synthesizer so registered artifacts are written after cdk.tf.json. */
class ArtifactSynthesizer implements IStackSynthesizer {
  constructor(
    private readonly inner: IStackSynthesizer,
    private readonly stack: AirgapStack,
    private readonly artifacts: readonly IStackArtifact[],
    private readonly last: readonly IStackArtifact[],
  ) {}

  synthesize(session: ISynthesisSession): void {
    this.inner.synthesize(session);
    const stackDir = join(session.outdir, session.manifest.forStack(this.stack).workingDirectory);
    for (const artifact of [...this.artifacts, ...this.last]) artifact.writeTo(stackDir);
  }
}
