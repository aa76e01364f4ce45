import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Testing } from 'cdktf';
import { GoService, OfflineBundle, OfflineMirror, PolicyChecks, PreviewEnvironment } from '../../lib';
// Registers the matchers on jest's expect, as `import 'airgap-go-constructs/testing'` does for users.
import { policyFindings } from '../../lib/testing';
import { newStack } from '../support/synth';

const D = `sha256:${'d'.repeat(64)}`;
const IMAGE = `registry.internal/team/app@${D}`;

/** The message a failing matcher throws. */
function failure(run: () => void): string {
  try {
    run();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the matcher to fail');
}

function privileged(id = 'web') {
  const { stack } = newStack();
  const svc = new GoService(stack, id, { image: IMAGE });
  svc.deployment.addOverride('spec.template.spec.container.0.security_context.privileged', true);
  return { stack, svc };
}

describe('jest matchers from airgap-go-constructs/testing', () => {
  test('a whole preview environment, with a service and the offline mirror, passes all three', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'feature/checkout', createdAt: '2026-12-01T00:00:00Z' });
    const api = env.addService('api', { image: IMAGE, metrics: { port: 9090 } });
    new OfflineMirror(api, 'mirror', { image: `registry.internal/mirror/offline-mirror@${D}`, bundle: OfflineBundle.fromImage(`registry.internal/mirror/bundle@${D}`, { sha256sumsHash: 'ab'.repeat(32) }) });
    for (const received of [stack, Testing.synth(stack)]) {
      expect(received).toPassRestrictedPack();
      expect(received).toPassAirgapPack();
      expect(received).toHaveNoAllowAllNetworkPolicy();
    }
    // Not a single warning either: our own defaults meet the hygiene pack.
    expect(policyFindings(stack)).toEqual([]);
  });

  test('toPassRestrictedPack fails on a privileged container, listing rule, construct, field and fix', () => {
    const { stack } = privileged();
    const message = failure(() => expect(stack).toPassRestrictedPack());
    expect(message).toContain('expected stack test to pass the restricted pack, but found 1:');
    expect(message).toContain('[PS3-privileged] test/web/Deployment spec.template.spec.container.0.security_context.privileged: container "web" is privileged. Fix: Remove security_context.privileged, or set it to false.');
    expect(stack).not.toPassRestrictedPack();
    expect(stack).toHavePolicyFinding('PS3-privileged');
    expect(Testing.synth(stack)).not.toPassRestrictedPack();
  });

  test('a stack honours suppressions; its synthesized JSON cannot know them', () => {
    const { stack, svc } = privileged();
    PolicyChecks.suppress(svc, 'PS3-privileged', 'device plugin, reviewed by platform security');
    expect(stack).toPassRestrictedPack();
    expect(stack).not.toHavePolicyFinding('PS3-privileged');
    expect(Testing.synth(stack)).not.toPassRestrictedPack();
  });

  test('toPassAirgapPack: digests and registries, with an allow-list for synthesized JSON', () => {
    const { stack } = newStack();
    new GoService(stack, 'tagged', { image: 'registry.internal/team/app:1.0' });
    const message = failure(() => expect(stack).toPassAirgapPack());
    expect(message).toContain('[AG1-pinned-by-digest] test/tagged/Deployment spec.template.spec.container.0.image: image "registry.internal/team/app:1.0" is not pinned by digest');
    const pinned = newStack();
    new GoService(pinned.stack, 'api', { image: IMAGE });
    const json = Testing.synth(pinned.stack);
    expect(json).toPassAirgapPack();
    expect(json).toPassAirgapPack({ allowedRegistries: ['registry.internal/team'] });
    expect(failure(() => expect(json).toPassAirgapPack({ allowedRegistries: ['registry.internal/other'] }))).toContain('is not from an allowed registry (registry.internal/other)');
  });

  test('toHaveNoAllowAllNetworkPolicy fails on a rule without peers', () => {
    const { stack } = newStack();
    new NetworkPolicyV1(stack, 'open', { metadata: { name: 'open', namespace: 'default' }, spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ ports: [{ port: '80' }] }] } });
    expect(failure(() => expect(stack).toHaveNoAllowAllNetworkPolicy())).toContain('[HY4-allow-all-network-policy] test/open spec.ingress.0: ingress rule allows every source');
    expect(Testing.synth(stack)).not.toHaveNoAllowAllNetworkPolicy();
  });

  test('a raw provider resource is judged like ours', () => {
    const { stack } = newStack();
    new DeploymentV1(stack, 'raw', {
      metadata: { name: 'raw' },
      spec: { selector: { matchLabels: { app: 'raw' } }, template: { metadata: { labels: { app: 'raw' } }, spec: { container: [{ name: 'raw', image: IMAGE }] } } },
    });
    const rules = [...new Set(policyFindings(stack).map((f) => f.rule))].sort();
    expect(rules).toEqual(['HY1-resources', 'HY2-probes', 'HY3-token-automount', 'PS10-seccomp', 'PS13-privilege-escalation', 'PS14-run-as-non-root', 'PS4-capabilities']);
    expect(stack).not.toPassRestrictedPack();
    expect(stack).toPassAirgapPack();
  });

  test('anything but a stack or synthesized JSON is a clear error', () => {
    expect(failure(() => expect(42).toPassRestrictedPack())).toContain('expected a TerraformStack or the JSON Testing.synth(stack) returns, got number');
    expect(failure(() => expect('{not json').toPassRestrictedPack())).toContain('prop "json" is "{not json", which is not JSON');
  });
});
