// Jest matchers over a synthesized stack: `import 'airgap-go-constructs/testing'`.
// Not part of the jsii API (jest is TypeScript/JavaScript only).
import { TerraformStack, Testing } from 'cdktf';
import { PolicyChecks } from '../policy/policy-checks';
import { PolicyCheckOptions, PolicyFinding, PolicyLevel, PolicyPack } from '../policy/rules';

/** What a jest matcher returns. */
export interface MatcherResult {
  readonly pass: boolean;
  message(): string;
}

/** Options of the policy matchers. */
export interface PolicyMatcherOptions {
  /** Registry prefixes images may come from (AG2), for synthesized JSON; a stack uses its own. */
  readonly allowedRegistries?: string[];
}

/**
 * The findings for `received`: a stack (checked through its own
 * PolicyChecks, so suppressions count) or the JSON `Testing.synth` returns
 * (checked by the same pure rules; suppressions are not in the JSON).
 */
export function policyFindings(received: unknown, options: PolicyCheckOptions = {}): PolicyFinding[] {
  if (typeof received === 'string') return PolicyChecks.checkSynthesized(received, options);
  if (received !== null && typeof received === 'object' && TerraformStack.isStack(received)) {
    const json = Testing.synth(received);
    const checks = PolicyChecks.of(received);
    const findings = checks && !checks._drivenByPolicies ? checks.findings : PolicyChecks.checkSynthesized(json, options);
    return options.packs ? findings.filter((f) => options.packs!.includes(f.pack)) : findings;
  }
  throw new TypeError(`expected a TerraformStack or the JSON Testing.synth(stack) returns, got ${received === null ? 'null' : typeof received}`);
}

function verdict(name: string, what: string, findings: PolicyFinding[], failing: (f: PolicyFinding) => boolean): MatcherResult {
  const bad = findings.filter((f) => f.suppressedBecause === undefined && failing(f));
  const suppressed = findings.filter((f) => f.suppressedBecause !== undefined && failing(f));
  const line = (f: PolicyFinding) => `  [${f.rule}] ${f.construct ?? f.address} ${f.field}: ${f.message}. Fix: ${f.fix}`;
  return {
    pass: bad.length === 0,
    message: () =>
      bad.length === 0
        ? `expected ${what} to break ${name}, but it passes${suppressed.length ? ` (${suppressed.length} suppressed finding(s))` : ''}`
        : `expected ${what} to pass ${name}, but found ${bad.length}:\n${bad.map(line).join('\n')}`,
  };
}

function describeReceived(received: unknown): string {
  return typeof received === 'string' ? 'the synthesized stack' : `stack ${(received as TerraformStack)?.node?.path ?? '?'}`;
}

/** The matchers, for `expect.extend(policyMatchers)` (done on import when a global `expect` exists). */
export const policyMatchers = {
  /** No error of the Pod Security "restricted" pack. */
  toPassRestrictedPack(received: unknown): MatcherResult {
    return verdict('the restricted pack', describeReceived(received), policyFindings(received, { packs: [PolicyPack.RESTRICTED] }), (f) => f.level === PolicyLevel.ERROR);
  },
  /** No error of the air-gap pack: digests, allowed registries, pull policy. */
  toPassAirgapPack(received: unknown, options: PolicyMatcherOptions = {}): MatcherResult {
    return verdict('the air-gap pack', describeReceived(received), policyFindings(received, { packs: [PolicyPack.AIRGAP], allowedRegistries: options.allowedRegistries }), (f) => f.level === PolicyLevel.ERROR);
  },
  /** No network-policy rule that allows every peer (HY4). */
  toHaveNoAllowAllNetworkPolicy(received: unknown): MatcherResult {
    return verdict('"no allow-all network policy"', describeReceived(received), policyFindings(received, { packs: [PolicyPack.HYGIENE] }), (f) => f.rule === 'HY4-allow-all-network-policy');
  },
  /** A finding of rule `ruleId` that no suppression covers (for tests of what must fail). */
  toHavePolicyFinding(received: unknown, ruleId: string): MatcherResult {
    const findings = policyFindings(received).filter((f) => f.rule === ruleId && f.suppressedBecause === undefined);
    return {
      pass: findings.length > 0,
      message: () =>
        findings.length > 0
          ? `expected ${describeReceived(received)} to have no ${ruleId} finding, but found:\n${findings.map((f) => `  ${f.construct ?? f.address} ${f.field}: ${f.message}`).join('\n')}`
          : `expected ${describeReceived(received)} to have a ${ruleId} finding, but it has none`,
    };
  },
};

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // The type parameters must match @types/jest's, or the declarations do not merge.
    // eslint-disable-next-line @typescript-eslint/no-unused-vars, @typescript-eslint/no-empty-object-type
    interface Matchers<R, T = {}> {
      /** No error of the Pod Security "restricted" pack. */
      toPassRestrictedPack(): R;
      /** No error of the air-gap pack. */
      toPassAirgapPack(options?: PolicyMatcherOptions): R;
      /** No network-policy rule that allows every peer. */
      toHaveNoAllowAllNetworkPolicy(): R;
      /** An unsuppressed finding of the rule. */
      toHavePolicyFinding(ruleId: string): R;
    }
  }
}

const globalExpect = (globalThis as { expect?: { extend(matchers: object): void } }).expect;
if (globalExpect && typeof globalExpect.extend === 'function') globalExpect.extend(policyMatchers);
