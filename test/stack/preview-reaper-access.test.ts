import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Testing } from 'cdktf';
import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { AirgapStack, PREVIEW_RESOURCES, PreviewReaperAccess, PreviewReaperAccessProps, REAPER_VERBS, StateBackendAccess } from '../../lib';
import { rbacResourceOf } from '../support/rbac';
import { errorOf, onlyResource, SynthJson } from '../support/synth';

function reaper(props: PreviewReaperAccessProps, withState = false) {
  const s = new AirgapStack(Testing.app(), 'admin');
  new KubernetesProvider(s, 'kubernetes', {});
  const stateAccess = withState ? new StateBackendAccess(s, 'State', { serviceAccounts: [{ name: 'pipeline', namespace: 'ci' }] }) : undefined;
  new PreviewReaperAccess(s, 'Reaper', { stateAccess, ...props });
  return { stack: s, json: JSON.parse(Testing.synth(s)) as SynthJson };
}

type Rule = { api_groups: string[]; resources: string[]; verbs: string[] };

describe('PreviewReaperAccess', () => {
  test('a Role in the state namespace and a ClusterRole of get and delete on what previews hold, both bound to the reaper', () => {
    const { json } = reaper({ serviceAccounts: [{ name: 'preview-reaper', namespace: 'ci' }] });
    const role = onlyResource(json, 'kubernetes_role_v1') as { metadata: { name: string; namespace: string }; rule: Rule[] };
    expect(role.metadata).toMatchObject({ name: 'terraform-state-reaper', namespace: 'airgap-state' });
    expect(role.rule).toEqual([
      { api_groups: [''], resources: ['secrets'], verbs: ['delete', 'get', 'list', 'update'] },
      { api_groups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'delete', 'get', 'update'] },
    ]);
    const cr = onlyResource(json, 'kubernetes_cluster_role_v1') as { metadata: { name: string }; rule: Rule[] };
    expect(cr.metadata.name).toBe('airgap-preview-reaper');
    expect(cr.rule).toEqual([
      { api_groups: [''], resources: ['namespaces'], verbs: ['delete', 'get', 'list'] },
      { api_groups: [''], resources: ['limitranges', 'resourcequotas', 'serviceaccounts', 'services'], verbs: ['delete', 'get'] },
      { api_groups: ['apps'], resources: ['deployments'], verbs: ['delete', 'get'] },
      { api_groups: ['networking.k8s.io'], resources: ['ingresses', 'networkpolicies'], verbs: ['delete', 'get'] },
      { api_groups: ['policy'], resources: ['poddisruptionbudgets'], verbs: ['delete', 'get'] },
    ]);
    // Nothing that creates or changes an object outside the state namespace, no wildcard, and no Secret anywhere else.
    for (const r of cr.rule) {
      expect(r.verbs.filter((v) => !['get', 'list', 'delete'].includes(v))).toEqual([]);
      expect([...r.api_groups, ...r.resources, ...r.verbs]).not.toContain('*');
      expect(r.resources).not.toContain('secrets');
    }
    for (const type of ['kubernetes_role_binding_v1', 'kubernetes_cluster_role_binding_v1']) {
      expect(onlyResource(json, type).subject).toEqual([{ kind: 'ServiceAccount', name: 'preview-reaper', namespace: 'ci' }]);
    }
    expect((onlyResource(json, 'kubernetes_cluster_role_binding_v1') as { role_ref: { kind: string; name: string } }).role_ref).toEqual({
      api_group: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: expect.stringMatching(/^\$\{kubernetes_cluster_role_v1\.Reaper_ClusterRole_[0-9A-F]{8}\.metadata\[0\]\.name\}$/),
    });
  });

  test('with stateAccess, the Role goes into its namespace by reference, so it is applied after the namespace', () => {
    const { json } = reaper({ groups: ['reapers'] }, true);
    const roles = Object.values((json.resource?.kubernetes_role_v1 ?? {}) as Record<string, { metadata: { name: string; namespace: string } }>);
    const mine = roles.find((r) => r.metadata.name === 'terraform-state-reaper');
    expect(mine?.metadata.namespace).toMatch(/^\$\{kubernetes_namespace_v1\.State_Namespace_[0-9A-F]{8}\.metadata\[0\]\.name\}$/);
  });

  test('previewSecrets and extraResources add exactly those kinds, with get and delete only', () => {
    const { json } = reaper({ users: ['reaper'], previewSecrets: true, extraResources: [{ apiGroup: '', resource: 'configmaps' }, { apiGroup: 'batch', resource: 'cronjobs' }, { apiGroup: 'apps', resource: 'deployments' }] });
    const cr = onlyResource(json, 'kubernetes_cluster_role_v1') as { rule: Rule[] };
    expect(cr.rule.find((r) => r.api_groups[0] === '' && r.resources.includes('services'))?.resources).toEqual(['configmaps', 'limitranges', 'resourcequotas', 'secrets', 'serviceaccounts', 'services']);
    expect(cr.rule.find((r) => r.api_groups[0] === 'batch')).toEqual({ api_groups: ['batch'], resources: ['cronjobs'], verbs: ['delete', 'get'] });
    expect(cr.rule.find((r) => r.api_groups[0] === 'apps')?.resources).toEqual(['deployments']);
  });

  test('every namespaced kind the preview constructs create is in PREVIEW_RESOURCES', () => {
    // Each binding file (deployment-v1) declares the provider type kubernetes_deployment_v1.
    const used = new Set<string>();
    for (const dir of ['kubernetes', 'offline']) {
      for (const f of readdirSync(join(__dirname, '../../lib', dir))) {
        for (const m of readFileSync(join(__dirname, '../../lib', dir, f), 'utf8').matchAll(/provider-kubernetes\/lib\/([a-z0-9-]+)/g)) used.add(`kubernetes_${m[1].replace(/-/g, '_')}`);
      }
    }
    expect(used.size).toBeGreaterThan(5);
    const granted = new Set([...PREVIEW_RESOURCES.map((r) => `${r.apiGroup}/${r.resource}`), '/namespaces', '/secrets']);
    expect([...used].filter((t) => !granted.has(rbacResourceOf(t)))).toEqual([]);
    expect(REAPER_VERBS.previewObjects).toEqual(['delete', 'get']);
  });

  test('the same props give the same bytes', () => {
    const props = { serviceAccounts: [{ name: 'r', namespace: 'ci' }], extraResources: [{ apiGroup: 'batch', resource: 'jobs' }] };
    expect(Testing.synth(reaper(props).stack)).toBe(Testing.synth(reaper(props).stack));
  });

  test.each([
    [{}, 'prop "serviceAccounts/users/groups" is [], which name no one, so no reaper could run'],
    [{ users: ['r'], stateNamespace: 'Bad NS' }, 'prop "stateNamespace" is "Bad NS"'],
    [{ groups: ['system:authenticated'] }, 'prop "groups[0]" is "system:authenticated", which is empty or every caller'],
    [{ users: ['r'], extraResources: [{ apiGroup: '', resource: '*' }] }, 'prop "extraResources[0].resource" is "*", which is a wildcard, which would grant every kind'],
    [{ users: ['r'], extraResources: [{ apiGroup: '', resource: 'secrets' }] }, 'for Secrets set previewSecrets: true'],
    [{ users: ['r'], extraResources: [{ apiGroup: 'Bad Group', resource: 'jobs' }] }, 'prop "extraResources[0].apiGroup" is "Bad Group"'],
    [{ users: ['r'], clusterRoleName: 'Reaper!' }, 'prop "clusterRoleName" is "Reaper!"'],
  ] as Array<[PreviewReaperAccessProps, string]>)('bad props are refused, naming the construct %#', (props, expected) => {
    const message = errorOf(() => reaper(props));
    expect(message).toContain(expected);
    expect(message).toContain('admin/Reaper');
  });

  test('stateNamespace that differs from stateAccess is refused, and nothing half-made is left', () => {
    const s = new AirgapStack(Testing.app(), 'admin');
    const state = new StateBackendAccess(s, 'State', { users: ['p'] });
    expect(errorOf(() => new PreviewReaperAccess(s, 'Reaper', { users: ['r'], stateAccess: state, stateNamespace: 'other' }))).toContain('prop "stateNamespace" is "other", which differs from stateAccess\'s namespace "airgap-state"');
    expect(s.node.tryFindChild('Reaper')).toBeUndefined();
  });
});
