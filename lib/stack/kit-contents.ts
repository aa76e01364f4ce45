/** How an image is used on the far side. */
export enum KitImageUse {
  /** A Dockerfile `FROM` of an image the stack builds there. */
  BASE = 'base',
  /** An image a container runs, or a pulled docker_image. */
  RUN = 'run',
  /** An image the stack builds and pushes itself. */
  BUILD = 'build',
}

/** One entry of `offline/images.json`. */
export interface KitImage {
  /** The reference used inside the gap. */
  readonly target: string;
  /** Where it comes from on the connected side, when that differs. */
  readonly source?: string;
  /** Its digest, when pinned. */
  readonly digest?: string;
  /** Whether the digest is known to be a multi-platform index. */
  readonly index?: boolean;
  /** The platforms of an index to carry; absent means the stack's. */
  readonly platforms?: string[];
  /** Artifact types (such as `application/spdx+json`) every carried platform image has a referrer of; pack fails without them. */
  readonly referrers?: string[];
  /** How it is used. */
  readonly use: KitImageUse;
  /** Construct paths that need it. */
  readonly neededBy: string[];
}

/** A provider a stack requires. */
export interface RequiredProvider {
  /** `namespace/type`, with bare names read as `hashicorp/<name>` as both CLIs do. */
  readonly source: string;
  /** The exact version required. */
  readonly version: string;
}

/** An image a stack refers to. */
export interface ImageLine {
  /** `resource_type.logical_id`. */
  readonly address: string;
  /** The field holding it. */
  readonly field: string;
  /** The reference, as Terraform will see it. */
  readonly image: string;
}

/** What the kit found in one stack. */
export interface KitContents {
  /** The providers the stack requires. */
  readonly providers: RequiredProvider[];
  /** The images the stack's resources refer to. */
  readonly images: ImageLine[];
  /** Every image the far side needs, as written to `offline/images.json`. */
  readonly kitImages: KitImage[];
  /** Whether `.terraform.lock.hcl` was written. */
  readonly lockFile: boolean;
  /** sha256 of the SHA256SUMS file, to record out of band. */
  readonly sumsDigest: string;
}
