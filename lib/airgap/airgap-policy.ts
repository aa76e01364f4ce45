import { Aspects, IAspect, TerraformResource, TerraformStack } from 'cdktf';
import { IConstruct } from 'constructs';
import { AirgapRules, IAirgapRule } from './airgap-rules';
import { AirgapStack } from '../stack/airgap-stack';
import { AirgapError, PropProblem } from '../core/errors';
import { checkRegistryPrefix } from '../private/validation';
import { imageFields } from '../private/image-fields';
import { KitImageUse } from '../stack/kit-contents';
import { RegistryMirror } from '../core/registry-mirror';
import { PolicyChecks, StackPolicy } from '../policy/policy-checks';
import { PolicyPack, splitReference } from '../policy/rules';

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
    aspect.register(scope);
    return aspect;
  }

  /**
   * Exempts `construct` and everything below it from one rule. Findings are
   * still reported, as info, with the reason. The same as {@link PolicyChecks.suppress}.
   * @param reason why the exemption is safe, at least 10 characters
   */
  static suppress(construct: IConstruct, ruleId: string, reason: string): void {
    PolicyChecks._suppress(construct, ruleId, reason, 'AirgapPolicy');
  }

  private readonly mirror: RegistryMirror;
  private readonly allowed: string[];
  private readonly rules: IAirgapRule[];
  /** What each field was rewritten from and to, so a second synth does not rewrite a rewritten image again. */
  private readonly rewrites = new Map<IConstruct, Map<string, { readonly from: string; readonly to: string }>>();
  /** Scopes the policy is registered on. */
  private readonly scopes = new Set<IConstruct>();
  private readonly rewriter = (node: TerraformResource, config: { [key: string]: unknown }): boolean => this.rewrite(node, config);

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

  /** Registers the policy with its stack's {@link PolicyChecks}, which rewrites and judges. */
  private register(scope: IConstruct): boolean {
    this.scopes.add(scope);
    const stack = TerraformStack.of(scope);
    // A plain TerraformStack has no checks of its own: the policy brings the air-gap pack.
    if (!PolicyChecks.of(stack)) new PolicyChecks(stack, StackPolicy.only('a plain TerraformStack runs only the AirgapPolicy rules', PolicyPack.AIRGAP), true);
    return PolicyChecks._register(scope, this.rewriter, this.rules, this.allowed);
  }

  /**
   * Registers the policy on the first construct it visits. On an AirgapStack
   * the stack's checks then rewrite and judge; on a plain stack this aspect
   * runs them itself.
   */
  visit(node: IConstruct): void {
    // Added with Aspects.of(x).add() rather than apply(): registers where it first runs.
    const fresh = node.node.scopes.some((s) => this.scopes.has(s)) ? false : this.register(node);
    const checks = PolicyChecks.of(node)!;
    // The stack's own checks visited this node before this aspect: judge it again now that the policy applies.
    if (fresh || checks._drivenByPolicies) checks.visit(node);
  }

  /** Rewrites the image fields of one resource to the mirror; true when something changed. */
  private rewrite(node: TerraformResource, config: { [key: string]: unknown }): boolean {
    const type = node.terraformResourceType;
    const enclosing = TerraformStack.of(node);
    const stack = AirgapStack.isAirgapStack(enclosing) ? (enclosing as AirgapStack) : undefined;
    const done = this.rewrites.get(node) ?? new Map<string, { from: string; to: string }>();
    this.rewrites.set(node, done);
    let changed = false;
    for (const field of imageFields(type, config)) {
      if (!field.rewrite) continue;
      const before = done.get(field.path);
      // The override of an earlier synth is in the rendered value: rewrite from the original.
      const value = before && field.value === before.to ? before.from : field.value;
      const use = splitReference(value);
      const moved = this.mirror.rewrite(use.literal);
      if (moved === use.literal) continue;
      const to = moved + value.slice(use.literal.length);
      node.addOverride(field.path, to);
      changed = changed || field.value !== to;
      // The kit lists the public source of every rewritten image, for the carry.
      if (!use.hasReference && !before) stack?._recordImage({ target: moved, source: use.literal, use: KitImageUse.RUN, neededBy: node.node.path });
      done.set(field.path, { from: value, to });
    }
    return changed;
  }
}

/** Problems with the policy's props, reported when it is applied. */
function policyProblems(props: AirgapPolicyProps): PropProblem[] {
  const out: PropProblem[] = [];
  if (!(props?.mirror instanceof RegistryMirror)) {
    out.push({ prop: 'mirror', value: props?.mirror, problem: 'is not a RegistryMirror', fix: 'Use RegistryMirror.of({ "docker.io": "registry.internal/docker.io" }).' });
    return out;
  }
  out.push(...props.mirror._problems('mirror'));
  for (const prefix of props.allowedRegistries ?? []) {
    const p = checkRegistryPrefix(prefix);
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
