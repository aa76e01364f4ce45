import { Testing } from 'cdktf';
import { ChecksumDatabase, Cpu, GoService, OfflineBundle, OfflineMirror, OfflineMirrorProps, OfflineMirrorService, PreviewEnvironment, Size } from '../../lib';
import '../../lib/testing';
import { PolicyChecks } from '../../lib';
import { Container, containersOf } from '../support/synth';
import { dig, errorOf, newStack, onlyResource, resourceNamed, resourcesOf, synthJson } from '../support/synth';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const HASH = 'ab'.repeat(32);
const APP = `registry.internal/team/hello@${DIGEST}`;
const MIRROR = `registry.internal/mirror/offline-mirror@${DIGEST}`;
const BUNDLE = `registry.internal/mirror/bundle@${DIGEST}`;

function mirrorProps(props: Partial<OfflineMirrorProps> = {}): OfflineMirrorProps {
  return { image: MIRROR, bundle: OfflineBundle.fromImage(BUNDLE, { sha256sumsHash: HASH }), ...props };
}

function sidecarPod(props: Partial<OfflineMirrorProps> = {}) {
  const { stack } = newStack();
  const service = new GoService(stack, 'api', { image: APP, env: { LOG_LEVEL: 'info' } });
  service.addExtension(new OfflineMirror(stack, 'GoMirror', mirrorProps(props)));
  const json = synthJson(stack);
  return { stack, json, pod: dig(onlyResource(json, 'kubernetes_deployment_v1'), 'spec.template.spec') as Record<string, unknown> };
}

const byName = (list: unknown, name: string) => (list as Container[]).find((c) => c.name === name) as Container;
const envOf = (c: Container) => Object.fromEntries(((c.env as Array<{ name: string; value: string }>) ?? []).map((e) => [e.name, e.value]));

describe('OfflineMirror as a sidecar', () => {
  test('snapshot, with the pieces that matter pinned beside it', () => {
    const { stack, pod } = sidecarPod();
    expect(Testing.synth(stack)).toMatchSnapshot();

    const server = byName(pod.container, 'offline-mirror');
    expect(server.image).toBe(MIRROR);
    expect(server.args).toEqual(['-bundle', '/var/run/offline-mirror/bundle', '-listen', '127.0.0.1:8686', '-sha256sums-hash', HASH]);
    // The kubelet cannot reach 127.0.0.1 in the pod, so the probes run the server's own checker.
    expect(dig(server, 'readiness_probe.exec.command')).toEqual(['/usr/local/bin/offline-mirror', '-healthcheck', 'http://127.0.0.1:8686/readyz']);
    expect(dig(server, 'liveness_probe.exec.command')).toEqual(['/usr/local/bin/offline-mirror', '-healthcheck', 'http://127.0.0.1:8686/healthz']);
    expect(server.volume_mount).toEqual([{ name: 'offline-mirror-bundle', mount_path: '/var/run/offline-mirror/bundle', read_only: true }]);
    // The 2Gi bundle is charged to the sidecar that mounts it; the tools volume, which only init containers mount, to the main container.
    expect(dig(server, 'resources')).toEqual({ requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': '2064Mi' }, limits: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '2112Mi' } });
    expect(dig(byName(pod.container, 'api'), 'resources.requests.ephemeral-storage')).toBe('144Mi');
    expect(dig(pod, 'affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution.0.pod_affinity_term.topology_key')).toBe('kubernetes.io/hostname');

    const [tools, bundle] = pod.init_container as Container[];
    expect(tools).toMatchObject({ name: 'offline-mirror-tools', image: MIRROR, args: ['-install-self', '/var/run/offline-mirror/tools/offline-mirror'] });
    expect(bundle).toMatchObject({
      name: 'offline-mirror-bundle',
      image: BUNDLE,
      command: ['/var/run/offline-mirror/tools/offline-mirror'],
      args: ['-install', '/bundle', '-to', '/var/run/offline-mirror/bundle', '-sha256sums-hash', HASH],
    });
    expect((pod.volume as Container[]).map((v) => [v.name, dig(v, 'empty_dir.size_limit')])).toEqual([
      ['tmp', '64Mi'],
      ['offline-mirror-bundle', '2Gi'],
      ['offline-mirror-tools', '64Mi'],
    ]);
    for (const c of containersOf(pod)) expect(c.image_pull_policy).toBe('IfNotPresent');
  });

  test('the main container gets GOPROXY (no fallback), GOSUMDB through the mirror, GOTOOLCHAIN and GOFLAGS, beside its own env', () => {
    const { pod } = sidecarPod();
    expect(envOf(byName(pod.container, 'api'))).toEqual({
      LOG_LEVEL: 'info',
      GOPROXY: 'http://127.0.0.1:8686,off',
      GOSUMDB: 'sum.golang.org http://127.0.0.1:8686/sumdb/sum.golang.org',
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-mod=mod',
    });
    expect(byName(pod.container, 'offline-mirror').env).toBeUndefined();
  });

  test('private modules skip the checksum database through GONOSUMDB; the port moves everything', () => {
    const { pod } = sidecarPod({ port: 9000, checksumDatabase: ChecksumDatabase.privateModules(['git.internal/*', 'example.com/private']) });
    expect(envOf(byName(pod.container, 'api'))).toMatchObject({
      GOPROXY: 'http://127.0.0.1:9000,off',
      GOSUMDB: 'sum.golang.org http://127.0.0.1:9000/sumdb/sum.golang.org',
      GONOSUMDB: 'git.internal/*,example.com/private',
    });
    expect(byName(pod.container, 'offline-mirror').args).toContain('127.0.0.1:9000');
  });

  describe('every container, init containers included, satisfies Pod Security "restricted"', () => {
    const { pod, stack } = sidecarPod();
    test('the pod has the sidecar and both init containers', () => {
      expect(containersOf(pod).map((c) => c.name)).toEqual(['api', 'offline-mirror', 'offline-mirror-tools', 'offline-mirror-bundle']);
    });
    test('the restricted pack finds nothing, in any of the four containers, and neither do the other packs', () => {
      expect(stack).toPassRestrictedPack();
      expect(PolicyChecks.of(stack)?.findings).toEqual([]);
    });
    test('read-only root filesystems and uid 65532 everywhere', () => {
      for (const c of containersOf(pod)) {
        expect(dig(c, 'security_context.read_only_root_filesystem')).toBe(true);
        expect(dig(c, 'security_context.run_as_user')).toBe('65532');
      }
    });
  });
});

describe('OfflineMirrorService: the mirror for a whole namespace', () => {
  test('a GoService of its own, reachable from the namespace on its port only; jobs get the Service URL', () => {
    const { stack } = newStack();
    const env = new PreviewEnvironment(stack, 'Preview', { branch: 'feature/x', createdAt: '2026-11-22T10:00:00Z' });
    const served = new OfflineMirrorService(stack, 'GoMirror', { ...mirrorProps(), environment: env });
    const json = synthJson(stack);
    const ns = env.namespaceName;

    expect(served.goEnv).toEqual({
      GOPROXY: `http://offline-mirror.${ns}.svc:8686,off`,
      GOSUMDB: `sum.golang.org http://offline-mirror.${ns}.svc:8686/sumdb/sum.golang.org`,
      GOTOOLCHAIN: 'local',
      GOFLAGS: '-mod=mod',
    });
    const deployment = resourceNamed(json, 'kubernetes_deployment_v1', 'offline-mirror');
    const pod = dig(deployment, 'spec.template.spec') as Record<string, unknown>;
    const server = byName(pod.container, 'offline-mirror');
    expect(server.args).toEqual(['-bundle', '/var/run/offline-mirror/bundle', '-listen', '0.0.0.0:8686', '-sha256sums-hash', HASH]);
    expect(server.volume_mount).toContainEqual({ name: 'offline-mirror-bundle', mount_path: '/var/run/offline-mirror/bundle', read_only: true });
    expect((pod.init_container as Container[]).map((c) => c.name)).toEqual(['offline-mirror-tools', 'offline-mirror-bundle']);
    expect(pod.service_account_name).toBeDefined();
    expect(PolicyChecks.check('kubernetes_deployment_v1', deployment)).toEqual([]);

    const policy = resourceNamed(json, 'kubernetes_network_policy_v1', 'allow-offline-mirror');
    expect(dig(policy, 'spec.pod_selector.match_labels')).toMatchObject({ 'app.kubernetes.io/name': 'offline-mirror' });
    // The environment's own pods, never `pod_selector {}`.
    expect(dig(policy, 'spec.ingress.0')).toEqual({
      from: [{ pod_selector: { match_labels: { 'app.kubernetes.io/managed-by': 'terraform', 'app.kubernetes.io/part-of': 'preview' } } }],
      ports: [{ port: '8686', protocol: 'TCP' }],
    });
    const service = resourceNamed(json, 'kubernetes_service_v1', 'offline-mirror');
    expect(dig(service, 'spec.port.0.port')).toBe(8686);
    expect(resourcesOf(json, 'kubernetes_deployment_v1')).toHaveLength(1);
  });
});

describe('OfflineMirror errors name the construct, the prop, the value and the fix', () => {
  test('a port the main container already listens on', () => {
    const { stack } = newStack();
    const service = new GoService(stack, 'api', { image: APP, port: 8080 });
    const mirror = new OfflineMirror(stack, 'GoMirror', mirrorProps({ port: 8080 }));
    const message = errorOf(() => service.addExtension(mirror));
    expect(message).toContain('test/GoMirror (OfflineMirror): prop "port" is 8080');
    expect(message).toContain('the main container of GoService test/api already listens on');
    expect(message).toContain('Pick a free port, such as 8081');
    // Nothing half-made: the Deployment is as it was.
    const pod = dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec') as Record<string, unknown>;
    expect(containersOf(pod).map((c) => c.name)).toEqual(['api']);
  });

  test('two mirrors in one pod', () => {
    const { stack } = newStack();
    const service = new GoService(stack, 'api', { image: APP });
    service.addExtension(new OfflineMirror(stack, 'One', mirrorProps()));
    // The second mirror's volumes, containers and port all clash; the first clash is reported, and nothing of it stays.
    expect(errorOf(() => service.addExtension(new OfflineMirror(stack, 'Two', mirrorProps())))).toContain(
      'test/Two (OfflineMirror): prop "volume name" is "offline-mirror-bundle", which is already a volume of GoService test/api',
    );
    expect(service.pod.containers.map((c) => c.name)).toEqual(['api', 'offline-mirror']);
    expect(service.pod.portUser(8686)).toBe('OfflineMirror test/One');
  });

  test('an env the service already sets', () => {
    const { stack } = newStack();
    const service = new GoService(stack, 'api', { image: APP, env: { GOPROXY: 'https://proxy.golang.org' } });
    expect(errorOf(() => service.addExtension(new OfflineMirror(stack, 'GoMirror', mirrorProps())))).toContain(
      'test/GoMirror (OfflineMirror): prop "env" is "GOPROXY", which is already set on the main container of GoService test/api.',
    );
  });

  test.each<[string, Partial<OfflineMirrorProps>, RegExp]>([
    ['bundle image without a digest', { bundle: OfflineBundle.fromImage('registry.internal/mirror/bundle:v1', { sha256sumsHash: HASH }) }, /prop "bundle.image" is "registry.internal\/mirror\/bundle:v1", which is not pinned by digest.*Pin it: registry.internal\/mirror\/bundle@sha256:<digest/],
    ['missing manifest hash', { bundle: OfflineBundle.fromImage(BUNDLE, { sha256sumsHash: '' }) }, /prop "bundle.sha256sumsHash" is "", which is missing; without it a swapped SHA256SUMS would go unnoticed\. Pass the hash offline-bundle printed/],
    ['malformed manifest hash', { bundle: OfflineBundle.fromImage(BUNDLE, { sha256sumsHash: 'ABC' }) }, /prop "bundle.sha256sumsHash" is "ABC", which is not 64 lowercase hex digits/],
    ['bad emptyDir size', { bundle: OfflineBundle.fromImage(BUNDLE, { sha256sumsHash: HASH, sizeLimit: Size.bytes(-1) }) }, /prop "bundle.sizeLimit" is Size.bytes\(-1\), which is not a whole, non-negative number of bytes/],
    ['mirror image without a digest', { image: 'registry.internal/mirror/offline-mirror:latest' }, /prop "image" is "registry.internal\/mirror\/offline-mirror:latest", which is not pinned by digest/],
    ['port out of range', { port: 70000 }, /prop "port" is 70000/],
    ['private pattern with a comma', { checksumDatabase: ChecksumDatabase.privateModules(['a/*,b/*']) }, /prop "checksumDatabase.privatePatterns" is "a\/\*,b\/\*", which is not a module path glob/],
    ['request above limit', { resources: { cpu: { request: Cpu.cores(1), limit: Cpu.millicores(100) } } }, /prop "resources.cpu.request" is Cpu.cores\(1\), which is greater than the limit Cpu.millicores\(100\)/],
  ])('%s', (_name, props, re) => {
    const { stack } = newStack();
    const message = errorOf(() => new OfflineMirror(stack, 'GoMirror', mirrorProps(props)));
    expect(message).toMatch(/^test\/GoMirror \(OfflineMirror\)/m);
    expect(message).toMatch(re);
    expect(stack.node.tryFindChild('GoMirror')).toBeUndefined();
  });
});
