import { PropProblem } from './errors';
import { ImageReference } from './image-reference';

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
  public readonly rules: MirrorRule[];

  private constructor(rules: MirrorRule[]) {
    this.rules = [...rules]
      .map((r) => ({ from: trimSlashes(r.from), to: trimSlashes(r.to) }))
      .sort((a, b) => b.from.length - a.from.length || a.from.localeCompare(b.from));
  }

  /** Problems with the rules themselves, as "which …" phrases keyed by source prefix. */
  /** @internal */
  _problems(prop: string): PropProblem[] {
    const out: PropProblem[] = [];
    for (const rule of this.rules) {
      for (const [side, text] of [['source', rule.from], ['target', rule.to]] as const) {
        const problem = ImageReference.problemOf(`${text.includes('/') ? text : `${text}/x`}:probe`);
        if (problem) {
          out.push({ prop: `${prop}["${rule.from}"]`, value: rule.from, problem: `has the ${side} "${text}", which ${problem}`, fix: 'Write mirror prefixes as "registry.host[:port][/path]".' });
        }
      }
    }
    return out;
  }

  /** The rule that applies to `ref`, if any. */
  ruleFor(ref: string): MirrorRule | undefined {
    return this.rules.find((r) => ref === r.from || ref.startsWith(`${r.from}/`) || (ref.startsWith(r.from) && /^[:@]/.test(ref.slice(r.from.length))));
  }

  /**
   * `ref` moved to its mirror, tag and digest kept; unchanged when no rule
   * applies, or when `ref` already lies under the rule's target (a target
   * inside its source, such as `registry.internal` to `registry.internal/cache`),
   * so rewriting is idempotent.
   */
  rewrite(ref: string): string {
    const rule = this.ruleFor(ref);
    if (!rule || under(ref, rule.to)) return ref;
    return rule.to + ref.slice(rule.from.length);
  }
}

function under(ref: string, prefix: string): boolean {
  return ref === prefix || ref.startsWith(`${prefix}/`) || (ref.startsWith(prefix) && /^[:@]/.test(ref.slice(prefix.length)));
}

function trimSlashes(text: string): string {
  return text.replace(/^\/+|\/+$/g, '');
}
