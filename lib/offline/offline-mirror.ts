import { join } from 'path';
import { Construct } from 'constructs';
import { RegistryMirror } from '../core/registry-mirror';
import { BaseImage } from '../image/base-image';
import { GoImage } from '../image/go-image';
import { Container, IPodExtension, Pod } from '../kubernetes/pod';
import { ContainerResources } from '../kubernetes/resources';
import { Duration } from '../core/duration';
import { BUNDLE_MOUNT, goEnvFor, installBundle, MIRROR_BINARY, MirrorParts, mirrorParts, mirrorProbe, serverArgs } from '../private/mirror-pod';
import { packageRoot } from '../private/package-root';
import { PropChecker } from '../private/prop-checker';
import { ChecksumDatabase, OfflineBundle } from './offline-bundle';

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
  readonly labels?: { [key: string]: string };
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

/** Props for {@link OfflineMirror} and {@link OfflineMirrorService}. */
export interface OfflineMirrorProps {
  /**
   * Image of the mirror server (`mirror/cmd/offline-mirror`, built by
   * {@link OfflineMirror.serverImage}), pinned by digest or a GoImage `imageRef`.
   */
  readonly image: string;
  /** The verified bundle the mirror serves. */
  readonly bundle: OfflineBundle;
  /**
   * Port the mirror listens on: on 127.0.0.1 as a sidecar, on the pod IP as a namespace service.
   * @default 8686
   */
  readonly port?: number;
  /**
   * How `go` verifies modules that go.sum does not pin.
   * @default ChecksumDatabase.mirrored()
   */
  readonly checksumDatabase?: ChecksumDatabase;
  /**
   * CPU and memory of the mirror's containers. The server keeps only an index in memory.
   * @default - cpu 10m/200m, memory 32Mi/128Mi
   */
  readonly resources?: ContainerResources;
}

/**
 * A checksum-verified offline Go module proxy (and file server for toolchain
 * tarballs) as a sidecar: `service.addExtension(mirror)` runs it on 127.0.0.1
 * in the service's pod and sets `GOPROXY`, `GOSUMDB`, `GOTOOLCHAIN` and
 * `GOFLAGS` in the main container. It serves a bundle made on the connected
 * side by `airgap-kit bundle`, and refuses to serve anything unless every file
 * matches the bundle's SHA256SUMS, whose own hash is pinned here. For a
 * mirror that a whole namespace shares, use {@link OfflineMirrorService}.
 *
 * The bundle image is copied into an emptyDir by two init containers (the
 * first hands the server binary to the second, since a `FROM scratch` data
 * image has no copy program of its own); the copy is verified against the
 * pinned hash on the way, and the server verifies again at start.
 */
export class OfflineMirror extends Construct implements IPodExtension {
  /** Where the mirror image keeps the server binary. */
  static readonly SERVER_BINARY = MIRROR_BINARY;

  /** The mirror server's Go module, as shipped in this package (standard library only). */
  static get serverModuleDir(): string {
    return join(packageRoot(), 'mirror');
  }

  /**
   * The mirror server's image, built by {@link GoImage} from the Go module
   * this package ships, in a stack of yours (usually the images stack). Pass
   * its `imageRef` as the mirror's `image`.
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

  /** Port the mirror listens on, on 127.0.0.1. */
  public readonly port: number;
  /** Environment a Go process in the same pod gets. */
  public readonly goEnv: { [name: string]: string };
  private readonly parts: MirrorParts;

  constructor(scope: Construct, id: string, props: OfflineMirrorProps) {
    super(scope, id);
    const c = new PropChecker(this, 'OfflineMirror');
    const parts = mirrorParts(c, props);
    c.throwIfAny({ discard: true });
    this.parts = parts;
    this.port = parts.port;
    this.goEnv = goEnvFor(`http://127.0.0.1:${parts.port}`, props.checksumDatabase ?? ChecksumDatabase.mirrored());
  }

  /** Adds the installers, the server and `go`'s environment to `pod`; called by `GoService.addExtension`. */
  public bind(pod: Pod): void {
    const bundle = installBundle(pod, this.parts);
    const server = new Container({
      name: 'offline-mirror',
      image: this.parts.image,
      args: serverArgs(this.parts, `127.0.0.1:${this.port}`),
      ports: [{ number: this.port, localOnly: true }],
      resources: this.parts.resources,
      liveness: mirrorProbe(this.port, '/healthz', Duration.seconds(10)),
      readiness: mirrorProbe(this.port, '/readyz', Duration.seconds(5)),
    });
    server.mount(BUNDLE_MOUNT, bundle, { readOnly: true });
    const main = pod.containers[0];
    for (const [name, value] of Object.entries(this.goEnv)) main.addEnv(name, value);
    pod.addContainer(server);
  }
}
