import { join } from 'path';
import { DockerProvider } from '@cdktf/provider-docker/lib/provider';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Construct } from 'constructs';
import { AirgapStack, BaseImage, Duration, GoImage, GoImageBuild, GoService, OfflineBundle, OfflineBundleImage, OfflineMirror, PreviewEnvironment, Probe, RegistryMirror } from '../lib';

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
