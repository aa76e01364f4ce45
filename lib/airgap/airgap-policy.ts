import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { Annotations, Aspects, IAspect, TerraformResource, TerraformStack, Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { AirgapRules, IAirgapRule, ImageUse, RuleOutcome } from './airgap-rules';
import { AirgapStack } from '../stack/airgap-stack';
import { AirgapError, PropProblem } from '../core/errors';
import { ImageReference } from '../core/image-reference';
import { imageFields } from '../private/image-fields';
import { KitImageUse } from '../stack/kit-contents';
import { RegistryMirror } from '../core/registry-mirror';

/** Props for {@link AirgapPolicy}. */
export interface AirgapPolicyProps {
  /** Where public images are mirrored inside the gap. */
  readonly mirror: RegistryMirror;
  /**
   * Registry prefixes images may come from after the rewrite.
   * @default - the mirror's targets
   */
  readonly allowedRegistries?: string[];
  /**
   * The rules to apply.
   * @default AirgapRules.all(): allowed registry, pinned by digest
   */
  readonly rules?: IAirgapRule[];
}

const suppressions = new WeakMap<IConstruct, Map<string, string>>();

/** Metadata type of a suppression, on the construct that carries it. */
const SUPPRESSION_METADATA = 'airgap-go-constructs:suppression';
/** Metadata type of a finding, on the resource it concerns. */
const FINDING_METADATA = 'airgap-go-constructs:finding';
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** One rule's verdict on one image field, as the report lists it. */
export interface AirgapFinding {
  /** Rule id. */
  readonly rule: string;
  /** Construct path of the resource. */
  readonly construct: string;
  /** Terraform resource type. */
  readonly resourceType: string;
  /** Field path of the image in the resource. */
  readonly field: string;
  /** The image after the rewrite; a Terraform reference shows as `<known after apply>`. */
  readonly image: string;
  /** `compliant`, `non-compliant`, `not-applicable` or `suppressed`. */
  readonly outcome: string;
  /**
   * Why it is non-compliant or suppressed.
   * @default - none
   */
  readonly reason?: string;
}

/**
 * Makes a stack air-gap ready at synth time, with no admission webhook: every
 * container image reference in every kubernetes and docker resource is
 * rewritten to the internal mirror (tag and digest kept), then checked by the
 * rules. A violation is a synth error naming the construct path and the image;
 * {@link AirgapPolicy.suppress} exempts one construct with a written reason.
 */
export class AirgapPolicy implements IAspect {
  /** Applies the aspect to `scope` and everything below it. */
  static apply(scope: IConstruct, props: AirgapPolicyProps): AirgapPolicy {
    const problems = policyProblems(props);
    if (problems.length > 0) throw new AirgapError(scope.node.path || 'App', 'AirgapPolicy', problems);
    if (!scope.node.scopes.some((s) => TerraformStack.isStack(s))) {
      // cdktf invokes aspects stack by stack, from the stack down: an aspect
      // on the App, or on a construct above the stacks, would never run.
      const stacks = scope.node.findAll().filter((c) => TerraformStack.isStack(c)).map((c) => c.node.id);
      throw new AirgapError(scope.node.path || 'App', 'AirgapPolicy', [
        {
          prop: 'scope',
          value: scope.node.path || 'App',
          problem: 'is not a stack or inside one, and cdktf runs aspects only from each stack down, so the rules would never run',
          fix: `Apply it to each stack instead${stacks.length ? `, such as: for (const s of [${stacks.join(', ')}]) AirgapPolicy.apply(s, props)` : ''}.`,
        },
      ]);
    }
    const aspect = new AirgapPolicy(props);
    Aspects.of(scope).add(aspect);
    const set = policiesOf.get(scope) ?? new Set<AirgapPolicy>();
    set.add(aspect);
    policiesOf.set(scope, set);
    return aspect;
  }

  /**
   * Exempts `construct` and everything below it from one rule. Findings are
   * still reported, as info, with the reason.
   * @param reason why the exemption is safe, at least 10 characters
   */
  static suppress(construct: IConstruct, ruleId: string, reason: string): void {
    if (typeof reason !== 'string' || reason.trim().length < 10) {
      throw new AirgapError(construct.node.path, 'AirgapPolicy', [
        { prop: `suppress("${ruleId}").reason`, value: reason, problem: 'is shorter than 10 characters', fix: 'Say why this construct may break the rule, so reviewers can judge it.' },
      ]);
    }
    if (typeof ruleId !== 'string' || !RULE_ID.test(ruleId)) {
      throw new AirgapError(construct.node.path, 'AirgapPolicy', [
        { prop: 'suppress().ruleId', value: ruleId, problem: 'is not a rule id', fix: `Use the id printed in the synth error, such as "${AirgapRules.PINNED_BY_DIGEST.id}".` },
      ]);
    }
    // Whether the id names a rule is checked when a policy visits the construct: custom rules have ids of their own.
    const map = suppressions.get(construct) ?? new Map<string, string>();
    if (!map.has(ruleId)) construct.node.addMetadata(SUPPRESSION_METADATA, { rule: ruleId, reason });
    map.set(ruleId, reason);
    suppressions.set(construct, map);
  }

  private readonly mirror: RegistryMirror;
  private readonly allowed: string[];
  private readonly rules: IAirgapRule[];
  /**
   * Errors of the last visit, by construct. A validation reads them, so
   * `Testing.synth(stack, true)` fails on a violation as `cdktf synth` does.
   */
  private readonly errors = new Map<IConstruct, string[]>();
  /** What each field was rewritten from and to, so a second synth does not rewrite a rewritten image again. */
  private readonly rewrites = new Map<IConstruct, Map<string, { readonly from: string; readonly to: string }>>();
  /** Findings by resource, for the report; replaced on each visit. */
  private readonly findings = new Map<IConstruct, AirgapFinding[]>();
  private readonly reportStacks = new Set<AirgapStack>();
  private readonly metadataSeen = new Set<string>();

  constructor(props: AirgapPolicyProps) {
    const problems = policyProblems(props);
    if (problems.length > 0) throw new AirgapError('AirgapPolicy', 'AirgapPolicy', problems);
    this.mirror = props.mirror;
    this.allowed = props.allowedRegistries ?? [...new Set(props.mirror.rules.map((r) => r.to))];
    this.rules = props.rules ?? AirgapRules.all();
  }

  /** Ids of the rules the policy applies. */
  get ruleIds(): string[] {
    return this.rules.map((r) => r.id);
  }

  /** Every finding of the last synth, sorted by construct path, field and rule. */
  get report(): AirgapFinding[] {
    return [...this.findings.values()].flat().sort((a, b) => cmp(a.construct, b.construct) || cmp(a.field, b.field) || cmp(a.rule, b.rule));
  }

  /**
   * A suppression must name a rule some policy over the construct applies: a
   * typo would otherwise silently suppress nothing.
   */
  private checkSuppressions(node: IConstruct): void {
    const own = suppressions.get(node);
    if (!own) return;
    const known = new Set<string>(this.ruleIds);
    for (const scope of node.node.scopes) for (const p of policiesOf.get(scope) ?? []) p.ruleIds.forEach((id) => known.add(id));
    const unknown = [...own.keys()].filter((id) => !known.has(id));
    const messages = unknown.map(
      (id) => `AirgapPolicy.suppress names rule "${id}", which no AirgapPolicy over ${node.node.path} applies (its rules: ${[...known].join(', ')}). Fix: use one of those ids, or remove the suppression.`,
    );
    if (!suppressionErrors.has(node)) node.node.addValidation({ validate: () => suppressionErrors.get(node) ?? [] });
    suppressionErrors.set(node, messages);
    for (const m of messages) Annotations.of(node).addError(m);
  }

  /** Writes `offline/airgap-report.json`: every rule's verdict on every image field of the stack, as cdk-nag writes its reports. */
  private writeReport(dir: string, stack: AirgapStack): void {
    const findings = this.report.filter((f) => f.construct === stack.node.path || f.construct.startsWith(`${stack.node.path}/`));
    const count = (o: string) => findings.filter((f) => f.outcome === o).length;
    const report = {
      formatVersion: 1,
      stack: stack.node.path,
      rules: this.rules.map((r) => ({ id: r.id, description: r.description })),
      summary: { compliant: count(RuleOutcome.COMPLIANT), nonCompliant: count(RuleOutcome.NON_COMPLIANT), notApplicable: count(RuleOutcome.NOT_APPLICABLE), suppressed: count('suppressed') },
      findings,
    };
    mkdirSync(join(dir, 'offline'), { recursive: true });
    writeFileSync(join(dir, 'offline', 'airgap-report.json'), JSON.stringify(report, null, 2) + '\n');
  }

  /** Rewrites and checks the image fields of kubernetes and docker resources. */
  visit(node: IConstruct): void {
    this.checkSuppressions(node);
    if (!TerraformResource.isTerraformResource(node)) return;
    const type = node.terraformResourceType;
    if (!type.startsWith('kubernetes_') && !type.startsWith('docker_')) return;
    const rendered = node.toTerraform() as { resource?: Record<string, Record<string, unknown>> };
    const config = Object.values(rendered.resource?.[type] ?? {})[0];
    const enclosing = TerraformStack.of(node);
    const stack = AirgapStack.isAirgapStack(enclosing) ? (enclosing as AirgapStack) : undefined;
    if (stack && !this.reportStacks.has(stack)) {
      this.reportStacks.add(stack);
      stack.addArtifact({ writeTo: (dir) => this.writeReport(dir, stack) });
    }
    const errors: string[] = [];
    const findings: AirgapFinding[] = [];
    const done = this.rewrites.get(node) ?? new Map<string, { from: string; to: string }>();
    this.rewrites.set(node, done);
    for (const field of imageFields(type, config)) {
      const before = done.get(field.path);
      // The override of an earlier synth is in the rendered value: judge it from the original.
      const value = before && field.value === before.to ? before.from : field.value;
      let use = splitReference(value);
      if (field.rewrite) {
        const moved = this.mirror.rewrite(use.literal);
        if (moved !== use.literal) {
          const to = moved + value.slice(use.literal.length);
          node.addOverride(field.path, to);
          // The kit lists the public source of every rewritten image, for the carry.
          if (!use.hasReference && !before) stack?._recordImage({ target: moved, source: use.literal, use: KitImageUse.RUN, neededBy: node.node.path });
          done.set(field.path, { from: value, to });
          use = { ...use, literal: moved };
        }
      }
      const shown = use.hasReference ? `${use.literal}<known after apply>` : use.literal;
      for (const rule of this.rules) {
        if (!field.rewrite && !rule.judgesBuildTargets) continue;
        const result = rule.evaluate(use, this.allowed);
        const finding = { rule: rule.id, construct: node.node.path, resourceType: type, field: field.path, image: shown };
        if (result.outcome !== RuleOutcome.NON_COMPLIANT) {
          findings.push({ ...finding, outcome: result.outcome });
          continue;
        }
        const message = `[${rule.id}] ${type} field ${field.path}: image "${shown}" ${result.reason}; rule: ${rule.description}.`;
        const reason = suppressedBy(node, rule.id);
        if (reason !== undefined) {
          Annotations.of(node).addInfo(`${message} Suppressed: ${reason}`);
          findings.push({ ...finding, outcome: 'suppressed', reason: `${result.reason}; suppressed: ${reason}` });
        } else {
          const error = `${message} Fix: mirror it into ${this.allowed.join(' or ')} and pin it as name@sha256:<digest>, or call AirgapPolicy.suppress(construct, "${rule.id}", "<why>").`;
          Annotations.of(node).addError(error);
          errors.push(error);
          findings.push({ ...finding, outcome: RuleOutcome.NON_COMPLIANT, reason: result.reason });
        }
      }
    }
    this.findings.set(node, findings);
    for (const f of findings) {
      if (f.outcome !== RuleOutcome.NON_COMPLIANT && f.outcome !== 'suppressed') continue;
      const key = `${f.construct}\u0000${f.field}\u0000${f.rule}\u0000${f.outcome}`;
      if (this.metadataSeen.has(key)) continue;
      this.metadataSeen.add(key);
      node.node.addMetadata(FINDING_METADATA, f);
    }
    if (errors.length === 0 && !this.errors.has(node)) return;
    if (!this.errors.has(node)) node.node.addValidation({ validate: () => this.errors.get(node) ?? [] });
    this.errors.set(node, errors);
  }
}

/** Suppression errors by construct, read by a validation as the rule errors are. */
const suppressionErrors = new WeakMap<IConstruct, string[]>();

/** Problems with the policy's props, reported when it is applied. */
function policyProblems(props: AirgapPolicyProps): PropProblem[] {
  const out: PropProblem[] = [];
  if (!(props?.mirror instanceof RegistryMirror)) {
    out.push({ prop: 'mirror', value: props?.mirror, problem: 'is not a RegistryMirror', fix: 'Use RegistryMirror.of({ "docker.io": "registry.internal/docker.io" }).' });
    return out;
  }
  out.push(...props.mirror._problems('mirror'));
  for (const prefix of props.allowedRegistries ?? []) {
    const p = ImageReference.problemOf(`${prefix.includes('/') ? prefix : `${prefix}/x`}:probe`);
    if (p) out.push({ prop: 'allowedRegistries', value: prefix, problem: p, fix: 'Write registry prefixes as "registry.host[:port][/path]".' });
  }
  const ids = new Set<string>();
  for (const [i, rule] of (props.rules ?? []).entries()) {
    if (!rule || typeof rule.evaluate !== 'function' || typeof rule.id !== 'string' || !RULE_ID.test(rule.id)) {
      out.push({ prop: `rules[${i}]`, value: rule?.id, problem: 'is not a rule with an id and an evaluate function', fix: 'Implement IAirgapRule: id, description, judgesBuildTargets, evaluate().' });
    } else if (ids.has(rule.id)) {
      out.push({ prop: `rules[${i}].id`, value: rule.id, problem: 'is the id of an earlier rule too', fix: 'Give every rule its own id; suppressions name rules by id.' });
    }
    if (rule?.id) ids.add(rule.id);
  }
  return out;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Splits `name@${digest}` into its literal part and whether a Terraform reference follows. */
function splitReference(value: string): ImageUse {
  if (!Token.isUnresolved(value)) return { literal: value, hasReference: false };
  const at = value.indexOf('${');
  return { literal: at >= 0 ? value.slice(0, at) : '', hasReference: true };
}

/** Policies by stack, so a suppression can be checked against every rule applied there. */
const policiesOf = new WeakMap<IConstruct, Set<AirgapPolicy>>();

/** The reason `construct` or one of its scopes suppresses `ruleId`, if any. */
function suppressedBy(construct: IConstruct, ruleId: string): string | undefined {
  for (const scope of [...construct.node.scopes].reverse()) {
    const reason = suppressions.get(scope)?.get(ruleId);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
