import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Construct } from 'constructs';
import { readFileSync } from 'fs';
import { AirgapError, AirgapStack, BaseImage, Duration, GoImage, GoImageBuild, GoService, KubernetesStateBackend, KubernetesStateBackendProps, OfflineBundle, OfflineBundleImage, OfflineMirror, PreviewEnvironment, PreviewName, Probe, RegistryMirror } from '../lib';

/** The example Go service's module. */
export const HELLO_GO_DIR = join(__dirname, 'hello-go');

/** An offline bundle made on the connected side by `npm run bundle`. */
export interface BundleOptions {
  /** Folder the bundle was written to. */
  readonly dir: string;
  /** sha256 of its SHA256SUMS, as `offline-bundle` printed it. */
  readonly sha256sumsHash: string;
}

/** What the example image stack is built from. */
export interface ImageAppOptions {
  /** Internal registry host the image is pushed to and the bases are mirrored in. */
  readonly registry: string;
  /** Digest of the mirrored builder base, when the mirror's copy differs from the published one. */
  readonly builderDigest?: string;
  /** Digest of the mirrored runtime base, when the mirror's copy differs from the published one. */
  readonly runtimeDigest?: string;
  /** Seconds since the epoch for the image's created label. */
  readonly sourceDateEpoch?: number;
  /** Module folder of the service; a copy of hello-go in tests. */
  readonly moduleDir?: string;
  /** Provider versions the air-gapped side's mirror holds, when they differ from the bindings'. */
  readonly providerVersions?: { readonly [name: string]: string };
  /**
   * The registry speaks plain HTTP without auth, like the local test registry.
   * The docker provider reads digests over HTTPS unless the address says `http://`.
   */
  readonly plainHttpRegistry?: boolean;
  /** With a bundle, also build the offline mirror's image and the bundle's data image. */
  readonly bundle?: BundleOptions;
  /**
   * Build hello-go ko-style with the host's Go for these platforms, instead of
   * the Dockerfile, on `runtime` (a pinned multi-platform index; default the
   * mirrored distroless base).
   */
  readonly hostGo?: { readonly platforms: string[]; readonly runtime?: string; readonly kitCommand?: string };
  /** From the Dockerfile, also attach hello-go's SBOM after the push (airgap-kit sbom). */
  readonly sbom?: boolean;
  /**
   * Keep the stack's state in the cluster, so every preview pipeline reads the
   * digests from there, on any runner.
   * @default - local state beside the stack
   */
  readonly stateInCluster?: KubernetesStateBackendProps;
}

/** The image stack: hello-go built from the generated Dockerfile and pushed to the internal registry. */
export class ImageStack extends AirgapStack {
  /** The example service's image. */
  public readonly hello: GoImage;
  /** The offline mirror server's image, when a bundle is given. */
  public readonly mirror?: GoImage;
  /** The bundle's data image, when a bundle is given. */
  public readonly bundle?: OfflineBundleImage;

  constructor(scope: Construct, id: string, options: ImageAppOptions) {
    super(scope, id, { providerVersions: options.providerVersions });
    if (options.stateInCluster) new KubernetesStateBackend(this, options.stateInCluster);
    // The provider reads DOCKER_HOST where Terraform runs; registry credentials
    // come from the operator's docker config unless the registry is plain HTTP.
    new DockerProvider(this, 'docker', {
      registryAuth: options.plainHttpRegistry ? [{ address: `http://${options.registry}`, authDisabled: true }] : undefined,
    });
    const bases = {
      builder: BaseImage.golang({ digest: options.builderDigest }),
      runtime: BaseImage.distrolessStatic({ digest: options.runtimeDigest }),
      // The stock bases, mirrored where the air-gapped side keeps them.
      mirror: RegistryMirror.of({
        'docker.io/library': `${options.registry}/library`,
        'gcr.io/distroless': `${options.registry}/distroless`,
      }),
      sourceDateEpoch: options.sourceDateEpoch,
    };
    const hostGo = options.hostGo;
    this.hello = new GoImage(this, 'hello', {
      ...(hostGo
        ? {
            buildMode: GoImageBuild.hostGo({ plainHttpRegistries: options.plainHttpRegistry ? [options.registry] : undefined, kitCommand: hostGo.kitCommand }),
            platforms: hostGo.platforms,
            runtime: hostGo.runtime !== undefined ? BaseImage.fromReference(hostGo.runtime) : bases.runtime,
            mirror: bases.mirror,
            sourceDateEpoch: options.sourceDateEpoch,
          }
        : { ...bases, ...(options.sbom ? { sbom: true, buildMode: GoImageBuild.dockerfile({ plainHttpRegistries: options.plainHttpRegistry ? [options.registry] : undefined }) } : {}) }),
      moduleDir: options.moduleDir ?? HELLO_GO_DIR,
      registry: options.registry,
      repository: 'examples/hello-go',
      labels: { 'org.opencontainers.image.source': 'https://example.internal/airgap-go-constructs/examples/hello-go' },
    });
    if (options.bundle) {
      // The mirror is built by our own GoImage from the module the package ships.
      this.mirror = OfflineMirror.serverImage(this, 'mirror', {
        ...bases,
        registry: options.registry,
        labels: { 'org.opencontainers.image.source': 'https://example.internal/airgap-go-constructs/mirror' },
      });
      this.bundle = new OfflineBundleImage(this, 'bundle', {
        bundleDir: options.bundle.dir,
        sha256sumsHash: options.bundle.sha256sumsHash,
        registry: options.registry,
        repository: 'airgap/go-bundle',
      });
    }
  }
}

/** What the example preview stack is built from. */
export interface PreviewAppOptions {
  /** Branch or PR name. */
  readonly branch: string;
  /** Image of the example Go service, such as an ImageStack's `hello.imageRef`. */
  readonly image: string;
  /** ISO-8601 UTC creation time; absent means no expiry label. */
  readonly createdAt?: string;
  /** Parent domain of the preview Ingress host. */
  readonly baseDomain?: string;
  /** Provider versions the air-gapped side's mirror holds, when they differ from the bindings'. */
  readonly providerVersions?: { readonly [name: string]: string };
  /**
   * Wait for the Deployment's rollout during apply. Off for a control plane
   * with no nodes (scripts/kube/up.sh), where Pods never start.
   * @default true
   */
  readonly waitForRollout?: boolean;
  /** An offline mirror sidecar for hello-go: the mirror's image and the bundle. */
  readonly mirror?: { readonly image: string; readonly bundle: OfflineBundle };
  /**
   * Keep the stack's state in the cluster (a Secret per stack, locked with a Lease).
   * @default - local state beside the stack
   */
  readonly stateInCluster?: KubernetesStateBackendProps;
}

/** One branch of a preview fleet. */
export interface PreviewBranch {
  /** Branch or PR name. */
  readonly branch: string;
  /** ISO-8601 UTC creation time (the pipeline's start), for the expiry. */
  readonly createdAt?: string;
  /** The stack's id and state key: `preview-<branch as a DNS label>`. */
  readonly stackId: string;
}

/**
 * The branches to synthesize one preview stack each for, or undefined for the
 * single `preview` stack: PREVIEW_BRANCHES_FILE, a JSON array of branch names
 * or `{ "branch": ..., "createdAt": ... }` objects, else PREVIEW_BRANCHES,
 * comma-separated, all created at PREVIEW_CREATED_AT.
 */
export function previewBranchesFromEnv(env: NodeJS.ProcessEnv): PreviewBranch[] | undefined {
  let entries: Array<{ branch: unknown; createdAt?: unknown }>;
  let source: string;
  if (env.PREVIEW_BRANCHES_FILE) {
    source = `PREVIEW_BRANCHES_FILE (${env.PREVIEW_BRANCHES_FILE})`;
    const parsed = JSON.parse(readFileSync(env.PREVIEW_BRANCHES_FILE, 'utf8')) as unknown;
    if (!Array.isArray(parsed)) throw new AirgapError('App', 'previewBranchesFromEnv', [{ prop: source, value: typeof parsed, problem: 'is not a JSON array', fix: 'Write ["feature/a", {"branch": "PR-42", "createdAt": "2026-12-03T10:00:00Z"}].' }]);
    entries = parsed.map((e: unknown) => (typeof e === 'object' && e !== null ? (e as { branch: unknown; createdAt?: unknown }) : { branch: e }));
  } else if (env.PREVIEW_BRANCHES !== undefined) {
    source = 'PREVIEW_BRANCHES';
    entries = env.PREVIEW_BRANCHES.split(',').map((b) => ({ branch: b.trim(), createdAt: env.PREVIEW_CREATED_AT }));
  } else {
    return undefined;
  }
  const seen = new Map<string, string>();
  return entries.map((e, i) => {
    const where = `${source}[${i}]`;
    if (typeof e.branch !== 'string' || e.branch === '') {
      throw new AirgapError('App', 'previewBranchesFromEnv', [{ prop: `${where}.branch`, value: String(e.branch), problem: 'is not a branch name', fix: 'Give each entry a non-empty branch.' }]);
    }
    if (e.createdAt !== undefined && typeof e.createdAt !== 'string') {
      throw new AirgapError('App', 'previewBranchesFromEnv', [{ prop: `${where}.createdAt`, value: String(e.createdAt), problem: 'is not a string', fix: 'Write the time as ISO-8601 UTC, such as "2026-12-03T10:00:00Z".' }]);
    }
    const stackId = PreviewName.dnsLabel(e.branch, { prefix: 'preview-' });
    const other = seen.get(stackId);
    if (other !== undefined) {
      throw new AirgapError('App', 'previewBranchesFromEnv', [{ prop: `${where}.branch`, value: e.branch, problem: `gives the stack ${stackId}, as branch "${other}" does`, fix: 'List each branch once.' }]);
    }
    seen.set(stackId, e.branch);
    return { branch: e.branch, createdAt: e.createdAt, stackId };
  });
}

/** Provider versions from the environment (KUBERNETES_PROVIDER_VERSION, DOCKER_PROVIDER_VERSION), if any. */
export function providerVersionsFromEnv(env: NodeJS.ProcessEnv): { [name: string]: string } | undefined {
  const versions: { [name: string]: string } = {};
  if (env.KUBERNETES_PROVIDER_VERSION) versions.kubernetes = env.KUBERNETES_PROVIDER_VERSION;
  if (env.DOCKER_PROVIDER_VERSION) versions.docker = env.DOCKER_PROVIDER_VERSION;
  return Object.keys(versions).length > 0 ? versions : undefined;
}

/** The preview stack: one preview environment running the hello-go service. */
export class PreviewStack extends AirgapStack {
  /** The preview environment. */
  public readonly environment: PreviewEnvironment;
  /** The example Go service. */
  public readonly hello: GoService;

  constructor(scope: Construct, id: string, options: PreviewAppOptions) {
    super(scope, id, { providerVersions: options.providerVersions });
    if (options.stateInCluster) new KubernetesStateBackend(this, options.stateInCluster);
    // No arguments: the provider reads KUBE_CONFIG_PATH and friends on the
    // operator's side of the gap, so no path of the synth machine is baked in.
    new KubernetesProvider(this, 'kubernetes', {});

    this.environment = new PreviewEnvironment(this, 'Preview', {
      branch: options.branch,
      createdAt: options.createdAt,
      ttl: Duration.hours(72),
      ingress: { baseDomain: options.baseDomain ?? 'preview.example.internal' },
    });
    this.hello = this.environment.addService(
      'hello',
      {
        image: options.image,
        port: 8080,
        replicas: 2,
        waitForRollout: options.waitForRollout,
        env: { LOG_FORMAT: 'json' },
        liveness: Probe.http('/healthz'),
        readiness: Probe.http('/readyz', { period: Duration.seconds(5) }),
      },
      { ingressPath: '/' },
    );
    if (options.mirror) {
      this.hello.addExtension(new OfflineMirror(this, 'GoMirror', { image: options.mirror.image, bundle: options.mirror.bundle }));
    }
  }
}
