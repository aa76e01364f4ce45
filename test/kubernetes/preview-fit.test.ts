import { App, Testing } from 'cdktf';
import { AirgapStack, Container, Cpu, OfflineBundle, OfflineMirrorService, PreviewEnvironment, PreviewName, Size } from '../../lib';
import { dig, errorOf, newStack, onlyResource, resourcesOf, synthJson } from '../support/synth';

const IMAGE = `registry.internal/team/hello@sha256:${'ab'.repeat(32)}`;
const MIRROR_IMAGE = `registry.internal/airgap/offline-mirror@sha256:${'cd'.repeat(32)}`;
const BUNDLE = OfflineBundle.fromImage(`registry.internal/airgap/bundle@sha256:${'ef'.repeat(32)}`, { sha256sumsHash: 'a'.repeat(64) });
const CREATED = '2026-11-21T10:00:00Z';

function env(props: Partial<ConstructorParameters<typeof PreviewEnvironment>[2]> = {}) {
  const { app, stack } = newStack();
  const e = new PreviewEnvironment(stack, 'env', { branch: 'main', createdAt: CREATED, ...props });
  return { app, stack, env: e };
}

describe('PreviewEnvironment checks its services against its quota and LimitRange at synth', () => {
  test('50 replicas x 500m in a 2-CPU quota fail at synth, naming the service, the totals, the limit and the fix', () => {
    const { stack, env: e } = env({ quota: { pods: 100, limitsCpu: Cpu.cores(100), limitsMemory: Size.gibibytes(100), requestsMemory: Size.gibibytes(100) } });
    e.addService('api', { image: IMAGE, replicas: 50, resources: { cpu: { request: Cpu.millicores(500), limit: Cpu.millicores(500) } } });
    expect(errorOf(() => Testing.synth(stack))).toBe(
      'test/env (PreviewEnvironment): prop "quota.requestsCpu" is "2", which is below the 31500m of requests.cpu the services need during a rolling update ' +
        '(pods incl. 25% surge x per-pod requests, sidecars and emptyDirs included: api 63 x 500m). Raise quota.requestsCpu to at least 31500m, or lower the replicas or the requests.',
    );
  });

  test('sidecars, init containers and emptyDirs count: the namespace mirror needs its bundle on disk', () => {
    const { stack, env: e } = env({ quota: { requestsEphemeralStorage: Size.gibibytes(2), limitsEphemeralStorage: Size.gibibytes(16) } });
    new OfflineMirrorService(e, 'Mirror', { environment: e, image: MIRROR_IMAGE, bundle: BUNDLE });
    // bundle 2Gi + tools 64Mi + /tmp 64Mi + the mirror's own 16Mi, on 1 replica + 1 surge pod.
    expect(errorOf(() => Testing.synth(stack))).toContain(
      'prop "quota.requestsEphemeralStorage" is "2Gi", which is below the 4384Mi of requests.ephemeral-storage the services need during a rolling update (pods incl. 25% surge x per-pod requests, sidecars and emptyDirs included: offline-mirror 2 x 2192Mi)',
    );
  });

  test('a sidecar added through the pod model is counted', () => {
    const { stack, env: e } = env({ quota: { requestsMemory: Size.mebibytes(300), limitsMemory: Size.gibibytes(4) } });
    const svc = e.addService('api', { image: IMAGE, replicas: 2 });
    expect(() => Testing.synth(stack)).not.toThrow();
    svc.pod.addContainer(new Container({ name: 'proxy', image: IMAGE, resources: { memory: { request: Size.mebibytes(64), limit: Size.mebibytes(64) } } }));
    // 2 replicas + 1 surge, each 64Mi (api) + 64Mi (proxy).
    expect(errorOf(() => Testing.synth(stack))).toContain('prop "quota.requestsMemory" is "300Mi", which is below the 384Mi of requests.memory');
  });

  test('init containers count as Kubernetes counts them: the larger of the largest init container and the containers\' sum', () => {
    const { stack, env: e } = env({ quota: { requestsCpu: Cpu.millicores(1000) } });
    const svc = e.addService('api', { image: IMAGE, replicas: 1 });
    svc.pod.addInitContainer(new Container({ name: 'migrate', image: IMAGE, resources: { cpu: { request: Cpu.millicores(600), limit: Cpu.millicores(600) } } }));
    // max(100m, 600m) x (1 + 1 surge) = 1200m
    expect(errorOf(() => Testing.synth(stack))).toContain('prop "quota.requestsCpu" is "1", which is below the 1200m of requests.cpu');
  });

  test('pods: the rolling-update surge counts, and a quota of 0 pods with services is an error', () => {
    const a = env({ quota: { pods: 4 } });
    a.env.addService('api', { image: IMAGE, replicas: 4 });
    expect(errorOf(() => Testing.synth(a.stack))).toBe(
      'test/env (PreviewEnvironment): prop "quota.pods" is 4, which is below the 5 pods the services run during a rolling update (4 replicas + 25% surge: api 5). Raise quota.pods to at least 5, or lower the replicas.',
    );
    const b = env({ quota: { pods: 0 } });
    b.env.addService('api', { image: IMAGE, replicas: 0 });
    expect(errorOf(() => Testing.synth(b.stack))).toBe('test/env (PreviewEnvironment): prop "quota.pods" is 0, which allows no pod, but the environment has services (api). Raise quota.pods, or remove the services.');
  });

  test('each container against the LimitRange max and min', () => {
    const { stack, env: e } = env({ containerMax: { memory: Size.mebibytes(512) } });
    e.addService('api', { image: IMAGE, replicas: 1, resources: { memory: { request: Size.mebibytes(64), limit: Size.gibibytes(1) } } });
    expect(errorOf(() => Testing.synth(stack))).toContain(
      'prop "containerMax.memory" is "512Mi", which is below the memory limit 1Gi of the main container of GoService test/env/api, so the API server would refuse its pods. Raise containerMax.memory to at least 1Gi, or lower that container\'s limit.',
    );
    const low = env();
    low.env.addService('api', { image: IMAGE, replicas: 1, resources: { cpu: { request: Cpu.millicores(1) } } });
    expect(errorOf(() => Testing.synth(low.stack))).toContain('prop "containerMin.cpu" is "10m", which is above the cpu request 1m of the main container of GoService test/env/api');
  });

  test('what fits synthesizes, and the defaults fit a service and the namespace mirror', () => {
    const { stack, env: e } = env();
    e.addService('api', { image: IMAGE });
    new OfflineMirrorService(e, 'Mirror', { environment: e, image: MIRROR_IMAGE, bundle: BUNDLE });
    const json = synthJson(stack);
    const resources = resourcesOf(json, 'kubernetes_deployment_v1').map(([, d]) => dig(d, 'spec.template.spec.container.0.resources'));
    expect(resources).toContainEqual({ requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '80Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '128Mi' } });
    expect(dig(onlyResource(json, 'kubernetes_resource_quota_v1'), 'spec.hard.requests\\.ephemeral-storage')).toBeUndefined();
  });
});

describe('collisions are our errors, naming both construct paths', () => {
  test('two environments with one namespace name in an app', () => {
    const app = Testing.app();
    const { stack } = newStack();
    new PreviewEnvironment(stack, 'a', { branch: 'feature/x', createdAt: CREATED });
    expect(errorOf(() => new PreviewEnvironment(stack, 'b', { branch: 'feature/x', createdAt: CREATED }))).toBe(
      `test/b (PreviewEnvironment): prop "branch" is "feature/x", which maps to namespace "${PreviewName.dnsLabel('feature/x', { prefix: 'preview-' })}", which PreviewEnvironment test/a already creates. Give each environment its own branch or namespacePrefix; two environments in one namespace would fight over its objects.`,
    );
    expect(stack.node.tryFindChild('b')).toBeUndefined();
    // Another app is another world.
    const other = new AirgapStack(app, 'other');
    expect(() => new PreviewEnvironment(other, 'a', { branch: 'feature/x' })).not.toThrow();
    // So is a second stack of the same app not: one namespace name per app.
    const second = new AirgapStack(stack.node.root as App, 'second');
    expect(errorOf(() => new PreviewEnvironment(second, 'c', { branch: 'feature/x' }))).toContain('which PreviewEnvironment test/a already creates');
  });

  test('two services with one Kubernetes name, a duplicate id, and a service after synth', () => {
    const { stack, env: e } = env();
    e.addService('api', { image: IMAGE });
    expect(errorOf(() => e.addService('api2', { image: IMAGE, name: 'api' }))).toBe(
      'test/env (PreviewEnvironment): prop "addService("api2").name" is "api", which is the Kubernetes name of test/env/api already; two Deployments named "api" in namespace "preview-main" cannot both exist. Give each service its own name.',
    );
    expect(errorOf(() => e.addService('api', { image: IMAGE, name: 'other' }))).toBe(
      'test/env (PreviewEnvironment): prop "addService("api")" is "api", which is the id of test/env/api already. Give each service its own id.',
    );
    Testing.synth(stack);
    expect(errorOf(() => e.addService('late', { image: IMAGE }))).toBe(
      'test/env (PreviewEnvironment): prop "addService("late")" is "late", which comes after the environment was synthesized, so the synthesized output would lack it. Add every service before app.synth() or Testing.synth().',
    );
    expect(e.serviceList.map((s) => s.name)).toEqual(['api']);
  });

  test('a second namespace mirror, and a mirror id whose service id is taken', () => {
    const { env: e } = env();
    new OfflineMirrorService(e, 'Mirror', { environment: e, image: MIRROR_IMAGE, bundle: BUNDLE });
    expect(errorOf(() => new OfflineMirrorService(e, 'Mirror2', { environment: e, image: MIRROR_IMAGE, bundle: BUNDLE }))).toBe(
      'test/env/Mirror2 (OfflineMirrorService): prop "environment" is "test/env", which is already served by the namespace mirror test/env/Mirror. Serve a namespace with one OfflineMirrorService; its Service is shared by every pod there.',
    );
    expect(e.node.tryFindChild('Mirror2')).toBeUndefined();
    const other = env().env;
    other.addService('CacheService', { image: IMAGE, name: 'cache' });
    expect(errorOf(() => new OfflineMirrorService(other, 'Cache', { environment: other, image: MIRROR_IMAGE, bundle: BUNDLE }))).toBe(
      "test/env/Cache (OfflineMirrorService): prop \"id\" is \"Cache\", which would place the mirror's service at test/env/CacheService, which exists already. Give the mirror another id.",
    );
  });
});
