import { Token } from 'cdktf';
import { PropProblem } from '../core/errors';
import { ImageReference } from '../core/image-reference';
import { Size } from '../core/size';

const OFFLINE_BUNDLE = Symbol.for('airgap-go-constructs.OfflineBundle');

/** Options for {@link OfflineBundle.fromImage}. */
export interface OfflineBundleOptions {
  /**
   * sha256 of the bundle's `SHA256SUMS` (64 hex), as `offline-bundle` printed
   * it. It pins every file, `manifest.json` included.
   */
  readonly sha256sumsHash: string;
  /**
   * Size limit of the emptyDir the bundle is copied into.
   * @default Size.gibibytes(2)
   */
  readonly sizeLimit?: Size;
}

/** A bundle made by `offline-bundle`, shipped as a data image (`FROM scratch`, the bundle under `/bundle`). */
export class OfflineBundle {
  /** The bundle in a data image, which must be pinned by digest. */
  static fromImage(image: string, options: OfflineBundleOptions): OfflineBundle {
    return new OfflineBundle(image, options.sha256sumsHash, options.sizeLimit ?? Size.gibibytes(2));
  }

  /** True when `x` is an OfflineBundle, from any copy of this package. */
  static isOfflineBundle(x: unknown): boolean {
    return x !== null && typeof x === 'object' && OFFLINE_BUNDLE in x;
  }

  /** Where a bundle data image keeps the bundle. */
  static readonly IMAGE_PATH = '/bundle';

  /** The data image. */
  public readonly image: string;
  /** sha256 of SHA256SUMS. */
  public readonly sha256sumsHash: string;
  /** emptyDir size limit. */
  public readonly sizeLimit: Size;

  private constructor(image: string, sha256sumsHash: string, sizeLimit: Size) {
    this.image = image;
    this.sha256sumsHash = sha256sumsHash;
    this.sizeLimit = sizeLimit;
    Object.defineProperty(this, OFFLINE_BUNDLE, { value: true });
  }

  /** @internal */
  _problems(): PropProblem[] {
    const out: PropProblem[] = [];
    if (!Token.isUnresolved(this.image)) {
      const parsed = ImageReference._check(this.image);
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
    out.push(...this.sizeLimit._problems('bundle.sizeLimit'));
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
  static privateModules(patterns: string[], name = 'sum.golang.org'): ChecksumDatabase {
    return new ChecksumDatabase(name, [...patterns]);
  }

  /** Checksum database name. */
  public readonly name: string;
  /** GONOSUMDB patterns. */
  public readonly privatePatterns: string[];

  private constructor(name: string, privatePatterns: string[]) {
    this.name = name;
    this.privatePatterns = privatePatterns;
  }

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
