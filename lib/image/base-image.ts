import { PropProblem } from '../core/errors';
import { ImageReference } from '../core/image-reference';
import { RegistryMirror } from '../core/registry-mirror';

/**
 * Published digest of `gcr.io/distroless/static-debian13:nonroot`.
 * Source: the distroless project's registry (gcr.io/distroless, built from
 * github.com/GoogleContainerTools/distroless); this value is the one pinned in
 * several unrelated public Dockerfiles in 2026, among them an Aperture rebuild
 * of prometheus/blackbox_exporter 0.28.0. Our build machines cannot reach
 * gcr.io, so refresh it on a connected machine with
 * `crane digest gcr.io/distroless/static-debian13:nonroot` and mirror it with
 * `crane copy` or `skopeo copy --all`, which keep the digest.
 */
const DISTROLESS_STATIC_DEBIAN13_NONROOT_DIGEST = 'sha256:1c2c046bc09ed40fad370b599a0b1ae7987f55b01e247cf27a7c27cd97e5bbc7';

/**
 * Published digest of `docker.io/library/golang:1.26-bookworm`.
 * Source: Docker Official Images (hub.docker.com/_/golang); this value is the
 * one pinned in public Dockerfiles in 2026 (for example builders of RFC 9180
 * HPKE reference transports that need Go 1.26). Refresh it on a connected
 * machine with `crane digest golang:1.26-bookworm`.
 */
const GOLANG_126_BOOKWORM_DIGEST = 'sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d';

/** Options for the stock base images. */
export interface StockImageOptions {
  /**
   * Digest to pin, for a mirror whose copy has its own digest.
   * @default - the published digest cited in the source
   */
  readonly digest?: string;
}

/**
 * A base image for a Dockerfile stage. Base images are pinned by digest: a tag
 * alone is an error unless {@link BaseImage.unpinned} states why.
 */
export class BaseImage {
  /** Index digest of `gcr.io/distroless/static-debian13:nonroot` that {@link BaseImage.distrolessStatic} pins by default. */
  static readonly DISTROLESS_STATIC_DIGEST = DISTROLESS_STATIC_DEBIAN13_NONROOT_DIGEST;
  /** Index digest of `docker.io/library/golang:1.26-bookworm` that {@link BaseImage.golang} pins by default. */
  static readonly GOLANG_DIGEST = GOLANG_126_BOOKWORM_DIGEST;

  /** The Debian 13 distroless static image, user `nonroot` (65532), pinned by digest. */
  static distrolessStatic(options: StockImageOptions = {}): BaseImage {
    const digest = options.digest ?? DISTROLESS_STATIC_DEBIAN13_NONROOT_DIGEST;
    return new BaseImage(`gcr.io/distroless/static-debian13:nonroot@${digest}`, undefined, options.digest === undefined);
  }

  /** The official Go 1.26 builder on Debian bookworm, pinned by digest. */
  static golang(options: StockImageOptions = {}): BaseImage {
    const digest = options.digest ?? GOLANG_126_BOOKWORM_DIGEST;
    return new BaseImage(`docker.io/library/golang:1.26-bookworm@${digest}`, undefined, options.digest === undefined);
  }

  /** Any image, which must be pinned: `registry/repo[:tag]@sha256:<64 hex>`. */
  static fromReference(reference: string): BaseImage {
    return new BaseImage(reference);
  }

  /**
   * An image used by tag alone: the named opt-out from digest pinning. Builds
   * from it are not reproducible and can change under you.
   * @param reason why a digest cannot be used, at least 10 characters
   */
  static unpinned(reference: string, reason: string): BaseImage {
    return new BaseImage(reference, reason);
  }

  private constructor(
    /** The reference as given, before any mirror rewrite. */
    public readonly reference: string,
    /** Why the image may be unpinned, when it is. */
    public readonly unpinnedReason?: string,
    /** True for a published multi-platform index digest (the stock bases' defaults); undefined when unknown. */
    public readonly isPublishedIndex?: boolean,
  ) {}

  /**
   * Problems with this base image, reported under `prop`.
   * @internal
   */
  _problems(prop: string): PropProblem[] {
    const parsed = ImageReference._check(this.reference);
    if (!parsed.ok) {
      return [{ prop, value: this.reference, problem: parsed.problem, fix: 'Write it as "registry.internal/library/golang:1.26-bookworm@sha256:<64 hex>".' }];
    }
    const out: PropProblem[] = [];
    if (!parsed.image.pinned && this.unpinnedReason === undefined) {
      out.push({
        prop,
        value: this.reference,
        problem: 'is not pinned by digest',
        fix: `Append @sha256:<digest> (on a connected machine: crane digest ${parsed.image.toString()}), or use BaseImage.unpinned(ref, "<why>") to accept a moving base.`,
      });
    }
    if (this.unpinnedReason !== undefined && this.unpinnedReason.trim().length < 10) {
      out.push({ prop: `${prop} (unpinned reason)`, value: this.unpinnedReason, problem: 'is shorter than 10 characters', fix: 'Say why this base cannot be pinned, so reviewers can judge it.' });
    }
    return out;
  }

  /** The reference to use in `FROM`, after the mirror's rewrite. */
  resolve(mirror?: RegistryMirror): string {
    return mirror ? mirror.rewrite(this.reference) : this.reference;
  }
}
