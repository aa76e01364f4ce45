import { Testing } from 'cdktf';
import { Construct } from 'constructs';
import { AirgapError, Container, ContainerSecurityContext, Cpu, Duration, GoService, IPodExtension, Pod, PodSecurityOptOut, Probe, RestrictedControl, Size, Volume } from '../../lib';
import '../../lib/testing';
import { Container as RenderedContainer } from '../support/synth';
import { dig, errorOf, newStack, onlyResource, synthJson } from '../support/synth';

const IMAGE = `registry.internal/team/hello@sha256:${'1'.repeat(64)}`;
const SIDE = `registry.internal/team/side@sha256:${'2'.repeat(64)}`;

/** An extension of the test's own, as a user would write one: a sidecar with a scratch volume and an env var for the main container. */
class Sidecar extends Construct implements IPodExtension {
  constructor(
    scope: Construct,
    id: string,
    private readonly options: { name?: string; port?: number; env?: string; volume?: string; mountAt?: string; securityContext?: ContainerSecurityContext } = {},
  ) {
    super(scope, id);
  }

  bind(pod: Pod): void {
    const scratch = Volume.emptyDir(this.options.volume ?? 'side-scratch', { sizeLimit: Size.mebibytes(16) });
    pod.addVolume(scratch);
    pod.containers[0].addEnv(this.options.env ?? 'SIDECAR_URL', 'http://127.0.0.1:9100');
    const c = new Container({
      name: this.options.name ?? 'side',
      image: SIDE,
      ports: [{ number: this.options.port ?? 9100, localOnly: true }],
      resources: { cpu: { request: Cpu.millicores(5), limit: Cpu.millicores(50) }, memory: { request: Size.mebibytes(8), limit: Size.mebibytes(32) } },
      readiness: Probe.exec(['/side', '-check'], { period: Duration.seconds(5) }),
      securityContext: this.options.securityContext,
    });
    c.mount('/scratch', scratch);
    if (this.options.mountAt) c.mount(this.options.mountAt, scratch, { readOnly: true });
    pod.addContainer(c);
  }
}

function service() {
  const { stack } = newStack();
  return { stack, api: new GoService(stack, 'api', { image: IMAGE, env: { LOG_FORMAT: 'json' } }) };
}

function podOf(stack: ReturnType<typeof newStack>['stack']): Record<string, unknown> {
  return dig(onlyResource(synthJson(stack), 'kubernetes_deployment_v1'), 'spec.template.spec') as Record<string, unknown>;
}

describe('Pod model', () => {
  test('an extension bound after the Deployment was made is rendered at synth, restricted like the main container', () => {
    const { stack, api } = service();
    api.addExtension(new Sidecar(stack, 'Side'));
    const pod = podOf(stack);
    const [main, side] = pod.container as RenderedContainer[];
    expect(main.env).toEqual([
      { name: 'LOG_FORMAT', value: 'json' },
      { name: 'SIDECAR_URL', value: 'http://127.0.0.1:9100' },
    ]);
    expect(side).toMatchObject({ name: 'side', image: SIDE, resources: { requests: { cpu: '5m', memory: '8Mi' }, limits: { cpu: '50m', memory: '32Mi' } } });
    // A 127.0.0.1-only port is reserved in the pod but not declared.
    expect(side.port).toBeUndefined();
    expect(side.security_context).toEqual(main.security_context);
    expect(side.volume_mount).toEqual([{ name: 'side-scratch', mount_path: '/scratch' }]);
    expect(pod.volume).toEqual([
      { name: 'tmp', empty_dir: { size_limit: '64Mi' } },
      { name: 'side-scratch', empty_dir: { size_limit: '16Mi' } },
    ]);
    expect(stack).toPassRestrictedPack();
    expect(api.pod.containers.map((c) => c.name)).toEqual(['api', 'side']);
  });

  test.each([
    ['a container name', { name: 'api' }, 'prop "container name" is "api", which is already a container of GoService test/api'],
    ['a port', { port: 8080 }, 'prop "port" is 8080, which is a port the main container of GoService test/api already listens on; containers of one pod share its network namespace. Pick a free port, such as 8081.'],
    ['an env var', { env: 'LOG_FORMAT' }, 'prop "env" is "LOG_FORMAT", which is already set on the main container of GoService test/api'],
    ['a volume name', { volume: 'tmp' }, 'prop "volume name" is "tmp", which is already a volume of GoService test/api'],
    ['a mount path', { mountAt: '/scratch' }, 'prop "mount path" is "/scratch", which already holds volume "side-scratch" in container "side"'],
  ])('a clash over %s is refused at the extension, and nothing it added stays', (_what, options, expected) => {
    const { stack, api } = service();
    const before = JSON.stringify(podOf(stack));
    let error: unknown;
    try {
      api.addExtension(new Sidecar(stack, 'Side', options));
    } catch (e) {
      error = e;
    }
    expect(AirgapError.isAirgapError(error)).toBe(true);
    const e = error as AirgapError;
    expect(e.constructPath).toBe('test/Side');
    expect(e.message).toContain('test/Side (Sidecar): prop');
    if (expected) expect(e.message).toContain(expected);
    expect(JSON.stringify(podOf(stack))).toBe(before);
    expect(api.pod.containers).toHaveLength(1);
    expect(api.mainContainer.env).toEqual({ LOG_FORMAT: 'json' });
  });

  test('a mount path a container already uses is refused', () => {
    const { api } = service();
    expect(errorOf(() => api.mainContainer.mount('/tmp', Volume.emptyDir('other')))).toContain(
      'test/api (GoService): prop "mount path" is "/tmp", which already holds volume "tmp" in the main container of GoService test/api',
    );
  });

  test('a container mounting a volume the pod does not have is refused', () => {
    const { api } = service();
    const c = new Container({ name: 'orphan', image: SIDE });
    c.mount('/data', Volume.emptyDir('data'));
    expect(errorOf(() => api.pod.addContainer(c))).toContain('prop "volume" is "data", which is mounted by container "orphan" but is not a volume of the pod');
  });

  test('a sidecar that breaks "restricted" needs the pod\'s opt-out', () => {
    const { stack, api } = service();
    const root = new ContainerSecurityContext({ user: 0 });
    expect(errorOf(() => api.addExtension(new Sidecar(stack, 'Side', { securityContext: root })))).toContain(
      'prop "container "side" securityContext.user" is 0, which runs the container as root',
    );
    const { stack: s2 } = newStack('t2');
    const allowed = new GoService(s2, 'api', { image: IMAGE, podSecurityOptOut: PodSecurityOptOut.allow('sidecar needs root for iptables', RestrictedControl.RUN_AS_ROOT) });
    allowed.addExtension(new Sidecar(s2, 'Side', { securityContext: root }));
    expect(dig(podOf(s2), 'container.1.security_context.run_as_non_root')).toBe(false);
  });

  test('init containers run in the order added and may not carry probes', () => {
    const { stack, api } = service();
    api.pod.addInitContainer(new Container({ name: 'first', image: SIDE, args: ['-one'] }));
    api.pod.addInitContainer(new Container({ name: 'second', image: SIDE, command: ['/bin/second'] }));
    expect((podOf(stack).init_container as RenderedContainer[]).map((c) => [c.name, c.command ?? c.args])).toEqual([
      ['first', ['-one']],
      ['second', ['/bin/second']],
    ]);
    expect(errorOf(() => api.pod.addInitContainer(new Container({ name: 'probed', image: SIDE, liveness: Probe.tcp(1) })))).toContain(
      'prop "container "probed" probes" is "probed", which are set on an init container, which Kubernetes does not probe',
    );
  });

  test('HCL output renders the pod at synth too', () => {
    const { stack, api } = service();
    api.addExtension(new Sidecar(stack, 'Side'));
    const hcl = Testing.synthHcl(stack);
    expect(hcl).toContain(`image = "${SIDE}"`);
    expect(hcl).toContain('"SIDECAR_URL"');
  });

  test('portUser says who holds a port', () => {
    const { stack, api } = service();
    api.addExtension(new Sidecar(stack, 'Side'));
    expect(api.pod.portUser(8080)).toBe('the main container of GoService test/api');
    expect(api.pod.portUser(9100)).toBe('Sidecar test/Side');
    expect(api.pod.portUser(1)).toBeUndefined();
  });
});
