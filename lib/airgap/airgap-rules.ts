import { ImageReference } from '../core/image-reference';

/** Outcome of one rule for one image reference. */
export enum RuleOutcome {
  /** The image meets the rule. */
  COMPLIANT = 'compliant',
  /** The image breaks the rule. */
  NON_COMPLIANT = 'non-compliant',
  /** The reference is only known at apply time, so the rule cannot judge it. */
  NOT_APPLICABLE = 'not-applicable',
}

/** An image reference as the aspect sees it: literal text, or literal text ending in a Terraform reference. */
export interface ImageUse {
  /** The literal part, before any Terraform reference. */
  readonly literal: string;
  /** Whether a Terraform reference (known after apply) follows the literal part. */
  readonly hasReference: boolean;
}

/** The verdict of one rule. */
export interface RuleResult {
  /** The outcome. */
  readonly outcome: RuleOutcome;
  /** Why, for non-compliant results. */
  readonly reason?: string;
}

/** A policy rule: a small pure function over one image use. */
export interface IAirgapRule {
  /** Stable id used in messages and suppressions. */
  readonly id: string;
  /** One line on what the rule demands. */
  readonly description: string;
  /** Whether it also judges names an image is built or pushed under (not only images that are pulled and run). */
  readonly judgesBuildTargets: boolean;
  /** The verdict for one image use. */
  evaluate(use: ImageUse, allowedRegistries: string[]): RuleResult;
}

const ok: RuleResult = { outcome: RuleOutcome.COMPLIANT };

/** Every image is pinned by digest, so what runs is what was verified and mirrored. */
const PINNED_BY_DIGEST: IAirgapRule = {
  id: 'AG1-pinned-by-digest',
  description: 'every image is pinned by digest (@sha256:…)',
  // A build target gets its digest at push; what runs it pins that digest.
  judgesBuildTargets: false,
  evaluate(use) {
    if (use.hasReference) {
      // `name@${digest}` is pinned once the digest is known; anything else cannot be judged here.
      return use.literal.endsWith('@') ? ok : { outcome: RuleOutcome.NOT_APPLICABLE };
    }
    const parsed = ImageReference._check(use.literal);
    if (!parsed.ok) return { outcome: RuleOutcome.NON_COMPLIANT, reason: parsed.problem };
    return parsed.image.pinned ? ok : { outcome: RuleOutcome.NON_COMPLIANT, reason: 'is not pinned by digest' };
  },
};

/** Every image comes from a registry reachable inside the gap. */
const FROM_ALLOWED_REGISTRY: IAirgapRule = {
  id: 'AG2-allowed-registry',
  description: 'every image comes from an allowed (internal) registry',
  judgesBuildTargets: true,
  evaluate(use, allowed) {
    const literal = use.literal;
    if (literal.length === 0 || (use.hasReference && !literal.includes('/'))) return { outcome: RuleOutcome.NOT_APPLICABLE };
    const hit = allowed.some((prefix) => literal === prefix || literal.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`));
    return hit ? ok : { outcome: RuleOutcome.NON_COMPLIANT, reason: `is not from an allowed registry (${allowed.join(', ')})` };
  },
};

/** The rules AirgapPolicy applies. */
export class AirgapRules {
  /** Every image is pinned by digest (`AG1-pinned-by-digest`), so what runs is what was verified and mirrored. */
  static readonly PINNED_BY_DIGEST: IAirgapRule = PINNED_BY_DIGEST;
  /** Every image comes from an allowed, internal registry (`AG2-allowed-registry`). */
  static readonly FROM_ALLOWED_REGISTRY: IAirgapRule = FROM_ALLOWED_REGISTRY;

  /** The default rules, in the order they run: allowed registry, then pinned by digest. */
  static all(): IAirgapRule[] {
    return [FROM_ALLOWED_REGISTRY, PINNED_BY_DIGEST];
  }

  private constructor() {}
}
