import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Testing } from 'cdktf';
import { Cpu, Duration, PreviewEnvironment, PreviewEnvironmentProps, PreviewName, Probe, Size } from '../../lib';

const branchHash = PreviewName.hash;
import { dig, errorOf, newStack, onlyResource, resourceNamed, resourcesOf, SynthJson, synthJson } from '../support/synth';

const IMAGE = `registry.internal/team/hello@sha256:${'ab'.repeat(32)}`;
const CREATED = '2026-11-21T10:00:00Z';
const LONG_DOMAIN = `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.internal`;

function synthEnv(props: Partial<PreviewEnvironmentProps> = {}, withService = true) {
  const { stack } = newStack();
  const env = new PreviewEnvironment(stack, 'env', { branch: 'feature/ABC_123', createdAt: CREATED, ...props });
  if (withService) env.addService('hello', { image: IMAGE }, props.ingress ? { ingressPath: '/' } : {});
  return { stack, env, json: synthJson(stack) };
}

type Rule = Record<string, unknown>;

/**
 * Every way a NetworkPolicy rule can open more than it says: in this provider an
 * empty `ingress {}`/`egress {}` block allows everything, a rule without peers
 * allows every source, and an empty peer selects everything.
 */
function openRules(json: SynthJson): string[] {
  const found: string[] = [];
  for (const [id, policy] of resourcesOf(json, 'kubernetes_network_policy_v1')) {
    for (const direction of ['ingress', 'egress'] as const) {
      const peersKey = direction === 'ingress' ? 'from' : 'to';
      const rules = (dig(policy, `spec.${direction}`) as Rule[] | undefined) ?? [];
      rules.forEach((rule, i) => {
        const peers = (rule[peersKey] as Rule[] | undefined) ?? [];
        if (Object.keys(rule).length === 0) found.push(`${id} ${direction}[${i}] is an empty block`);
        else if (peers.length === 0) found.push(`${id} ${direction}[${i}] has no ${peersKey}`);
        peers.forEach((peer, j) => {
          const selectors = Object.values(peer).filter((v) => v !== undefined);
          if (selectors.length === 0) found.push(`${id} ${direction}[${i}].${peersKey}[${j}] is empty`);
          for (const key of ['namespace_selector', 'pod_selector']) {
            const sel = peer[key] as Rule | undefined;
            if (sel !== undefined && Object.keys(sel).length === 0) found.push(`${id} ${direction}[${i}].${peersKey}[${j}].${key} selects everything`);
          }
        });
      });
    }
  }
  return found;
}

describe('PreviewEnvironment output', () => {
  test('snapshot, with the properties that matter pinned beside it', () => {
    const { stack, json, env } = synthEnv({ ingress: { baseDomain: 'preview.example.internal', ingressClassName: 'nginx' } });
    expect(Testing.synth(stack)).toMatchSnapshot();

    const ns = onlyResource(json, 'kubernetes_namespace_v1');
    const name = `preview-feature-abc-123-${branchHash('feature/ABC_123')}`;
    expect(env.namespaceName).toBe(name);
    expect(dig(ns, 'metadata.name')).toBe(name);
    expect(dig(ns, 'metadata.labels')).toEqual({
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': 'v1.34',
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': 'v1.34',
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': 'v1.34',
      'app.kubernetes.io/part-of': 'preview',
      'app.kubernetes.io/managed-by': 'terraform',
      'app.kubernetes.io/instance': env.slug,
      'app.kubernetes.io/component': 'preview-environment',
      'airgap-go-constructs.io/preview': 'true',
      'airgap-go-constructs.io/ttl-hours': '72',
      'airgap-go-constructs.io/expires-at': '20261124T100000Z',
    });
    expect(dig(ns, 'metadata.annotations')).toEqual({
      'airgap-go-constructs.io/branch': 'feature/ABC_123',
      'airgap-go-constructs.io/created-at': '2026-11-21T10:00:00Z',
      'airgap-go-constructs.io/expires-at': '2026-11-24T10:00:00Z',
      // kube-janitor's convention, so clusters running it see the same expiry.
      'janitor/expires': '2026-11-24T10:00:00Z',
    });
    expect(dig(ns, 'timeouts')).toEqual({ delete: '10m' });

    expect(dig(onlyResource(json, 'kubernetes_service_account_v1'), 'automount_service_account_token')).toBe(false);
    expect(dig(onlyResource(json, 'kubernetes_resource_quota_v1'), 'spec.hard')).toEqual({
      'requests.cpu': '2',
      'requests.memory': '2Gi',
      'limits.cpu': '8',
      'limits.memory': '8Gi',
      'requests.ephemeral-storage': '8Gi',
      'limits.ephemeral-storage': '16Gi',
      pods: '20',
      services: '10',
      persistentvolumeclaims: '0',
      'requests.storage': '0',
      'services.nodeports': '0',
      'services.loadbalancers': '0',
    });
    expect(dig(onlyResource(json, 'kubernetes_limit_range_v1'), 'spec.limit')).toEqual([
      {
        type: 'Container',
        default_request: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '16Mi' },
        default: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '64Mi' },
        max: { cpu: '2', memory: '2Gi', 'ephemeral-storage': '4Gi' },
        min: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '16Mi' },
      },
    ]);
    // The namespace's own default ServiceAccount is managed, token off, for pods created outside the library.
    const defaultSa = onlyResource(json, 'kubernetes_default_service_account_v1');
    expect(dig(defaultSa, 'automount_service_account_token')).toBe(false);
    expect(dig(defaultSa, 'metadata.namespace')).toMatch(/^\$\{kubernetes_namespace_v1\./);
    const ingress = onlyResource(json, 'kubernetes_ingress_v1');
    expect(dig(ingress, 'spec.ingress_class_name')).toBe('nginx');
    expect(dig(ingress, 'spec.rule.0.host')).toBe(`${env.slug}.preview.example.internal`);
    expect(dig(ingress, 'spec.rule.0.http.path.0')).toEqual({
      path: '/',
      path_type: 'Prefix',
      backend: { service: { name: expect.stringMatching(/^\$\{kubernetes_service_v1\.env_hello_Service_[0-9A-F]{8}\.metadata\[0\]\.name\}$/), port: { number: 80 } } },
    });
  });

  test('network policies: default deny, then explicit allows only', () => {
    const { json } = synthEnv();
    const policies = resourcesOf(json, 'kubernetes_network_policy_v1');
    // No Ingress, so no ingress-controller allow: deny, DNS and same-namespace only.
    expect(policies.map(([, p]) => dig(p, 'metadata.name')).sort()).toEqual(['allow-dns', 'allow-same-namespace', 'default-deny']);

    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'default-deny'), 'spec')).toEqual({
      pod_selector: {},
      policy_types: ['Ingress', 'Egress'],
    });
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-dns'), 'spec')).toEqual({
      pod_selector: {},
      policy_types: ['Egress'],
      egress: [
        {
          to: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'kube-system' } }, pod_selector: { match_labels: { 'k8s-app': 'kube-dns' } } }],
          ports: [
            { port: '53', protocol: 'UDP' },
            { port: '53', protocol: 'TCP' },
          ],
        },
      ],
    });
    const own = { namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': `preview-feature-abc-123-${branchHash('feature/ABC_123')}` } } };
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-same-namespace'), 'spec')).toEqual({
      pod_selector: {},
      policy_types: ['Ingress', 'Egress'],
      ingress: [{ from: [own] }],
      egress: [{ to: [own] }],
    });
    const routed = synthEnv({ ingress: { baseDomain: 'preview.internal' } }).json;
    expect(dig(resourceNamed(routed, 'kubernetes_network_policy_v1', 'allow-ingress-controller-hello'), 'spec')).toEqual({
      pod_selector: { match_labels: { 'app.kubernetes.io/name': 'hello', 'app.kubernetes.io/instance': 'hello' } },
      policy_types: ['Ingress'],
      ingress: [{ from: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port: '8080', protocol: 'TCP' }] }],
    });
  });

  test('no policy opens more than it says: no empty ingress/egress block, no rule without peers, no empty peer', () => {
    const { json } = synthEnv({ ingressController: { namespace: 'ingress', podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } });
    expect(openRules(json)).toEqual([]);
  });

  test('the open-rule scan catches an empty ingress block added through an escape hatch', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED });
    new NetworkPolicyV1(env, 'Careless', { metadata: { name: 'careless', namespace: env.namespaceName }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}], egress: [{ to: [{ podSelector: {} }] }] } });
    expect(openRules(synthJson(stack))).toEqual([
      expect.stringMatching(/ingress\[0\] is an empty block/),
      expect.stringMatching(/egress\[0\]\.to\[0\]\.pod_selector selects everything/),
    ]);
  });

  test('every namespaced object references the Namespace resource, so destroy removes them before it', () => {
    const { json } = synthEnv({ ingress: { baseDomain: 'preview.internal' } });
    const [[nsId]] = resourcesOf(json, 'kubernetes_namespace_v1');
    const nsRef = `\${kubernetes_namespace_v1.${nsId}.metadata[0].name}`;
    const types = Object.keys(json.resource ?? {}).filter((t) => t !== 'kubernetes_namespace_v1');
    expect(types.length).toBeGreaterThanOrEqual(8);
    for (const type of types) {
      for (const [id, body] of resourcesOf(json, type)) {
        expect([id, dig(body, 'metadata.namespace')]).toEqual([id, nsRef]);
      }
    }
  });

  test('services added to the environment run under its token-less service account', () => {
    const { json } = synthEnv();
    const pod = dig(onlyResource(json, 'kubernetes_deployment_v1'), 'spec.template.spec') as Record<string, unknown>;
    const [[saId]] = resourcesOf(json, 'kubernetes_service_account_v1');
    expect(pod.service_account_name).toBe(`\${kubernetes_service_account_v1.${saId}.metadata[0].name}`);
    expect(pod.automount_service_account_token).toBe(false);
    expect(dig(onlyResource(json, 'kubernetes_deployment_v1'), 'metadata.labels')).toMatchObject({ 'app.kubernetes.io/part-of': 'preview' });
  });

  test('overrides reach quota, limit range, DNS peer, versions and timeouts', () => {
    const { json } = synthEnv({
      quota: { requestsCpu: Cpu.millicores(500), limitsMemory: Size.gibibytes(8), pods: 5 },
      containerDefaults: { cpu: { limit: Cpu.cores(1) }, memory: { request: Size.mebibytes(32) } },
      dns: { namespace: 'dns', podLabels: { app: 'coredns' } },
      podSecurityVersion: 'v1.33',
      deleteTimeout: Duration.minutes(15),
      namespacePrefix: 'pr-',
      ttl: Duration.hours(24),
      labels: { team: 'payments' },
      serviceAccountName: 'runner',
    });
    expect(dig(onlyResource(json, 'kubernetes_resource_quota_v1'), 'spec.hard')).toMatchObject({ 'requests.cpu': '500m', 'limits.memory': '8Gi', pods: '5', 'limits.cpu': '8' });
    expect(dig(onlyResource(json, 'kubernetes_limit_range_v1'), 'spec.limit.0')).toMatchObject({ default: { cpu: '1', memory: '256Mi' }, default_request: { cpu: '100m', memory: '32Mi' } });
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-dns'), 'spec.egress.0.to.0')).toEqual({
      namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'dns' } },
      pod_selector: { match_labels: { app: 'coredns' } },
    });
    const ns = onlyResource(json, 'kubernetes_namespace_v1');
    expect(dig(ns, 'metadata.name')).toMatch(/^pr-feature-abc-123-/);
    expect(dig(ns, 'metadata.labels')).toMatchObject({ 'pod-security.kubernetes.io/enforce-version': 'v1.33', 'airgap-go-constructs.io/expires-at': '20261122T100000Z', team: 'payments' });
    expect(dig(ns, 'timeouts.delete')).toBe('15m');
    expect(dig(onlyResource(json, 'kubernetes_service_account_v1'), 'metadata.name')).toBe('runner');
  });

  test('without createdAt there is no expiry, never the clock, and synth warns', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main' });
    const labels = dig(onlyResource(synthJson(stack), 'kubernetes_namespace_v1'), 'metadata.labels') as Record<string, string>;
    expect(labels['airgap-go-constructs.io/expires-at']).toBeUndefined();
    expect(dig(onlyResource(synthJson(stack), 'kubernetes_namespace_v1'), 'metadata.annotations')).toEqual({ 'airgap-go-constructs.io/branch': 'main' });
    expect(env.expiresAt).toBeUndefined();
    expect(env.node.metadata.map((m) => m.data)).toEqual([expect.stringContaining('no createdAt was given')]);
  });

  test('two environments for two branches coexist with distinct names', () => {
    const { stack } = newStack();
    const a = new PreviewEnvironment(stack, 'a', { branch: 'feature/x', createdAt: CREATED });
    const b = new PreviewEnvironment(stack, 'b', { branch: 'feature-x', createdAt: CREATED });
    a.addService('api', { image: IMAGE });
    b.addService('api', { image: IMAGE });
    const names = resourcesOf(synthJson(stack), 'kubernetes_namespace_v1').map(([, ns]) => dig(ns, 'metadata.name'));
    expect(names).toEqual([`preview-feature-x-${branchHash('feature/x')}`, 'preview-feature-x']);
  });

  test('tls and several exposed services', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED, ingress: { baseDomain: 'p.internal', tlsSecretName: 'wildcard' } });
    env.addService('web', { image: IMAGE }, { ingressPath: '/' });
    env.addService('api', { image: IMAGE, liveness: Probe.tcp() }, { ingressPath: '/api' });
    env.addService('worker', { image: IMAGE, replicas: 1 });
    const json = synthJson(stack);
    const ingresses = resourcesOf(json, 'kubernetes_ingress_v1').map(([, i]) => [dig(i, 'metadata.name'), dig(i, 'spec.rule.0.http.path.0.path'), dig(i, 'spec.tls')]);
    expect(ingresses).toEqual(
      expect.arrayContaining([
        ['web', '/', [{ hosts: ['main.p.internal'], secret_name: 'wildcard' }]],
        ['api', '/api', [{ hosts: ['main.p.internal'], secret_name: 'wildcard' }]],
      ]),
    );
    expect(ingresses).toHaveLength(2);
    // Only the two routed services accept the ingress controller; the worker does not.
    expect(resourcesOf(json, 'kubernetes_network_policy_v1').map(([, p]) => dig(p, 'metadata.name')).sort()).toEqual([
      'allow-dns',
      'allow-ingress-controller-api',
      'allow-ingress-controller-web',
      'allow-same-namespace',
      'default-deny',
    ]);
    expect(env.host).toBe('main.p.internal');
  });
});

describe('PreviewEnvironment bad input', () => {
  const cases: Array<[string, Partial<PreviewEnvironmentProps>, string]> = [
    ['empty branch', { branch: '' }, 'prop "branch" is "", which is empty'],
    ['prefix', { namespacePrefix: 'Preview_' }, 'prop "namespacePrefix" is "Preview_", which is not the start of a DNS-1123 label'],
    ['ttl', { ttl: Duration.hours(0) }, 'prop "ttl" is Duration.hours(0), which is outside 1h to 8760h'],
    ['ttl in minutes', { ttl: Duration.minutes(90) }, 'prop "ttl" is Duration.minutes(90), which is not a whole number of hours'],
    ['createdAt not ISO', { createdAt: 'yesterday' }, 'prop "createdAt" is "yesterday", which is not an ISO-8601 UTC timestamp'],
    ['createdAt with offset', { createdAt: '2026-11-21T10:00:00+01:00' }, 'prop "createdAt" is "2026-11-21T10:00:00+01:00", which is not an ISO-8601 UTC timestamp'],
    ['createdAt impossible day', { createdAt: '2026-02-30T10:00:00Z' }, 'prop "createdAt" is "2026-02-30T10:00:00Z"'],
    ['pod security version', { podSecurityVersion: '1.34' }, 'prop "podSecurityVersion" is "1.34", which is not a Kubernetes minor version'],
    ['label key', { labels: { 'Bad Key': 'x' } }, 'prop "labels key" is "Bad Key", which is not a valid label key'],
    ['label value', { labels: { team: 'x'.repeat(64) } }, 'prop "labels["team"]" is "' + 'x'.repeat(64) + '", which has 64 characters'],
    ['dns namespace', { dns: { namespace: 'Kube System' } }, 'prop "dns.namespace" is "Kube System", which is not a DNS-1123 label'],
    ['dns pod labels', { dns: { podLabels: { 'k8s-app': 'kube dns' } } }, 'prop "dns.podLabels["k8s-app"]" is "kube dns"'],
    ['ingress controller namespace', { ingressController: { namespace: '' } }, 'prop "ingressController.namespace" is "", which is empty'],
    ['quota cpu', { quota: { requestsCpu: Cpu.millicores(0.1) } }, 'prop "quota.requestsCpu" is Cpu.millicores(0.1), which is not a whole, non-negative number of millicores'],
    ['quota memory', { quota: { limitsMemory: Size.bytes(-1) } }, 'prop "quota.limitsMemory" is Size.bytes(-1), which is not a whole, non-negative number of bytes'],
    ['quota request > limit', { quota: { requestsMemory: Size.gibibytes(9) } }, 'prop "quota.requestsMemory" is Size.gibibytes(9), which is greater than limitsMemory Size.gibibytes(8)'],
    ['quota pods', { quota: { pods: 1.5 } }, 'prop "quota.pods" is 1.5, which is not a whole number'],
    ['limit range', { containerDefaults: { cpu: { request: Cpu.millicores(-1) } } }, 'prop "containerDefaults.cpu.request" is Cpu.millicores(-1), which is not a whole, non-negative number of millicores'],
    ['limit range order', { containerDefaults: { memory: { request: Size.gibibytes(1) } } }, 'prop "containerDefaults.memory.request" is Size.gibibytes(1), which is greater than the limit Size.mebibytes(256)'],
    ['service account', { serviceAccountName: 'SA' }, 'prop "serviceAccountName" is "SA", which is not a DNS-1123 label'],
    ['delete timeout', { deleteTimeout: Duration.millis(500) }, 'prop "deleteTimeout" is Duration.millis(500), which is not a whole number of seconds'],
    ['base domain', { ingress: { baseDomain: 'Preview..internal' } }, 'prop "ingress.baseDomain" is "Preview..internal", which is not a DNS-1123 subdomain'],
    ['tls secret', { ingress: { baseDomain: 'p.internal', tlsSecretName: 'Bad' } }, 'prop "ingress.tlsSecretName" is "Bad"'],
    ['branch a number', { branch: 42 as unknown as string }, 'prop "branch" is 42, which is not a string but number. Pass the branch or PR name as a string'],
    ['branch only white space', { branch: ' \t ' }, 'prop "branch" is " \\t ", which is only white space'],
    ['host above 253', { ingress: { baseDomain: LONG_DOMAIN } }, `prop "ingress.baseDomain" is "${LONG_DOMAIN}", which makes the Ingress host "feature-abc-123-${branchHash('feature/ABC_123')}.aaaaaaaaaaaaa…" 279 characters long, above DNS's 253. Use a base domain of at most 226 characters.`],
    ['monitoring namespace', { monitoring: { namespace: 'Mon' } }, 'prop "monitoring.namespace" is "Mon", which is not a DNS-1123 label'],
    ['pull secret name', { imagePullSecrets: ['Bad_Name'] }, 'prop "imagePullSecrets" is "Bad_Name"'],
    ['quota ephemeral order', { quota: { requestsEphemeralStorage: Size.gibibytes(32) } }, 'prop "quota.requestsEphemeralStorage" is Size.gibibytes(32), which is greater than limitsEphemeralStorage Size.gibibytes(16)'],
    ['quota pvcs', { quota: { persistentVolumeClaims: -1 } }, 'prop "quota.persistentVolumeClaims" is -1'],
    ['default above max', { containerMax: { cpu: Cpu.millicores(200) } }, 'prop "containerDefaults.cpu.limit" is Cpu.millicores(500), which is above containerMax.cpu Cpu.millicores(200). Lower the default limit or raise containerMax.cpu.'],
    ['min above max', { containerMin: { memory: Size.gibibytes(4) } }, 'prop "containerMin.memory" is Size.gibibytes(4), which is greater than containerMax.memory Size.gibibytes(2)'],
  ];
  test.each(cases)('%s', (_name, props, expected) => {
    expect(errorOf(() => synthEnv(props, false))).toContain(`test/env (PreviewEnvironment): ${expected}`);
  });

  test('a failed environment leaves nothing in the stack', () => {
    const { stack } = newStack();
    expect(() => new PreviewEnvironment(stack, 'env', { branch: 'main', ttl: Duration.hours(-1) })).toThrow(/prop "ttl"/);
    expect(stack.node.tryFindChild('env')).toBeUndefined();
    expect(synthJson(stack).resource).toBeUndefined();
  });

  test('addService errors name the environment and leave no service behind', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED });
    expect(errorOf(() => env.addService('api', { image: IMAGE }, { ingressPath: '/' }))).toBe(
      'test/env (PreviewEnvironment): prop "addService("api").ingressPath" is "/", which needs an Ingress, but the environment has no "ingress" prop. Set ingress: { baseDomain: "preview.example.internal" } on the PreviewEnvironment, or leave ingressPath out.',
    );
    expect(errorOf(() => env.addService('api', { image: IMAGE, port: 0 }))).toContain('test/env/api (GoService): prop "port" is 0');
    expect(env.node.tryFindChild('api')).toBeUndefined();
    expect(resourcesOf(synthJson(stack), 'kubernetes_deployment_v1')).toHaveLength(0);
  });

  test('two services cannot claim the same ingress path', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED, ingress: { baseDomain: 'p.internal' } });
    env.addService('web', { image: IMAGE }, { ingressPath: '/' });
    expect(errorOf(() => env.addService('web2', { image: IMAGE }, { ingressPath: '/' }))).toContain('which is already routed to service "web"');
    expect(errorOf(() => env.addService('web3', { image: IMAGE }, { ingressPath: 'api' }))).toContain('which is not an absolute path');
  });
});
