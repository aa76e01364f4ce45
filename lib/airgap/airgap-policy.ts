import { Annotations, Aspects, IAspect, TerraformResource, TerraformStack, Token } from 'cdktf';
import { IConstruct } from 'constructs';
import { AirgapRules, IAirgapRule, ImageUse, RuleOutcome } from './airgap-rules';
import { AirgapStack } from '../stack/airgap-stack';
import { AirgapError } from '../core/errors';
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
    if (!AirgapRules.all().some((r) => r.id === ruleId)) {
      throw new AirgapError(construct.node.path, 'AirgapPolicy', [
        { prop: 'suppress().ruleId', value: ruleId, problem: `is not a rule id (${AirgapRules.all().map((r) => r.id).join(', ')})`, fix: 'Use the id printed in the synth error.' },
      ]);
    }
    const map = suppressions.get(construct) ?? new Map<string, string>();
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

  constructor(props: AirgapPolicyProps) {
    this.mirror = props.mirror;
    this.allowed = props.allowedRegistries ?? [...new Set(props.mirror.rules.map((r) => r.to))];
    this.rules = props.rules ?? AirgapRules.all();
  }

  /** Rewrites and checks the image fields of kubernetes and docker resources. */
  visit(node: IConstruct): void {
    if (!TerraformResource.isTerraformResource(node)) return;
    const type = node.terraformResourceType;
    if (!type.startsWith('kubernetes_') && !type.startsWith('docker_')) return;
    const rendered = node.toTerraform() as { resource?: Record<string, Record<string, unknown>> };
    const config = Object.values(rendered.resource?.[type] ?? {})[0];
    const enclosing = TerraformStack.of(node);
    const stack = AirgapStack.isAirgapStack(enclosing) ? (enclosing as AirgapStack) : undefined;
    const errors: string[] = [];
    for (const field of imageFields(type, config)) {
      let use = splitReference(field.value);
      if (field.rewrite) {
        const moved = this.mirror.rewrite(use.literal);
        if (moved !== use.literal) {
          node.addOverride(field.path, moved + field.value.slice(use.literal.length));
          // The kit lists the public source of every rewritten image, for the carry.
          if (!use.hasReference) stack?._recordImage({ target: moved, source: use.literal, use: KitImageUse.RUN, neededBy: node.node.path });
          use = { ...use, literal: moved };
        }
      }
      for (const rule of this.rules) {
        if (!field.rewrite && !rule.judgesBuildTargets) continue;
        const result = rule.evaluate(use, this.allowed);
        if (result.outcome !== RuleOutcome.NON_COMPLIANT) continue;
        const shown = use.hasReference ? `${use.literal}<known after apply>` : use.literal;
        const message = `[${rule.id}] ${type} field ${field.path}: image "${shown}" ${result.reason}; rule: ${rule.description}.`;
        const reason = suppressedBy(node, rule.id);
        if (reason !== undefined) {
          Annotations.of(node).addInfo(`${message} Suppressed: ${reason}`);
        } else {
          const error = `${message} Fix: mirror it into ${this.allowed.join(' or ')} and pin it as name@sha256:<digest>, or call AirgapPolicy.suppress(construct, "${rule.id}", "<why>").`;
          Annotations.of(node).addError(error);
          errors.push(error);
        }
      }
    }
    if (errors.length === 0 && !this.errors.has(node)) return;
    if (!this.errors.has(node)) node.node.addValidation({ validate: () => this.errors.get(node) ?? [] });
    this.errors.set(node, errors);
  }
}

/** Splits `name@${digest}` into its literal part and whether a Terraform reference follows. */
function splitReference(value: string): ImageUse {
  if (!Token.isUnresolved(value)) return { literal: value, hasReference: false };
  const at = value.indexOf('${');
  return { literal: at >= 0 ? value.slice(0, at) : '', hasReference: true };
}

/** The reason `construct` or one of its scopes suppresses `ruleId`, if any. */
function suppressedBy(construct: IConstruct, ruleId: string): string | undefined {
  for (const scope of [...construct.node.scopes].reverse()) {
    const reason = suppressions.get(scope)?.get(ruleId);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
