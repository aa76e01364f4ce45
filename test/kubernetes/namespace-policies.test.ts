import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { ContainerDefaults, Cpu, NamespaceNetworkPolicy, NamespaceQuota, PreviewEnvironment, Size } from '../../lib';
import { dig, newStack, onlyResource, resourceNamed, synthJson } from '../support/synth';

describe('namespace policies on their own, in a namespace the user manages', () => {
  test('the isolation policies, quota and container defaults render as PreviewEnvironment uses them', () => {
    const { stack } = newStack();
    const where = { namespace: 'team-a', labels: { team: 'a' } };
    const deny = NamespaceNetworkPolicy.denyAll(stack, 'Deny', where);
    NamespaceNetworkPolicy.allowDns(stack, 'Dns', { ...where, dns: { namespace: 'dns', podLabels: { app: 'coredns' } } });
    NamespaceNetworkPolicy.allowSameNamespace(stack, 'Same', { ...where, namespaceName: 'team-a' });
    NamespaceNetworkPolicy.allowIngressController(stack, 'Ingress', { ...where, name: 'allow-web', podLabels: { app: 'web' }, port: 8080 });
    const quota = new NamespaceQuota(stack, 'Quota', { ...where, name: 'team-quota', limits: { requestsCpu: Cpu.cores(1), limitsMemory: Size.gibibytes(8), pods: 7 } });
    new ContainerDefaults(stack, 'Limits', { ...where, resources: { cpu: { limit: Cpu.millicores(750) } } });

    // Still the provider's resources: the escape hatches keep their whole API.
    expect(deny).toBeInstanceOf(NetworkPolicyV1);
    expect(quota).toBeInstanceOf(ResourceQuotaV1);
    expect(quota.limits.pods).toBe(7);

    const json = synthJson(stack);
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'default-deny'), 'spec')).toEqual({ pod_selector: {}, policy_types: ['Ingress', 'Egress'] });
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-dns'), 'spec.egress.0.to.0.pod_selector')).toEqual({ match_labels: { app: 'coredns' } });
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-same-namespace'), 'spec.ingress.0.from.0')).toEqual({
      namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'team-a' } },
    });
    const ingress = resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-web');
    expect(dig(ingress, 'spec.ingress.0')).toEqual({
      from: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }],
      ports: [{ port: '8080', protocol: 'TCP' }],
    });
    expect(dig(ingress, 'metadata')).toEqual({ name: 'allow-web', namespace: 'team-a', labels: { team: 'a' } });
    expect(dig(onlyResource(json, 'kubernetes_resource_quota_v1'), 'spec.hard')).toEqual({
      'requests.cpu': '1',
      'requests.memory': '2Gi',
      'limits.cpu': '8',
      'limits.memory': '8Gi',
      'requests.ephemeral-storage': '8Gi',
      'limits.ephemeral-storage': '16Gi',
      pods: '7',
      services: '10',
      persistentvolumeclaims: '0',
      'requests.storage': '0',
      'services.nodeports': '0',
      'services.loadbalancers': '0',
    });
    expect(dig(onlyResource(json, 'kubernetes_limit_range_v1'), 'spec.limit.0')).toEqual({
      type: 'Container',
      default: { cpu: '750m', memory: '256Mi', 'ephemeral-storage': '64Mi' },
      default_request: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '16Mi' },
      max: { cpu: '2', memory: '2Gi', 'ephemeral-storage': '4Gi' },
      min: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '16Mi' },
    });
  });

  test('PreviewEnvironment exposes them as its escape hatches, with the ids state was made with', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main' });
    expect(env.defaultDenyPolicy).toBeInstanceOf(NamespaceNetworkPolicy);
    expect([env.defaultDenyPolicy, env.allowDnsPolicy, env.allowSameNamespacePolicy, env.resourceQuota, env.limitRange].map((c) => c.node.id)).toEqual([
      'DefaultDeny',
      'AllowDns',
      'AllowSameNamespace',
      'Quota',
      'LimitRange',
    ]);
  });
});
