import {
  DeploymentV1SpecTemplateSpecContainer,
  DeploymentV1SpecTemplateSpecInitContainer,
  DeploymentV1SpecTemplateSpecVolume,
} from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Token } from 'cdktf';
import { join } from 'path';
import { Construct } from 'constructs';
import { BaseImage } from './base-image';
import { PropChecker, PropProblem } from './errors';
import { GoImage } from './go-image';
import { ContainerResources, GoService, NONROOT_UID } from './go-service';
import { ImageReference } from './image-ref';
import { packageRoot } from './package-root';
import { PreviewEnvironment } from './preview-environment';
import { Probe } from './probe';
import { RegistryMirror } from './registry-mirror';
import { QuantityKind, checkQuantity, quantityHint, requestLimitProblems } from './quantity';
import { checkPort } from './validation';

/** Where GoImage puts the mirror server's binary (its `binaryName` is `offline-mirror`). */
export const MIRROR_BINARY = '/usr/local/bin/offline-mirror';
/** Where a bundle data image keeps the bundle. */
export const BUNDLE_IMAGE_PATH = '/bundle';
/** Where the pod sees the verified copy of the bundle. */
const BUNDLE_MOUNT = '/var/run/offline-mirror/bundle';
/** Where the first init container leaves the server binary for the second. */
const TOOLS_MOUNT = '/var/run/offline-mirror/tools';

/** Options for {@link OfflineBundle.fromImage}. */
export interface OfflineBundleImageOptions {
  /**
   * sha256 of the bundle's `SHA256SUMS` (64 hex), as `offline-bundle` printed
   * it. It pins every file, `manifest.json` included.
   */
  readonly sha256sumsHash: string;
  /**
   * Size limit of the emptyDir the bundle is copied into.
   * @default '2Gi'
   */
  readonly sizeLimit?: string;
}

/** A bundle made by `offline-bundle`, shipped as a data image (`FROM scratch`, the bundle under `/bundle`). */
export class OfflineBundle {
  /** The bundle in a data image, which must be pinned by digest. */
  static fromImage(image: string, options: OfflineBundleImageOptions): OfflineBundle {
    return new OfflineBundle(image, options.sha256sumsHash, options.sizeLimit ?? '2Gi');
  }

  private constructor(
    /** The data image. */
    public readonly image: string,
    /** sha256 of SHA256SUMS. */
    public readonly sha256sumsHash: string,
    /** emptyDir size limit. */
    public readonly sizeLimit: string,
  ) {}

  /** @internal */
  _problems(): PropProblem[] {
    const out: PropProblem[] = [];
    if (!Token.isUnresolved(this.image)) {
      const parsed = ImageReference.parse(this.image);
      if (!parsed.ok) {
        out.push({ prop: 'bundle.image', value: this.image, problem: parsed.problem, fix: 'Use the pushed data image, such as "registry.internal/mirror/bundle@sha256:<64 hex>".' });
      } else if (!parsed.image.digest) {
        out.push({
          prop: 'bundle.image',
          value: this.image,
          problem: 'is not pinned by digest, so the files behind it can change without the hash changing with them',
          fix: `Pin it: ${parsed.image.name}@sha256:<digest printed by the push>.`,
        });
      }
    }
    if (typeof this.sha256sumsHash !== 'string' || this.sha256sumsHash.length === 0) {
      out.push({
        prop: 'bundle.sha256sumsHash',
        value: this.sha256sumsHash,
        problem: 'is missing; without it a swapped SHA256SUMS would go unnoticed',
        fix: 'Pass the hash offline-bundle printed (sha256 of the bundle\'s SHA256SUMS), e.g. from `sha256sum bundle/SHA256SUMS`.',
      });
    } else if (!Token.isUnresolved(this.sha256sumsHash) && !/^[0-9a-f]{64}$/.test(this.sha256sumsHash)) {
      out.push({ prop: 'bundle.sha256sumsHash', value: this.sha256sumsHash, problem: 'is not 64 lowercase hex digits', fix: 'Pass the sha256 exactly as sha256sum prints it.' });
    }
    const q = checkQuantity(this.sizeLimit, QuantityKind.MEMORY);
    if (q) out.push({ prop: 'bundle.sizeLimit', value: this.sizeLimit, problem: q, fix: quantityHint(QuantityKind.MEMORY) });
    return out;
  }
}

/** How `go` checks module checksums it has not seen in go.sum. */
export class ChecksumDatabase {
  /**
   * Verify against the checksum database through the mirror, which serves the
   * bundle's cached copy of it (`/sumdb/<name>/...`). Go still checks the
   * signed tree head with its built-in key for sum.golang.org.
   */
  static mirrored(name = 'sum.golang.org'): ChecksumDatabase {
    return new ChecksumDatabase(name, []);
  }

  /**
   * Like {@link mirrored}, but modules matching `patterns` (GONOSUMDB globs,
   * such as `git.internal/*`) are not looked up: the public database cannot
   * know private modules. go.sum still pins them.
   */
  static privateModules(patterns: readonly string[], name = 'sum.golang.org'): ChecksumDatabase {
    return new ChecksumDatabase(name, [...patterns]);
  }

  private constructor(
    /** Checksum database name. */
    public readonly name: string,
    /** GONOSUMDB patterns. */
    public readonly privatePatterns: readonly string[],
  ) {}

  /** @internal */
  _env(mirrorUrl: string): { [name: string]: string } {
    const env: { [name: string]: string } = { GOSUMDB: `${this.name} ${mirrorUrl}/sumdb/${this.name}` };
    if (this.privatePatterns.length > 0) env.GONOSUMDB = this.privatePatterns.join(',');
    return env;
  }

  /** @internal */
  _problems(): PropProblem[] {
    const out: PropProblem[] = [];
    if (!/^[a-z0-9.-]+(\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+)?$/.test(this.name)) {
      out.push({ prop: 'checksumDatabase.name', value: this.name, problem: 'is not a checksum database name', fix: 'Use "sum.golang.org", or "<name>+<key>" for another database.' });
    }
    for (const p of this.privatePatterns) {
      if (typeof p !== 'string' || p.length === 0 || /[\s,]/.test(p)) {
        out.push({ prop: 'checksumDatabase.privatePatterns', value: p, problem: 'is not a module path glob', fix: 'Use one glob per entry, such as "git.internal/*".' });
      }
    }
    return out;
  }
}

/** Props for {@link OfflineMirror.serverImage}: where the mirror's image goes, and how it is built. */
export interface OfflineMirrorServerImageProps {
  /** Target registry host, with port: `registry.internal` or `127.0.0.1:5000`. */
  readonly registry: string;
  /**
   * Repository below the registry.
   * @default 'airgap/offline-mirror'
   */
  readonly repository?: string;
  /**
   * Builder stage base.
   * @default BaseImage.golang()
   */
  readonly builder?: BaseImage;
  /**
   * Runtime stage base.
   * @default BaseImage.distrolessStatic()
   */
  readonly runtime?: BaseImage;
  /**
   * Registry mirror applied to both bases.
   * @default - the bases are used as written
   */
  readonly mirror?: RegistryMirror;
  /**
   * Seconds since the epoch for the image's created label and file times.
   * @default 0
   */
  readonly sourceDateEpoch?: number;
  /**
   * Extra OCI labels.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
  /**
   * Tag pushed beside the digest.
   * @default - `ctx-` and 12 hex digits of the build context's hash
   */
  readonly tag?: string;
  /**
   * Keep the pushed image in the registry when the resource is destroyed.
   * @default false
   */
  readonly keepRemotely?: boolean;
}

/** Props for {@link OfflineMirror}. */
export interface OfflineMirrorProps {
  /**
   * Image of the mirror server (`mirror/cmd/offline-mirror`, built by GoImage
   * with `binaryName: 'offline-mirror'`), pinned by digest or a GoImage `imageRef`.
   */
  readonly image: string;
  /** The verified bundle the mirror serves. */
  readonly bundle: OfflineBundle;
  /**
   * Port the mirror listens on: on 127.0.0.1 as a sidecar, on the pod IP in
   * namespace mode.
   * @default 8686
   */
  readonly port?: number;
  /**
   * How `go` verifies modules that go.sum does not pin.
   * @default ChecksumDatabase.mirrored()
   */
  readonly checksumDatabase?: ChecksumDatabase;
  /**
   * CPU and memory of the mirror container. The server keeps only an index in memory.
   * @default - cpu 10m/200m, memory 32Mi/128Mi
   */
  readonly resources?: ContainerResources;
}

/** What {@link OfflineMirror.serveNamespace} made. */
export interface NamespaceMirror {
  /** The mirror as a GoService (Deployment, Service, PDB). */
  readonly service: GoService;
  /** Lets every pod of the namespace reach the mirror, and only the mirror's port. */
  readonly networkPolicy: NetworkPolicyV1;
  /** Environment for `go` in build jobs of the namespace. */
  readonly goEnv: { readonly [name: string]: string };
}

const DEFAULT_MIRROR_RESOURCES = { cpu: { request: '10m', limit: '200m' }, memory: { request: '32Mi', limit: '128Mi' } } as const;

/**
 * A checksum-verified offline Go module proxy (and file server for toolchain
 * tarballs). It serves a bundle made on the connected side by
 * `offline-bundle`, and refuses to serve anything unless every file matches
 * the bundle's SHA256SUMS, whose own hash is pinned here.
 *
 * - Sidecar mode ({@link attachTo}): on 127.0.0.1 in a GoService's pod, with
 *   `GOPROXY`, `GOSUMDB`, `GOTOOLCHAIN` and `GOFLAGS` set in the main container.
 * - Namespace mode ({@link serveNamespace}): a Service in a PreviewEnvironment
 *   for the build jobs of that namespace.
 *
 * The bundle image is copied into an emptyDir by two init containers (the
 * first hands the server binary to the second, since a `FROM scratch` data
 * image has no copy program of its own); the copy is verified against the
 * pinned hash on the way, and the server verifies again at start.
 */
export class OfflineMirror extends Construct {
  /** The mirror server's Go module, as shipped in this package (standard library only). */
  static get serverModuleDir(): string {
    return join(packageRoot(), 'mirror');
  }

  /**
   * The mirror server's image, built by {@link GoImage} from the Go module
   * this package ships, in a stack of yours (usually the images stack). Pass
   * its `imageRef` as the OfflineMirror's `image`.
   */
  static serverImage(scope: Construct, id: string, props: OfflineMirrorServerImageProps): GoImage {
    return new GoImage(scope, id, {
      ...props,
      moduleDir: OfflineMirror.serverModuleDir,
      mainPackage: './cmd/offline-mirror',
      binaryName: 'offline-mirror',
      ports: [8686],
      repository: props.repository ?? 'airgap/offline-mirror',
    });
  }

  /** Port the mirror listens on. */
  public readonly port: number;
  /** Environment a Go process in the same pod gets. */
  public readonly goEnv: { readonly [name: string]: string };
  private readonly props: OfflineMirrorProps;
  private readonly checksumDatabase: ChecksumDatabase;
  private readonly resources: { cpu: { request: string; limit: string }; memory: { request: string; limit: string } };

  constructor(scope: Construct, id: string, props: OfflineMirrorProps) {
    super(scope, id);
    const port = props.port ?? 8686;
    const checksumDatabase = props.checksumDatabase ?? ChecksumDatabase.mirrored();
    const cpu = { ...DEFAULT_MIRROR_RESOURCES.cpu, ...props.resources?.cpu };
    const memory = { ...DEFAULT_MIRROR_RESOURCES.memory, ...props.resources?.memory };

    const c = new PropChecker(this, 'OfflineMirror');
    c.check('port', port, checkPort(port), 'Use a free port such as 8686.');
    if (!Token.isUnresolved(props.image)) {
      const parsed = ImageReference.parse(props.image);
      if (!parsed.ok) {
        c.fail('image', props.image, parsed.problem, 'Use the mirror image GoImage pushed, such as its imageRef.');
      } else if (!parsed.image.digest) {
        c.fail('image', props.image, 'is not pinned by digest', `Pin it: ${parsed.image.name}@sha256:<digest>, or pass a GoImage's imageRef.`);
      }
    }
    if (!(props.bundle instanceof OfflineBundle)) {
      c.fail('bundle', props.bundle, 'is not an OfflineBundle', 'Use OfflineBundle.fromImage(image, { sha256sumsHash }).');
    } else {
      c.addAll(props.bundle._problems());
    }
    c.addAll(checksumDatabase._problems());
    c.addAll(requestLimitProblems('resources.cpu', cpu.request, cpu.limit, QuantityKind.CPU));
    c.addAll(requestLimitProblems('resources.memory', memory.request, memory.limit, QuantityKind.MEMORY));
    c.throwIfAny({ discard: true });

    this.port = port;
    this.props = props;
    this.checksumDatabase = checksumDatabase;
    this.resources = { cpu, memory };
    this.goEnv = this.goEnvFor(`http://127.0.0.1:${port}`);
  }

  /**
   * Runs the mirror as a sidecar of `service` on 127.0.0.1, and points the
   * service's `go` at it. Refuses a port the pod already uses.
   */
  public attachTo(service: GoService): void {
    const bundle = this.props.bundle;
    const volumes = this.volumes(bundle);
    service.addPodExtension({
      owner: this,
      ownerKind: 'OfflineMirror',
      ports: { port: this.port },
      initContainers: this.installers(bundle),
      containers: [this.server(`127.0.0.1:${this.port}`)],
      volumes,
      env: this.goEnv,
    });
  }

  /**
   * Runs the mirror as its own GoService in `environment`'s namespace, with a
   * NetworkPolicy that lets the namespace's pods reach it. Returns the
   * environment for `go` in the namespace's build jobs.
   */
  public serveNamespace(environment: PreviewEnvironment, options: { readonly replicas?: number } = {}): NamespaceMirror {
    const name = 'offline-mirror';
    const probe = (path: string) => Probe.exec([MIRROR_BINARY, '-healthcheck', `http://127.0.0.1:${this.port}${path}`]);
    const service = environment.addService(`${this.node.id}Service`, {
      name,
      image: this.props.image,
      port: this.port,
      servicePort: this.port,
      replicas: options.replicas ?? 1,
      args: this.serverArgs(`0.0.0.0:${this.port}`),
      resources: this.resources,
      liveness: probe('/healthz'),
      readiness: probe('/readyz'),
      waitForRollout: false,
    });
    service.addPodExtension({
      owner: this,
      ownerKind: 'OfflineMirror',
      initContainers: this.installers(this.props.bundle),
      volumes: this.volumes(this.props.bundle),
      mainVolumeMounts: [{ name: 'offline-mirror-bundle', mountPath: BUNDLE_MOUNT, readOnly: true }],
    });
    const networkPolicy = new NetworkPolicyV1(this, 'AllowNamespace', {
      metadata: { name: `allow-${name}`, namespace: environment.namespaceName, labels: service.selectorLabels },
      spec: {
        podSelector: { matchLabels: service.selectorLabels },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ podSelector: {} }],
            ports: [{ port: String(this.port), protocol: 'TCP' }],
          },
        ],
      },
      dependsOn: [environment.namespace],
    });
    const goEnv = this.goEnvFor(`http://${name}.${environment.namespaceName}.svc:${this.port}`);
    return { service, networkPolicy, goEnv };
  }

  private goEnvFor(url: string): { [name: string]: string } {
    return {
      GOPROXY: `${url},off`,
      ...this.checksumDatabase._env(url),
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-mod=mod',
    };
  }

  private serverArgs(listen: string): string[] {
    return ['-bundle', BUNDLE_MOUNT, '-listen', listen, '-sha256sums-hash', this.props.bundle.sha256sumsHash];
  }

  private volumes(bundle: OfflineBundle): DeploymentV1SpecTemplateSpecVolume[] {
    return [
      { name: 'offline-mirror-bundle', emptyDir: { sizeLimit: bundle.sizeLimit } },
      { name: 'offline-mirror-tools', emptyDir: { sizeLimit: '64Mi' } },
    ];
  }

  /** The server container: restricted, read-only, probed through its own binary (no shell, no curl). */
  private server(listen: string): DeploymentV1SpecTemplateSpecContainer {
    const check = (path: string, periodSeconds: number) =>
      Probe.exec([MIRROR_BINARY, '-healthcheck', `http://127.0.0.1:${this.port}${path}`], { periodSeconds })._render(this.port);
    return {
      ...this.restricted('offline-mirror', this.props.image),
      args: this.serverArgs(listen),
      livenessProbe: check('/healthz', 10),
      readinessProbe: check('/readyz', 5),
      volumeMount: [{ name: 'offline-mirror-bundle', mountPath: BUNDLE_MOUNT, readOnly: true }],
    };
  }

  /**
   * Two init containers: the mirror image hands its binary to a shared
   * emptyDir, then the bundle image runs it to copy and verify the bundle.
   */
  private installers(bundle: OfflineBundle): DeploymentV1SpecTemplateSpecInitContainer[] {
    return [
      {
        ...this.restricted('offline-mirror-tools', this.props.image),
        args: ['-install-self', `${TOOLS_MOUNT}/offline-mirror`],
        volumeMount: [{ name: 'offline-mirror-tools', mountPath: TOOLS_MOUNT }],
      },
      {
        ...this.restricted('offline-mirror-bundle', bundle.image),
        command: [`${TOOLS_MOUNT}/offline-mirror`],
        args: ['-install', BUNDLE_IMAGE_PATH, '-to', BUNDLE_MOUNT, '-sha256sums-hash', bundle.sha256sumsHash],
        volumeMount: [
          { name: 'offline-mirror-tools', mountPath: TOOLS_MOUNT, readOnly: true },
          { name: 'offline-mirror-bundle', mountPath: BUNDLE_MOUNT },
        ],
      },
    ];
  }

  /** Every Pod Security "restricted" control, set explicitly so plans show no drift. */
  private restricted(name: string, image: string) {
    const { cpu, memory } = this.resources;
    return {
      name,
      image,
      imagePullPolicy: 'IfNotPresent',
      resources: { requests: { cpu: cpu.request, memory: memory.request }, limits: { cpu: cpu.limit, memory: memory.limit } },
      securityContext: {
        runAsNonRoot: true,
        runAsUser: String(NONROOT_UID),
        runAsGroup: String(NONROOT_UID),
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      },
    };
  }
}
