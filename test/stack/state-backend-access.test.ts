import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Testing } from 'cdktf';
import { AirgapStack, STATE_VERBS, StateBackendAccess, StateBackendAccessProps } from '../../lib';
import { errorOf, onlyResource, SynthJson } from '../support/synth';

function access(props: StateBackendAccessProps) {
  const s = new AirgapStack(Testing.app(), 'state');
  new KubernetesProvider(s, 'kubernetes', {});
  const a = new StateBackendAccess(s, 'Access', props);
  return { a, json: JSON.parse(Testing.synth(s)) as SynthJson };
}

describe('StateBackendAccess', () => {
  test('a restricted namespace, a Role with only what the backend does, bound to the pipelines', () => {
    const { json } = access({ serviceAccounts: [{ name: 'pipeline', namespace: 'ci' }], groups: ['preview-pipelines'] });
    expect(onlyResource(json, 'kubernetes_namespace_v1').metadata).toMatchObject({ name: 'airgap-state', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } });
    expect(onlyResource(json, 'kubernetes_role_v1').rule).toEqual([
      { api_groups: [''], resources: ['secrets'], verbs: ['create', 'get', 'list', 'update'] },
      { api_groups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] },
    ]);
    const binding = onlyResource(json, 'kubernetes_role_binding_v1');
    expect(binding.subject).toEqual([
      { kind: 'ServiceAccount', name: 'pipeline', namespace: 'ci' },
      { kind: 'Group', name: 'preview-pipelines', api_group: 'rbac.authorization.k8s.io' },
    ]);
    expect(binding.role_ref).toEqual({ api_group: 'rbac.authorization.k8s.io', kind: 'Role', name: expect.stringMatching(/^\$\{kubernetes_role_v1\.Access_Role_[0-9A-F]{8}\.metadata\[0\]\.name\}$/) });
    expect(STATE_VERBS.secrets).not.toContain('delete');
  });

  test('allowDelete adds delete, for the reaper; createNamespace false uses an existing one', () => {
    const { json } = access({ users: ['reaper'], allowDelete: true, createNamespace: false, namespace: 'tf-state' });
    expect(json.resource?.kubernetes_namespace_v1).toBeUndefined();
    const role = onlyResource(json, 'kubernetes_role_v1') as { metadata: { namespace: string }; rule: Array<{ verbs: string[] }> };
    expect(role.metadata.namespace).toBe('tf-state');
    expect(role.rule.map((r) => r.verbs)).toEqual([
      ['create', 'delete', 'get', 'list', 'update'],
      ['create', 'delete', 'get', 'update'],
    ]);
  });

  test.each([
    [{}, 'prop "serviceAccounts/users/groups" is [], which name no one'],
    [{ users: ['u'], namespace: 'Bad NS' }, 'prop "namespace" is "Bad NS"'],
    [{ serviceAccounts: [{ name: 'Pipe Line', namespace: 'ci' }] }, 'prop "serviceAccounts[0].name" is "Pipe Line"'],
    [{ groups: ['system:authenticated'] }, 'prop "groups[0]" is "system:authenticated", which is empty or every caller'],
  ] as Array<[StateBackendAccessProps, string]>)('bad props are refused %#', (props, expected) => {
    expect(errorOf(() => access(props))).toContain(expected);
  });
});
