import { ImageReference } from './image-ref';

/** A source prefix and where it is mirrored. */
export interface MirrorRule {
  /** Public prefix: a registry host, optionally with repository path (`docker.io/library`). */
  readonly from: string;
  /** Internal prefix it maps to (`registry.internal/library`). */
  readonly to: string;
}

/**
 * Maps public image locations to an internal registry mirror, the way images
 * are copied across the gap (`skopeo copy`/`crane copy` keep manifest digests,
 * so a digest pinned upstream still matches the mirrored copy).
 *
 * Prefixes match on whole path components, the longest first, so
 * `docker.io/library` wins over `docker.io` and never matches `docker.io/libraryx`.
 */
export class RegistryMirror {
  /** A mirror from a `{ from: to }` map. */
  static of(mapping: { readonly [from: string]: string }): RegistryMirror {
    return new RegistryMirror(Object.entries(mapping).map(([from, to]) => ({ from, to })));
  }

  /** The rules, longest source prefix first. */
  public readonly rules: readonly MirrorRule[];

  private constructor(rules: readonly MirrorRule[]) {
    this.rules = [...rules]
      .map((r) => ({ from: trimSlashes(r.from), to: trimSlashes(r.to) }))
      .sort((a, b) => b.from.length - a.from.length || a.from.localeCompare(b.from));
  }

  /** Problems with the rules themselves, as "which …" phrases keyed by source prefix. */
  problems(): Array<{ readonly from: string; readonly problem: string }> {
    const out: Array<{ from: string; problem: string }> = [];
    for (const rule of this.rules) {
      for (const [side, text] of [['source', rule.from], ['target', rule.to]] as const) {
        const parsed = ImageReference.parse(`${text.includes('/') ? text : `${text}/x`}:probe`);
        if (!parsed.ok) out.push({ from: rule.from, problem: `has the ${side} "${text}", which ${parsed.problem}` });
      }
    }
    return out;
  }

  /** The rule that applies to `ref`, if any. */
  ruleFor(ref: string): MirrorRule | undefined {
    return this.rules.find((r) => ref === r.from || ref.startsWith(`${r.from}/`) || (ref.startsWith(r.from) && /^[:@]/.test(ref.slice(r.from.length))));
  }

  /** `ref` moved to its mirror, tag and digest kept; unchanged when no rule applies. */
  rewrite(ref: string): string {
    const rule = this.ruleFor(ref);
    return rule ? rule.to + ref.slice(rule.from.length) : ref;
  }
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
