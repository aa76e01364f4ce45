import { TerraformVariable, Testing } from 'cdktf';
import {
  Container,
  EnvSource,
  EnvValue,
  GoService,
  NodeSelectorOperator,
  PreviewEnvironment,
  Probe,
  RegistryCredentials,
  ReplicaSpread,
  TaintEffect,
  TolerationOperator,
  Volume,
} from '../../lib';
import { dig, errorOf, newStack, onlyResource, resourceNamed, resourcesOf, synthJson } from '../support/synth';

const IMAGE = `registry.internal/team/hello@sha256:${'ab'.repeat(32)}`;
const CREATED = '2026-11-21T10:00:00Z';

function podOf(json: ReturnType<typeof synthJson>, name?: string): Record<string, unknown> {
  const deployment = name ? resourceNamed(json, 'kubernetes_deployment_v1', name) : onlyResource(json, 'kubernetes_deployment_v1');
  return dig(deployment, 'spec.template.spec') as Record<string, unknown>;
}

describe('config and secrets', () => {
  test('env from Secret and ConfigMap keys, envFrom, and read-only ConfigMap and Secret volumes', () => {
    const { stack } = newStack();
    new GoService(stack, 'api', {
      image: IMAGE,
      env: { LOG_LEVEL: 'info' },
      envValues: { DB_PASSWORD: EnvValue.fromSecretKey('db', 'password'), REGION: EnvValue.fromConfigMapKey('site', 'region', { optional: true }) },
      envFrom: [EnvSource.configMap('defaults', { prefix: 'APP_' }), EnvSource.secret('tokens')],
      mounts: { '/etc/app': Volume.configMap('config', 'app-config', { items: { 'app.yaml': 'app.yaml' } }), '/var/run/secrets/db': Volume.secret('db', 'db') },
    });
    const pod = podOf(synthJson(stack));
    const container = dig(pod, 'container.0') as Record<string, unknown>;
    expect(container.env).toEqual([
      { name: 'LOG_LEVEL', value: 'info' },
      { name: 'DB_PASSWORD', value_from: { secret_key_ref: { name: 'db', key: 'password', optional: false } } },
      { name: 'REGION', value_from: { config_map_key_ref: { name: 'site', key: 'region', optional: true } } },
    ]);
    expect(container.env_from).toEqual([
      { prefix: 'APP_', config_map_ref: { name: 'defaults', optional: false } },
      { secret_ref: { name: 'tokens', optional: false } },
    ]);
    expect(container.volume_mount).toEqual(
      expect.arrayContaining([
        { name: 'config', mount_path: '/etc/app', read_only: true },
        { name: 'db', mount_path: '/var/run/secrets/db', read_only: true },
      ]),
    );
    expect(pod.volume).toEqual(
      expect.arrayContaining([
        { name: 'config', config_map: { name: 'app-config', optional: false, default_mode: '0444', items: [{ key: 'app.yaml', path: 'app.yaml' }] } },
        { name: 'db', secret: { secret_name: 'db', optional: false, default_mode: '0440' } },
      ]),
    );
  });

  test('name clashes and bad references are refused, naming the prop', () => {
    const { stack } = newStack();
    expect(errorOf(() => new GoService(stack, 'a', { image: IMAGE, env: { X: '1' }, envValues: { X: EnvValue.fromSecretKey('s', 'k') } }))).toContain('test/a (GoService): prop "envValues["X"]" is "X", which is also set in env. Set "X" once: in env or in envValues.');
    expect(errorOf(() => new GoService(stack, 'b', { image: IMAGE, envValues: { X: EnvValue.fromSecretKey('Bad_Name', 'k') } }))).toContain('prop "env["X"].secretName" is "Bad_Name"');
    expect(errorOf(() => new GoService(stack, 'c', { image: IMAGE, envValues: { X: EnvValue.fromConfigMapKey('cm', 'bad key') } }))).toContain('prop "env["X"].key" is "bad key", which is not a ConfigMap key');
    expect(errorOf(() => new GoService(stack, 'd', { image: IMAGE, envFrom: [EnvSource.secret('s', { prefix: '1X' })] }))).toContain('prop "envFrom[0].prefix" is "1X"');
    expect(errorOf(() => new GoService(stack, 'e', { image: IMAGE, mounts: { '/tmp': Volume.secret('s', 's') } }))).toContain('prop "mount path" is "/tmp", which already holds volume "tmp"');
    const c = new Container({ name: 'x', image: IMAGE });
    c.addEnvFrom(EnvSource.secret('s'));
    const svc = new GoService(stack, 'f', { image: IMAGE });
    svc.pod.addContainer(c);
    expect(errorOf(() => c.addEnvFrom(EnvSource.secret('s')))).toContain('prop "envFrom" is "s", which is already read by container "x" of GoService test/f');
    expect(errorOf(() => c.addEnvValue('Y', 'text' as unknown as EnvValue))).toContain('prop "env["Y"]" is "text", which is not an EnvValue. Use EnvValue.fromValue("text")');
    const secretVolume = Volume.secret('creds', 'creds');
    svc.pod.addVolume(secretVolume);
    expect(errorOf(() => c.mount('/creds', secretVolume, { readOnly: false }))).toContain('prop "mount readOnly" is false, which is refused for volume "creds": ConfigMap and Secret volumes are mounted read-only');
    for (const id of ['a', 'b', 'c', 'd', 'e']) expect(stack.node.tryFindChild(id)).toBeUndefined();
  });

  test('a probe on a port the container does not declare is refused', () => {
    const { stack } = newStack();
    expect(errorOf(() => new GoService(stack, 'api', { image: IMAGE, readiness: Probe.http('/ready', { port: 9999 }) }))).toBe(
      'test/api (GoService): prop "readiness.port" is 9999, which is not a port the container declares (8080). Probe one of 8080, or declare 9999 on the container.',
    );
    const svc = new GoService(stack, 'ok', { image: IMAGE, metrics: { port: 9090 }, liveness: Probe.http('/metrics', { port: 9090 }) });
    expect(svc.metricsPort).toBe(9090);
    expect(errorOf(() => svc.pod.addContainer(new Container({ name: 'side', image: IMAGE, liveness: Probe.tcp() })))).toContain('prop "container "side" liveness" is "tcp", which probes a port, but the container declares none');
  });
});

describe('scheduling', () => {
  test('replicas prefer different nodes by default; one replica gets no affinity', () => {
    const { stack } = newStack();
    new GoService(stack, 'api', { image: IMAGE });
    new GoService(stack, 'one', { image: IMAGE, replicas: 1 });
    const json = synthJson(stack);
    expect(dig(podOf(json, 'api'), 'affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution')).toEqual([
      { weight: 100, pod_affinity_term: { topology_key: 'kubernetes.io/hostname', label_selector: [{ match_labels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' } }] } },
    ]);
    expect(podOf(json, 'one').affinity).toBeUndefined();
  });

  test('node selector, tolerations, node affinity, priority class and a topology spread render', () => {
    const { stack } = newStack();
    new GoService(stack, 'api', {
      image: IMAGE,
      replicas: 3,
      scheduling: {
        nodeSelector: { 'kubernetes.io/arch': 'amd64' },
        tolerations: [{ key: 'dedicated', value: 'preview', effect: TaintEffect.NO_SCHEDULE }, { operator: TolerationOperator.EXISTS, effect: TaintEffect.NO_EXECUTE, tolerationSeconds: 60 }],
        requiredNodeLabels: [{ key: 'topology.kubernetes.io/zone', operator: NodeSelectorOperator.IN, values: ['a', 'b'] }],
        preferredNodeLabels: [{ weight: 10, requirements: [{ key: 'disk', operator: NodeSelectorOperator.EXISTS }] }],
        priorityClassName: 'preview-low',
        spread: ReplicaSpread.topologySpread({ topologyKey: 'topology.kubernetes.io/zone' }),
      },
    });
    const pod = podOf(synthJson(stack));
    expect(pod.node_selector).toEqual({ 'kubernetes.io/arch': 'amd64' });
    expect(pod.toleration).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'preview', effect: 'NoSchedule' },
      { operator: 'Exists', effect: 'NoExecute', toleration_seconds: '60' },
    ]);
    expect(pod.priority_class_name).toBe('preview-low');
    expect(dig(pod, 'affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_term.0.match_expressions')).toEqual([{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a', 'b'] }]);
    expect(dig(pod, 'affinity.node_affinity.preferred_during_scheduling_ignored_during_execution.0')).toEqual({ weight: 10, preference: { match_expressions: [{ key: 'disk', operator: 'Exists' }] } });
    expect(dig(pod, 'affinity.pod_anti_affinity')).toBeUndefined();
    expect(pod.topology_spread_constraint).toEqual([
      { max_skew: 1, topology_key: 'topology.kubernetes.io/zone', when_unsatisfiable: 'ScheduleAnyway', label_selector: [{ match_labels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' } }] },
    ]);
  });

  test('bad scheduling input is refused, naming the prop', () => {
    const { stack } = newStack();
    const bad = (scheduling: object) => errorOf(() => new GoService(stack, 'api', { image: IMAGE, scheduling }));
    expect(bad({ tolerations: [{ value: 'x' }] })).toContain('prop "scheduling.tolerations[0].key" is undefined, which is missing, which only operator EXISTS allows');
    expect(bad({ tolerations: [{ key: 'k', tolerationSeconds: 5 }] })).toContain('prop "scheduling.tolerations[0].tolerationSeconds" is 5, which is set, and only effect NO_EXECUTE uses it');
    expect(bad({ requiredNodeLabels: [{ key: 'zone', operator: NodeSelectorOperator.IN }] })).toContain('prop "scheduling.requiredNodeLabels[0].values" is [], which is empty, and In needs values');
    expect(bad({ preferredNodeLabels: [{ weight: 500, requirements: [] }] })).toContain('prop "scheduling.preferredNodeLabels[0].weight" is 500');
    expect(bad({ priorityClassName: 'Low' })).toContain('prop "scheduling.priorityClassName" is "Low"');
    expect(bad({ spread: ReplicaSpread.topologySpread({ maxSkew: 0 }) })).toContain('prop "scheduling.spread.maxSkew" is 0');
    expect(bad({ nodeSelector: { 'bad key': 'x' } })).toContain('prop "scheduling.nodeSelector key" is "bad key"');
  });
});

describe('metrics', () => {
  test('a metrics port gets scrape annotations, and the environment allows only the monitoring namespace to it', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED, monitoring: { namespace: 'observability', podLabels: { app: 'prometheus' } } });
    env.addService('api', { image: IMAGE, metrics: { port: 9090 } });
    env.addService('same', { image: IMAGE, metrics: {} });
    env.addService('none', { image: IMAGE });
    const json = synthJson(stack);
    const api = resourceNamed(json, 'kubernetes_deployment_v1', 'api');
    expect(dig(api, 'spec.template.metadata.annotations')).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' });
    expect(dig(api, 'spec.template.spec.container.0.port')).toEqual([
      { name: 'http', container_port: 8080, protocol: 'TCP' },
      { name: 'metrics', container_port: 9090, protocol: 'TCP' },
    ]);
    expect(dig(resourceNamed(json, 'kubernetes_deployment_v1', 'same'), 'spec.template.spec.container.0.port')).toHaveLength(1);
    expect(dig(resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-monitoring-api'), 'spec')).toEqual({
      pod_selector: { match_labels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' } },
      policy_types: ['Ingress'],
      ingress: [{ from: [{ namespace_selector: { match_labels: { 'kubernetes.io/metadata.name': 'observability' } }, pod_selector: { match_labels: { app: 'prometheus' } } }], ports: [{ port: '9090', protocol: 'TCP' }] }],
    });
    const names = resourcesOf(json, 'kubernetes_network_policy_v1').map(([, p]) => dig(p, 'metadata.name'));
    expect(names).toContain('allow-monitoring-same');
    expect(names).not.toContain('allow-monitoring-none');
    expect(dig(resourceNamed(json, 'kubernetes_deployment_v1', 'none'), 'spec.template.metadata.annotations')).toBeUndefined();
  });

  test('a bad metrics port or path is refused', () => {
    const { stack } = newStack();
    expect(errorOf(() => new GoService(stack, 'a', { image: IMAGE, metrics: { port: 70000 } }))).toContain('prop "metrics.port" is 70000');
    expect(errorOf(() => new GoService(stack, 'b', { image: IMAGE, metrics: { path: 'metrics' } }))).toContain('prop "metrics.path" is "metrics", which is not an absolute HTTP path');
  });
});

describe('registry credentials', () => {
  test('the dockerconfigjson Secret comes from a sensitive variable; the output holds only references', () => {
    const { stack } = newStack();
    const password = new TerraformVariable(stack, 'registry_password', { type: 'string', sensitive: true });
    const env = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED, imagePullSecrets: ['shared-pull'] });
    const before = env.addService('api', { image: IMAGE, imagePullSecrets: ['own-pull'] });
    const credentials = env.addRegistryCredentials('Pull', { registry: 'registry.internal:5000', username: 'preview', password });
    env.addService('web', { image: IMAGE });
    const out = Testing.synth(stack);
    const json = JSON.parse(out) as ReturnType<typeof synthJson>;
    const secret = onlyResource(json, 'kubernetes_secret_v1');
    expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
    expect(dig(secret, 'data')).toEqual({
      '.dockerconfigjson': '${jsonencode({"auths" = {"registry.internal:5000" = {"username" = "preview", "password" = var.registry_password, "auth" = base64encode(join(":", ["preview", var.registry_password]))}}})}',
    });
    expect(out).toContain('"sensitive": true');
    expect(credentials.secretName).toBe('registry-credentials');
    // Services added before and after both pull with it.
    expect(dig(podOf(json, 'api'), 'image_pull_secrets')).toEqual([{ name: 'shared-pull' }, { name: 'own-pull' }, { name: 'registry-credentials' }]);
    expect(dig(podOf(json, 'web'), 'image_pull_secrets')).toEqual([{ name: 'shared-pull' }, { name: 'registry-credentials' }]);
    expect(before.pod.imagePullSecrets).toContain('registry-credentials');
  });

  test('a literal or non-sensitive password is refused, and a literal is never echoed', () => {
    const { stack } = newStack();
    const literal = errorOf(() => new RegistryCredentials(stack, 'a', { namespace: 'ns', registry: 'registry.internal', username: 'u', password: 'hunter2-secret' as unknown as TerraformVariable }));
    expect(literal).toContain('test/a (RegistryCredentials): prop "password" is "<a literal string, not shown>", which is not a TerraformVariable');
    expect(literal).not.toContain('hunter2');
    const plain = new TerraformVariable(stack, 'plain', { type: 'string' });
    expect(errorOf(() => new RegistryCredentials(stack, 'b', { namespace: 'ns', registry: 'registry.internal', username: 'u', password: plain }))).toContain('which is not declared sensitive: true');
    const pw = new TerraformVariable(stack, 'pw', { type: 'string', sensitive: true });
    expect(errorOf(() => new RegistryCredentials(stack, 'c', { namespace: 'ns', registry: 'https://registry.internal', username: 'u', password: pw }))).toContain('prop "registry" is "https://registry.internal", which is not a registry host[:port]');
    expect(stack.node.tryFindChild('a')).toBeUndefined();
  });
});
