import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Annotations, IAspect, TerraformResource, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { AirgapRules, IAirgapRule } from '../airgap/airgap-rules';
import { AirgapError, PropProblem } from '../core/errors';
import { checkRegistryPrefix } from '../private/validation';
import { checkResource, PolicyCheckOptions, PolicyFinding, PolicyLevel, PolicyPack, PolicyRuleInfo, ruleCatalogue } from './rules';

/** Metadata type of a suppression, on the construct that carries it. */
const SUPPRESSION_METADATA = 'airgap-go-constructs:suppression';
/** Metadata type of a finding, on the resource it concerns. */
const FINDING_METADATA = 'airgap-go-constructs:finding';
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ALL_PACKS = [PolicyPack.RESTRICTED, PolicyPack.AIRGAP, PolicyPack.HYGIENE];

/** A suppression as the report lists it. */
export interface PolicySuppression {
  /** Construct path it was made on; it covers everything below. */
  readonly construct: string;
  /** The rule it suppresses. */
  readonly rule: string;
  /** Why. */
  readonly reason: string;
  /** How many findings of the last synth it covered. */
  readonly covered: number;
}

/**
 * Which packs a stack runs and against which registries, given to
 * {@link AirgapStack}. Turning a pack off needs a reason, as a suppression does.
 */
export class StackPolicy {
  /** Every pack: restricted and air-gap (errors), hygiene (warnings). */
  static defaults(): StackPolicy {
    return new StackPolicy(ALL_PACKS, undefined, undefined);
  }

  /**
   * Only some packs, for a stack that cannot meet the others.
   * @param reason why the others are off, at least 10 characters
   */
  static only(reason: string, ...packs: PolicyPack[]): StackPolicy {
    return new StackPolicy(packs, undefined, reason);
  }

  private constructor(
    /** Packs the stack runs. */
    public readonly packs: PolicyPack[],
    /** Registry prefixes images may come from; undefined for "not a public registry". */
    public readonly allowedRegistries: string[] | undefined,
    /** Why packs are off, when some are. */
    public readonly reason: string | undefined,
  ) {}

  /** The same packs, with images allowed only from these registry prefixes (AG2). */
  withAllowedRegistries(...registries: string[]): StackPolicy {
    return new StackPolicy(this.packs, [...registries], this.reason);
  }

  /** Problems with this policy, for the stack's prop checker. @internal */
  _problems(prop: string): PropProblem[] {
    const out: PropProblem[] = [];
    for (const [i, p] of this.packs.entries()) {
      if (!ALL_PACKS.includes(p)) out.push({ prop: `${prop}.packs[${i}]`, value: p, problem: 'is not a pack', fix: `Use PolicyPack.${Object.keys(PolicyPack).join(', PolicyPack.')}.` });
    }
    const off = [PolicyPack.RESTRICTED, PolicyPack.AIRGAP].filter((p) => !this.packs.includes(p));
    if (off.length > 0 && (typeof this.reason !== 'string' || this.reason.trim().length < 10)) {
      out.push({ prop: `${prop}.reason`, value: this.reason, problem: `turns off the ${off.join(' and ')} pack${off.length > 1 ? 's' : ''} without a reason of at least 10 characters`, fix: 'Say why the stack cannot meet the pack, so reviewers can judge it: StackPolicy.only("<why>", ...).' });
    }
    for (const r of this.allowedRegistries ?? []) {
      const problem = checkRegistryPrefix(r);
      if (problem) out.push({ prop: `${prop}.allowedRegistries`, value: r, problem, fix: 'Write registry prefixes as "registry.host[:port][/path]".' });
    }
    return out;
  }
}

const suppressions = new WeakMap<IConstruct, Map<string, string>>();
const checksOf = new WeakMap<TerraformStack, PolicyChecks>();
/** Image rules by scope, from AirgapPolicies, which replace the default AG1/AG2 below that scope. */
const imageRulesOf = new WeakMap<IConstruct, IAirgapRule[]>();
/** Allowed registries by scope, from AirgapPolicies. */
const allowedOf = new WeakMap<IConstruct, string[]>();
/** Rewriters by scope, run before a resource is judged. */
const rewritersOf = new WeakMap<IConstruct, Array<Rewriter>>();

/** Rewrites image fields of a resource, given its rendered config; true when it changed something. */
type Rewriter = (node: TerraformResource, config: { [key: string]: unknown }) => boolean;

/**
 * The rule packs, run over every resource of a stack at synth: the aspect
 * every {@link AirgapStack} adds. Errors fail `cdktf synth` and
 * `Testing.synth(stack, true)`; every finding is an Annotation on its
 * resource, and the stack's `offline/policy-report.json` lists them all with
 * every suppression and its reason.
 */
export class PolicyChecks implements IAspect {
  /** The checks the stack of `scope` runs, if any. */
  static of(scope: IConstruct): PolicyChecks | undefined {
    return checksOf.get(TerraformStack.of(scope));
  }

  /**
   * Exempts `construct` and everything below it from one rule. Findings are
   * still reported, as info, with the reason. On a stack, the exemption is stack-wide.
   * @param reason why the exemption is safe, at least 10 characters
   */
  static suppress(construct: IConstruct, ruleId: string, reason: string): void {
    PolicyChecks._suppress(construct, ruleId, reason, 'PolicyChecks');
  }

  /** {@link PolicyChecks.suppress}, with errors named after the API the user called. @internal */
  static _suppress(construct: IConstruct, ruleId: string, reason: string, kind: string): void {
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      throw new AirgapError(construct.node.path, kind, [
        { prop: `suppress("${ruleId}").reason`, value: reason, problem: 'is shorter than 10 characters', fix: 'Say why this construct may break the rule, so reviewers can judge it.' },
      ]);
    }
    if (typeof ruleId !== 'string' || !RULE_ID.test(ruleId)) {
      throw new AirgapError(construct.node.path, kind, [
        { prop: 'suppress().ruleId', value: ruleId, problem: 'is not a rule id', fix: `Use the id printed in the synth error, such as "${AirgapRules.PINNED_BY_DIGEST.id}".` },
      ]);
    }
    // Whether the id names a rule is checked at synth: custom rules have ids of their own.
    const map = suppressions.get(construct) ?? new Map<string, string>();
    if (!map.has(ruleId)) construct.node.addMetadata(SUPPRESSION_METADATA, { rule: ruleId, reason });
    map.set(ruleId, reason);
    suppressions.set(construct, map);
  }

  /** The catalogue: every rule of every pack. */
  static rules(): PolicyRuleInfo[] {
    return ruleCatalogue(AirgapRules.all());
  }

  /**
   * Judges one synthesized resource: the pure function behind the aspect and
   * the jest matchers. `config` is the resource's body in `cdk.tf.json` (or
   * `Testing.synth`), keyed by its Terraform type. Suppressions are not
   * known there; check a stack through the aspect to honour them.
   */
  static check(resourceType: string, config: { [key: string]: unknown }, options: PolicyCheckOptions = {}): PolicyFinding[] {
    return checkResource(resourceType, config, options, options.imageRules ?? AirgapRules.all());
  }

  /**
   * Judges every resource of a synthesized stack: the JSON `Testing.synth`
   * returns, or a `cdk.tf.json`.
   */
  static checkSynthesized(json: string, options: PolicyCheckOptions = {}): PolicyFinding[] {
    let parsed: { resource?: Record<string, Record<string, { [key: string]: unknown }>> };
    try {
      parsed = JSON.parse(json) as typeof parsed;
    } catch (e) {
      throw new AirgapError('PolicyChecks', 'PolicyChecks', [
        { prop: 'json', value: json.slice(0, 40), problem: `is not JSON (${(e as Error).message})`, fix: 'Pass what Testing.synth(stack) returns, or the text of cdk.tf.json.' },
      ]);
    }
    const out: PolicyFinding[] = [];
    for (const [type, byName] of Object.entries(parsed.resource ?? {})) {
      for (const [name, config] of Object.entries(byName)) {
        const path = (config['//'] as { metadata?: { path?: string } } | undefined)?.metadata?.path;
        for (const f of PolicyChecks.check(type, config, { ...options, address: `${type}.${name}` })) out.push(path ? { ...f, construct: path } : f);
      }
    }
    return out.sort(byPlace);
  }

  /** Packs this stack runs. */
  public readonly packs: PolicyPack[];
  private readonly allowed: string[] | undefined;
  /** Judge only resources under an AirgapPolicy (plain stacks, where the checks come from the policy). */
  private readonly onlyUnderPolicy: boolean;
  private readonly findingsByNode = new Map<IConstruct, PolicyFinding[]>();
  private readonly errors = new Map<IConstruct, string[]>();
  private readonly annotated = new WeakMap<IConstruct, Set<string>>();
  private readonly metadataSeen = new Set<string>();
  private readonly suppressionErrors = new Map<IConstruct, string[]>();
  private readonly stack: TerraformStack;

  /** @internal */
  constructor(stack: TerraformStack, policy: StackPolicy, onlyUnderPolicy: boolean) {
    this.stack = stack;
    this.packs = [...policy.packs];
    this.allowed = policy.allowedRegistries;
    this.onlyUnderPolicy = onlyUnderPolicy;
    checksOf.set(stack, this);
  }

  /** True on a plain stack, where AirgapPolicy aspects drive the checks. @internal */
  get _drivenByPolicies(): boolean {
    return this.onlyUnderPolicy;
  }

  /** Every finding of the last synth, suppressed ones included, sorted by construct path, field and rule. */
  get findings(): PolicyFinding[] {
    return [...this.findingsByNode.values()].flat().sort(byPlace);
  }

  /** Every suppression in the stack, with how many findings of the last synth it covered. */
  get suppressions(): PolicySuppression[] {
    const findings = this.findings;
    const out: PolicySuppression[] = [];
    for (const c of this.stack.node.findAll()) {
      for (const [rule, reason] of suppressions.get(c) ?? []) {
        const covered = findings.filter((f) => f.rule === rule && f.suppressedAt === c.node.path).length;
        out.push({ construct: c.node.path, rule, reason, covered });
      }
    }
    return out;
  }

  /**
   * Registers an AirgapPolicy's rewriting and rules for `scope` and below.
   * @internal
   */
  static _register(scope: IConstruct, rewrite: Rewriter, rules: IAirgapRule[], allowed: string[]): boolean {
    const list = rewritersOf.get(scope) ?? [];
    if (list.includes(rewrite)) return false;
    rewritersOf.set(scope, [...list, rewrite]);
    imageRulesOf.set(scope, [...(imageRulesOf.get(scope) ?? []), ...rules.filter((r) => !(imageRulesOf.get(scope) ?? []).some((x) => x.id === r.id))]);
    allowedOf.set(scope, [...new Set([...(allowedOf.get(scope) ?? []), ...allowed])]);
    return true;
  }

  /** Writes `offline/policy-report.json`. @internal */
  _writeReport(dir: string): void {
    const findings = this.findings;
    const count = (level: PolicyLevel) => findings.filter((f) => f.level === level && f.suppressedBecause === undefined).length;
    const report = {
      formatVersion: 1,
      stack: this.stack.node.path,
      packs: this.packs,
      allowedRegistries: this.allowed ?? null,
      rules: ruleCatalogue(this.allImageRules()).filter((r) => this.packs.includes(r.pack)),
      summary: {
        resourcesChecked: this.findingsByNode.size,
        errors: count(PolicyLevel.ERROR),
        warnings: count(PolicyLevel.WARNING),
        infos: count(PolicyLevel.INFO),
        suppressed: findings.filter((f) => f.suppressedBecause !== undefined).length,
      },
      findings,
      suppressions: this.suppressions,
    };
    mkdirSync(join(dir, 'offline'), { recursive: true });
    writeFileSync(join(dir, 'offline', 'policy-report.json'), JSON.stringify(report, null, 2) + '\n');
  }

  /** Rewrites images under an AirgapPolicy, then judges the resource with every pack. */
  visit(node: IConstruct): void {
    this.checkSuppressions(node);
    if (!TerraformResource.isTerraformResource(node)) return;
    const type = node.terraformResourceType;
    if (!type.startsWith('kubernetes_') && !type.startsWith('docker_')) return;
    const scopes = node.node.scopes;
    if (this.onlyUnderPolicy && !scopes.some((s) => rewritersOf.has(s))) return;
    let config = renderConfig(node);
    // Rendered once; again only after a rewrite changed it, so a nested policy sees the outer one's result.
    for (const s of scopes) for (const rewrite of rewritersOf.get(s) ?? []) if (rewrite(node, config)) config = renderConfig(node);
    const underPolicy = scopes.filter((s) => imageRulesOf.has(s));
    const imageRules = underPolicy.length > 0 ? dedupe(underPolicy.flatMap((s) => imageRulesOf.get(s) ?? [])) : AirgapRules.all();
    const allowed = underPolicy.length > 0 ? [...new Set(underPolicy.flatMap((s) => allowedOf.get(s) ?? []))] : this.allowed;
    const raw = checkResource(type, config, { packs: this.packs, allowedRegistries: allowed, address: `${type}.${node.friendlyUniqueId}` }, imageRules);
    const findings: PolicyFinding[] = raw.map((f) => {
      const by = suppressionOf(node, f.rule);
      return { ...f, construct: node.node.path, ...(by ? { suppressedBecause: by.reason, suppressedAt: by.at } : {}) };
    });
    this.findingsByNode.set(node, findings);

    const errors: string[] = [];
    const explanations = findings.length > 0 ? new Map(ruleCatalogue(imageRules).map((r) => [r.id, r.explanation])) : undefined;
    for (const f of findings) {
      const base = `[${f.rule}] ${type} field ${f.field}: ${f.message}; rule: ${explanations?.get(f.rule) ?? f.rule}.`;
      if (f.suppressedBecause !== undefined) {
        this.annotate(node, PolicyLevel.INFO, `${base} Suppressed: ${f.suppressedBecause}`);
      } else {
        const hint = f.rule.startsWith('AG1') || f.rule.startsWith('AG2') ? `AirgapPolicy.suppress(construct, "${f.rule}", "<why>")` : `PolicyChecks.suppress(construct, "${f.rule}", "<why>")`;
        const message = `${base} Fix: ${f.fix} Or accept it with ${hint}.`;
        this.annotate(node, f.level, message);
        if (f.level === PolicyLevel.ERROR) errors.push(message);
      }
      const key = `${f.construct}\u0000${f.field}\u0000${f.rule}\u0000${f.suppressedBecause ?? ''}`;
      if (!this.metadataSeen.has(key)) {
        this.metadataSeen.add(key);
        node.node.addMetadata(FINDING_METADATA, f);
      }
    }
    if (errors.length === 0 && !this.errors.has(node)) return;
    if (!this.errors.has(node)) node.node.addValidation({ validate: () => this.errors.get(node) ?? [] });
    this.errors.set(node, errors);
  }

  private annotate(node: IConstruct, level: PolicyLevel, message: string): void {
    const seen = this.annotated.get(node) ?? new Set<string>();
    this.annotated.set(node, seen);
    if (seen.has(message)) return;
    seen.add(message);
    if (level === PolicyLevel.ERROR) Annotations.of(node).addError(message);
    else if (level === PolicyLevel.WARNING) Annotations.of(node).addWarning(message);
    else Annotations.of(node).addInfo(message);
  }

  private allImageRules(): IAirgapRule[] {
    const scoped = this.stack.node.findAll().flatMap((c) => imageRulesOf.get(c) ?? []);
    return dedupe([...AirgapRules.all(), ...scoped]);
  }

  /** A suppression must name a known rule: a typo would otherwise silently suppress nothing. */
  private checkSuppressions(node: IConstruct): void {
    const own = suppressions.get(node);
    if (!own) return;
    const known = new Set<string>([...(this.onlyUnderPolicy ? [] : ruleCatalogue(AirgapRules.all()).map((r) => r.id))]);
    for (const s of node.node.scopes) for (const r of imageRulesOf.get(s) ?? []) known.add(r.id);
    for (const c of node.node.findAll()) for (const r of imageRulesOf.get(c) ?? []) known.add(r.id);
    if (this.onlyUnderPolicy && known.size === 0) return;
    const unknown = [...own.keys()].filter((id) => !known.has(id));
    const messages = unknown.map(
      (id) => `suppression names rule "${id}", which no policy over ${node.node.path} applies (its rules: ${[...known].join(', ')}). Fix: use one of those ids, or remove the suppression.`,
    );
    if (!this.suppressionErrors.has(node)) node.node.addValidation({ validate: () => this.suppressionErrors.get(node) ?? [] });
    this.suppressionErrors.set(node, messages);
    for (const m of messages) this.annotate(node, PolicyLevel.ERROR, m);
  }
}

function dedupe(rules: IAirgapRule[]): IAirgapRule[] {
  const seen = new Set<string>();
  return rules.filter((r) => !seen.has(r.id) && seen.add(r.id) !== undefined);
}

/** The resource's body as `cdk.tf.json` will have it, overrides included (tokens stay unresolved). */
export function renderConfig(node: TerraformResource): { [key: string]: unknown } {
  const rendered = node.toTerraform() as { resource?: Record<string, Record<string, { [key: string]: unknown }>> };
  return Object.values(rendered.resource?.[node.terraformResourceType] ?? {})[0] ?? {};
}

function byPlace(a: PolicyFinding, b: PolicyFinding): number {
  return cmp(a.construct ?? a.address, b.construct ?? b.address) || cmp(a.field, b.field) || cmp(a.rule, b.rule);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The suppression of `ruleId` on `construct` or its nearest scope that has one. */
function suppressionOf(construct: IConstruct, ruleId: string): { reason: string; at: string } | undefined {
  for (const scope of [...construct.node.scopes].reverse()) {
    const reason = suppressions.get(scope)?.get(ruleId);
    if (reason !== undefined) return { reason, at: scope.node.path };
  }
  return undefined;
}
