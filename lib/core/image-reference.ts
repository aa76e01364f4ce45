import { AirgapError } from './errors';

/**
 * Container image references, parsed by the grammar of the distribution
 * project's `reference` package, with two stricter rules for air-gapped use:
 * the registry host must be explicit (no implied docker.io), and a tag or a
 * digest must be given (no implied `latest`).
 */

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/** The parts of an image reference. */
export interface ImageReferenceParts {
  /** Registry host, with port if any: `registry.internal:5000`. */
  readonly registry: string;
  /** Repository path below the registry: `team/app`. */
  readonly repository: string;
  /** Tag, if given. */
  readonly tag?: string;
  /** Digest `sha256:<64 hex>`, if given. */
  readonly digest?: string;
}

/** Outcome of parsing: the parts, or a "which …" phrase saying what is wrong. */
export type ImageParseResult = { readonly ok: true; readonly image: ImageReference } | { readonly ok: false; readonly problem: string };

/** A parsed, validated image reference. */
export class ImageReference {
  /**
   * Parses `registry/repo[:tag][@sha256:…]`; throws an AirgapError saying what
   * is wrong when `text` is not a reference.
   */
  static parse(text: string): ImageReference {
    const r = parseReference(text);
    if (!r.ok) {
      throw new AirgapError('ImageReference', 'ImageReference', [
        { prop: 'text', value: text, problem: r.problem, fix: 'Write it as "registry.internal/team/app:1.2.3" or "registry.internal/team/app@sha256:<64 hex>".' },
      ]);
    }
    return r.image;
  }

  /** The parsed reference, or undefined when `text` is not one. */
  static tryParse(text: string): ImageReference | undefined {
    const r = parseReference(text);
    return r.ok ? r.image : undefined;
  }

  /** What is wrong with `text` as a reference, as a phrase that follows "which" (`is empty`), or undefined when it is one. */
  static problemOf(text: string): string | undefined {
    const r = parseReference(text);
    return r.ok ? undefined : r.problem;
  }

  /**
   * The parts, or a "which …" phrase saying what is wrong.
   * @internal
   */
  static _check(text: string): ImageParseResult {
    return parseReference(text);
  }

  /** @internal */
  static _fromParts(parts: ImageReferenceParts): ImageReference {
    return new ImageReference(parts);
  }

  /** Registry host, with port if any: `registry.internal:5000`. */
  readonly registry: string;
  /** Repository path below the registry: `team/app`. */
  readonly repository: string;
  /** Tag, if given. */
  readonly tag?: string;
  /** Digest `sha256:<64 hex>`, if given. */
  readonly digest?: string;

  private constructor(parts: ImageReferenceParts) {
    this.registry = parts.registry;
    this.repository = parts.repository;
    this.tag = parts.tag;
    this.digest = parts.digest;
  }

  /** `registry/repository`, without tag or digest. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** True when the reference is pinned by digest. */
  get pinned(): boolean {
    return this.digest !== undefined;
  }

  /** The reference as text, in canonical order: `name[:tag][@digest]`. */
  toString(): string {
    return `${this.name}${this.tag !== undefined ? `:${this.tag}` : ''}${this.digest !== undefined ? `@${this.digest}` : ''}`;
  }
}

function parseReference(text: string): ImageParseResult {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, problem: 'is empty' };
  if (/\s/.test(text)) return { ok: false, problem: 'contains white space' };

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) {
      return { ok: false, problem: `has the digest "${digest}", which is not "sha256:" followed by 64 lowercase hex digits` };
    }
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      return { ok: false, problem: `has the tag "${tag}", which is not a valid tag (1-128 of letters, digits, "_", "." and "-", not starting with "." or "-")` };
    }
  }

  const slash = rest.indexOf('/');
  if (slash < 0) {
    return { ok: false, problem: 'names no registry host (an implied docker.io cannot be reached from an air gap)' };
  }
  const registry = rest.slice(0, slash);
  const repository = rest.slice(slash + 1);
  const looksLikeHost = registry.includes('.') || registry.includes(':') || registry === 'localhost';
  if (!looksLikeHost) {
    return { ok: false, problem: `starts with "${registry}", which is not a registry host (an implied docker.io cannot be reached from an air gap)` };
  }
  if (!HOST.test(registry)) return { ok: false, problem: `has the registry "${registry}", which is not a host name with an optional port` };
  if (rest.length > 255) return { ok: false, problem: `has a name of ${rest.length} characters; at most 255 are allowed` };
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      return {
        ok: false,
        problem: `has the repository path component "${component}", which is not lowercase letters and digits joined by ".", "_", "__" or "-"`,
      };
    }
  }
  if (tag === undefined && digest === undefined) {
    return { ok: false, problem: 'has neither a tag nor a digest (an implied "latest" is not reproducible)' };
  }
  return { ok: true, image: ImageReference._fromParts({ registry, repository, tag, digest }) };
}
