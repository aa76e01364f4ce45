import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { Testing, TerraformVariable } from 'cdktf';
import { AirgapError, ContainerSecurityContext, Cpu, Duration, GoService, GoServiceProps, PodSecurityOptOut, Probe, RestrictedControl, Size } from '../../lib';
import '../../lib/testing';
import { PolicyChecks } from '../../lib';
import { Container } from '../support/synth';
import { dig, errorOf, newStack, onlyResource, resourcesOf, synthJson } from '../support/synth';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const IMAGE = `registry.internal/team/hello@${DIGEST}`;

function synthService(props: Partial<GoServiceProps> = {}, id = 'api') {
  const { stack } = newStack();
  const service = new GoService(stack, id, { image: IMAGE, ...props });
  return { stack, service, json: synthJson(stack) };
}

function podSpec(props: Partial<GoServiceProps> = {}): Record<string, unknown> {
  const { json } = synthService(props);
  return dig(onlyResource(json, 'kubernetes_deployment_v1'), 'spec.template.spec') as Record<string, unknown>;
}

describe('GoService defaults satisfy every Pod Security "restricted" control', () => {
  const variants: Array<[string, Partial<GoServiceProps>]> = [
    ['defaults', {}],
    ['one replica, tcp probes, startup probe, env', { replicas: 1, liveness: Probe.tcp(), readiness: Probe.tcp(), startup: Probe.http('/healthz', { failureThreshold: 30 }), env: { A: 'b' } }],
    ['NET_BIND_SERVICE added, writable root', { securityContext: new ContainerSecurityContext({ addCapabilities: ['NET_BIND_SERVICE'], readOnlyRootFilesystem: false }), port: 80 }],
  ];
  test.each(variants)('%s: the restricted, air-gap and hygiene packs find nothing', (_variant, props) => {
    const { stack } = synthService(props);
    expect(stack).toPassRestrictedPack();
    expect(stack).toPassAirgapPack();
    expect(PolicyChecks.of(stack)?.findings).toEqual([]);
  });

  test('the pack can fail: a root opt-out breaks the non-root controls, and only the opt-out lets it through', () => {
    const props = { securityContext: new ContainerSecurityContext({ user: 0 }), podSecurityOptOut: PodSecurityOptOut.allow('legacy image needs root for a migration', RestrictedControl.RUN_AS_ROOT) };
    const { stack } = synthService(props);
    const findings = PolicyChecks.of(stack)?.findings ?? [];
    expect([...new Set(findings.map((f) => f.rule))]).toEqual(['PS14-run-as-non-root', 'PS15-run-as-user']);
    expect(new Set(findings.map((f) => f.suppressedBecause))).toEqual(new Set(['PodSecurityOptOut: legacy image needs root for a migration']));
    expect(stack).toPassRestrictedPack();
    expect(Testing.synth(stack)).not.toPassRestrictedPack();
  });
});

describe('GoService output', () => {
  test('snapshot, with the properties that matter pinned beside it', () => {
    const { stack, json } = synthService();
    expect(Testing.synth(stack)).toMatchSnapshot();

    const deployment = onlyResource(json, 'kubernetes_deployment_v1');
    expect(dig(deployment, 'metadata.namespace')).toBe('default');
    expect(dig(deployment, 'spec.replicas')).toBe('2');
    expect(dig(deployment, 'spec.strategy')).toEqual({ type: 'RollingUpdate', rolling_update: { max_surge: '25%', max_unavailable: '0' } });
    const pod = dig(deployment, 'spec.template.spec') as Record<string, unknown>;
    expect(pod.automount_service_account_token).toBe(false);
    expect(pod.security_context).toEqual({
      run_as_non_root: true,
      run_as_user: '65532',
      run_as_group: '65532',
      fs_group: '65532',
      seccomp_profile: { type: 'RuntimeDefault' },
    });
    const container = (pod.container as Container[])[0];
    expect(container.image).toBe(IMAGE);
    expect(container.image_pull_policy).toBe('IfNotPresent');
    expect(container.security_context).toEqual({
      run_as_non_root: true,
      run_as_user: '65532',
      run_as_group: '65532',
      allow_privilege_escalation: false,
      privileged: false,
      read_only_root_filesystem: true,
      capabilities: { drop: ['ALL'] },
      seccomp_profile: { type: 'RuntimeDefault' },
    });
    expect(dig(container, 'liveness_probe.http_get')).toEqual({ path: '/healthz', port: '8080', scheme: 'HTTP' });
    expect(dig(container, 'readiness_probe.http_get')).toEqual({ path: '/readyz', port: '8080', scheme: 'HTTP' });
    expect(container.startup_probe).toBeUndefined();
    // Ephemeral storage: 16Mi/64Mi for logs, plus the 64Mi /tmp emptyDir the container is charged for.
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '80Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '128Mi' } });
    expect(container.volume_mount).toEqual([{ name: 'tmp', mount_path: '/tmp' }]);
    expect(pod.volume).toEqual([{ name: 'tmp', empty_dir: { size_limit: '64Mi' } }]);

    expect(Testing.synth(stack)).toHaveResourceWithProperties(ServiceV1, {
      spec: { type: 'ClusterIP', port: [{ name: 'http', port: 80, target_port: 'http', protocol: 'TCP' }], selector: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' } },
    });
    expect(dig(onlyResource(json, 'kubernetes_pod_disruption_budget_v1'), 'spec')).toEqual({
      max_unavailable: '1',
      selector: { match_labels: { 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' } },
    });
  });

  test('the cdktf matchers see the security fields too', () => {
    const { stack } = synthService();
    // The jest adapter matches nested blocks exactly unless told otherwise.
    expect(Testing.synth(stack)).toHaveResourceWithProperties(DeploymentV1, {
      spec: expect.objectContaining({
        template: expect.objectContaining({
          spec: expect.objectContaining({ automount_service_account_token: false, host_network: false, host_pid: false, host_ipc: false }),
        }),
      }),
    });
    expect(Testing.synth(stack)).not.toHaveResourceWithProperties(DeploymentV1, {
      spec: expect.objectContaining({ template: expect.objectContaining({ spec: expect.objectContaining({ host_network: true }) }) }),
    });
  });

  test('a PodDisruptionBudget exists only above one replica', () => {
    expect(resourcesOf(synthService({ replicas: 1 }).json, 'kubernetes_pod_disruption_budget_v1')).toHaveLength(0);
    expect(resourcesOf(synthService({ replicas: 0 }).json, 'kubernetes_pod_disruption_budget_v1')).toHaveLength(0);
    expect(resourcesOf(synthService({ replicas: 3 }).json, 'kubernetes_pod_disruption_budget_v1')).toHaveLength(1);
  });

  test('props reach the container', () => {
    const spec = podSpec({
      name: 'billing',
      port: 9000,
      servicePort: 8443,
      env: { LOG_LEVEL: 'debug', 'my.var': 'x' },
      args: ['--flag'],
      resources: { cpu: { request: Cpu.millicores(250) }, memory: { limit: Size.gibibytes(1) } },
      startup: Probe.http('/startz', { failureThreshold: 30 }),
      tmpSizeLimit: Size.mebibytes(16),
      terminationGracePeriod: Duration.seconds(45),
      serviceAccountName: 'billing-sa',
    });
    const container = (spec.container as Container[])[0];
    expect(container.name).toBe('billing');
    expect(container.port).toEqual([{ name: 'http', container_port: 9000, protocol: 'TCP' }]);
    expect(container.env).toEqual([{ name: 'LOG_LEVEL', value: 'debug' }, { name: 'my.var', value: 'x' }]);
    expect(container.args).toEqual(['--flag']);
    expect(container.resources).toEqual({ requests: { cpu: '250m', memory: '64Mi', 'ephemeral-storage': '32Mi' }, limits: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '80Mi' } });
    expect(dig(container, 'startup_probe.http_get.path')).toBe('/startz');
    expect(dig(container, 'liveness_probe.http_get.port')).toBe('9000');
    expect(spec.termination_grace_period_seconds).toBe(45);
    expect(spec.service_account_name).toBe('billing-sa');
    expect(spec.volume).toEqual([{ name: 'tmp', empty_dir: { size_limit: '16Mi' } }]);
  });

  test('selector labels cannot be overridden by user labels', () => {
    const { json, service } = synthService({ labels: { 'app.kubernetes.io/name': 'evil', team: 'payments' } });
    const labels = dig(onlyResource(json, 'kubernetes_deployment_v1'), 'spec.template.metadata.labels');
    expect(labels).toMatchObject({ 'app.kubernetes.io/name': 'api', team: 'payments' });
    expect(service.selectorLabels).toEqual({ 'app.kubernetes.io/name': 'api', 'app.kubernetes.io/instance': 'api' });
  });

  test('a Terraform reference is accepted as the image', () => {
    const { stack } = newStack();
    const image = new TerraformVariable(stack, 'image', { type: 'string' });
    new GoService(stack, 'api', { image: image.stringValue });
    const container = dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec.container.0') as Container;
    expect(container.image).toBe('${var.image}');
  });

  test('a tag-only image synthesizes with a warning naming the digest form', () => {
    const { stack, service } = synthService({ image: 'registry.internal/team/hello:1.0.0' });
    expect(service.node.metadata.map((m) => m.data)).toEqual([expect.stringContaining('not pinned by digest')]);
    expect(dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec.container.0.image')).toBe('registry.internal/team/hello:1.0.0');
  });

  test('escape hatches expose the provider resources', () => {
    const { service, stack } = synthService();
    service.deployment.addOverride('spec.template.spec.priority_class_name', 'preview-low');
    expect(dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec.priority_class_name')).toBe('preview-low');
    expect(service.service.metadata.name).toBeDefined();
    expect(service.podDisruptionBudget).toBeDefined();
  });
});

describe('GoService guarded overrides', () => {
  test.each([
    [{ securityContext: new ContainerSecurityContext({ user: 0 }) }, 'securityContext.user', 'RUN_AS_ROOT'],
    [{ securityContext: new ContainerSecurityContext({ allowPrivilegeEscalation: true }) }, 'securityContext.allowPrivilegeEscalation', 'PRIVILEGE_ESCALATION'],
    [{ securityContext: new ContainerSecurityContext({ addCapabilities: ['SYS_ADMIN'] }) }, 'securityContext.addCapabilities', 'CAPABILITIES'],
  ] as Array<[Partial<GoServiceProps>, string, string]>)('%j is refused without its named opt-out', (props, prop, control) => {
    const message = errorOf(() => synthService(props));
    expect(message).toContain(`test/api (GoService): prop "${prop}"`);
    expect(message).toContain('Pod Security "restricted"');
    expect(message).toContain(`RestrictedControl.${control}`);
  });

  test('an opt-out for another control does not cover this one', () => {
    const message = errorOf(() =>
      synthService({ securityContext: new ContainerSecurityContext({ user: 0 }), podSecurityOptOut: PodSecurityOptOut.allow('needs to bind raw sockets', RestrictedControl.CAPABILITIES) }),
    );
    expect(message).toContain('prop "securityContext.user" is 0, which runs the container as root');
  });

  test('a named opt-out with a reason is honoured, annotated and warned about', () => {
    const { json, service } = synthService({
      securityContext: new ContainerSecurityContext({ user: 0, allowPrivilegeEscalation: true }),
      podSecurityOptOut: PodSecurityOptOut.allow('legacy image runs a setuid helper as root', RestrictedControl.RUN_AS_ROOT, RestrictedControl.PRIVILEGE_ESCALATION),
    });
    const deployment = onlyResource(json, 'kubernetes_deployment_v1');
    expect(dig(deployment, 'spec.template.spec.security_context.run_as_non_root')).toBe(false);
    expect(dig(deployment, 'spec.template.spec.container.0.security_context.allow_privilege_escalation')).toBe(true);
    expect(dig(deployment, 'metadata.annotations')).toEqual({
      'airgap-go-constructs.io/pod-security-opt-out': 'allowPrivilegeEscalation,runAsRoot: legacy image runs a setuid helper as root',
    });
    expect(service.node.metadata.map((m) => m.data)).toEqual([expect.stringContaining('opt-out for runAsRoot, allowPrivilegeEscalation')]);
  });

  test('an opt-out needs a real reason', () => {
    expect(errorOf(() => synthService({ securityContext: new ContainerSecurityContext({ user: 0 }), podSecurityOptOut: PodSecurityOptOut.allow('root', RestrictedControl.RUN_AS_ROOT) }))).toContain(
      'prop "podSecurityOptOut.reason" is "root", which is shorter than 10 characters',
    );
  });
});

describe('GoService bad input', () => {
  const cases: Array<[string, Partial<GoServiceProps>, string]> = [
    ['name', { name: 'Api_1' }, 'prop "name" is "Api_1", which is not a DNS-1035 label'],
    ['namespace', { namespaceName: 'Team A' }, 'prop "namespaceName" is "Team A", which is not a DNS-1123 label'],
    ['label key', { labels: { 'bad key': 'x' } }, 'prop "labels key" is "bad key", which is not a valid label key'],
    ['label value', { labels: { team: 'a/b' } }, 'prop "labels["team"]" is "a/b", which is not a valid label value'],
    ['port 0', { port: 0 }, 'prop "port" is 0, which is not a port number from 1 to 65535'],
    ['port 70000', { port: 70000 }, 'prop "port" is 70000, which is not a port number from 1 to 65535'],
    ['service port', { servicePort: -80 }, 'prop "servicePort" is -80, which is not a port number from 1 to 65535'],
    ['cpu fraction', { resources: { cpu: { request: Cpu.millicores(0.5) } } }, 'prop "resources.cpu.request" is Cpu.millicores(0.5), which is not a whole, non-negative number of millicores. Give an amount such as'],
    ['cpu -1', { resources: { cpu: { limit: Cpu.cores(-1) } } }, 'prop "resources.cpu.limit" is Cpu.cores(-1), which is not a whole, non-negative number of millicores'],
    ['memory fraction', { resources: { memory: { request: Size.bytes(0.5) } } }, 'prop "resources.memory.request" is Size.bytes(0.5), which is not a whole, non-negative number of bytes. Give a size such as'],
    ['memory NaN', { resources: { memory: { limit: Size.gibibytes(Number.NaN) } } }, 'prop "resources.memory.limit" is Size.gibibytes(NaN), which is not a whole'],
    ['request > limit', { resources: { cpu: { request: Cpu.cores(2), limit: Cpu.cores(1) } } }, 'prop "resources.cpu.request" is Cpu.cores(2), which is greater than the limit Cpu.cores(1). Lower the request or raise the limit'],
    ['memory request > default limit', { resources: { memory: { request: Size.gibibytes(1) } } }, 'prop "resources.memory.request" is Size.gibibytes(1), which is greater than the limit Size.mebibytes(256)'],
    ['probe path', { liveness: Probe.http('healthz') }, 'prop "liveness.path" is "healthz", which does not start with "/". Give an absolute HTTP path'],
    ['readiness path', { readiness: Probe.http('readyz') }, 'prop "readiness.path" is "readyz", which does not start with "/"'],
    ['negative replicas', { replicas: -1 }, 'prop "replicas" is -1, which is outside 0 to 1000'],
    ['fractional replicas', { replicas: 1.5 }, 'prop "replicas" is 1.5, which is not a whole number'],
    ['env name', { env: { '1BAD': 'x' } }, 'prop "env key" is "1BAD", which is not a valid environment variable name'],
    ['env name with =', { env: { 'A=B': 'x' } }, 'prop "env key" is "A=B", which is not a valid environment variable name'],
    ['image without registry', { image: 'nginx:1.27' }, 'prop "image" is "nginx:1.27", which names no registry host'],
    ['image bad digest', { image: 'registry.internal/app@sha256:1234' }, 'prop "image" is "registry.internal/app@sha256:1234", which has the digest "sha256:1234"'],
    ['image uppercase', { image: 'registry.internal/App:1' }, 'prop "image" is "registry.internal/App:1", which has the repository path component "App"'],
    ['image no tag', { image: 'registry.internal/app' }, 'prop "image" is "registry.internal/app", which has neither a tag nor a digest'],
    ['tmp size', { tmpSizeLimit: Size.bytes(-1) }, 'prop "tmpSizeLimit" is Size.bytes(-1), which is not a whole, non-negative number of bytes'],
    ['grace', { terminationGracePeriod: Duration.seconds(-5) }, 'prop "terminationGracePeriod" is Duration.seconds(-5), which is outside 0s to 1h'],
    ['grace fraction', { terminationGracePeriod: Duration.millis(2500) }, 'prop "terminationGracePeriod" is Duration.millis(2500), which is not a whole number of seconds'],
    ['uid', { securityContext: new ContainerSecurityContext({ user: -1 }) }, 'prop "securityContext.user" is -1, which is outside 0 to 2147483647'],
    ['service account', { serviceAccountName: 'Bad SA' }, 'prop "serviceAccountName" is "Bad SA"'],
  ];
  test.each(cases)('%s', (_name, props, expected) => {
    const message = errorOf(() => synthService(props));
    expect(message).toContain(`test/api (GoService): ${expected}`);
  });

  test('every bad prop is reported at once, and nothing half-made is left in the stack', () => {
    const { stack } = newStack();
    let error: unknown;
    try {
      new GoService(stack, 'api', { image: 'nginx', port: 0, replicas: -1 });
    } catch (e) {
      error = e;
    }
    expect(AirgapError.isAirgapError(error)).toBe(true);
    expect((error as AirgapError).problems.map((p) => p.prop)).toEqual(['image', 'replicas', 'port']);
    expect(stack.node.tryFindChild('api')).toBeUndefined();
    expect(synthJson(stack).resource).toBeUndefined();
  });
});
