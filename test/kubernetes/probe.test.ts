import { Duration } from '../../lib/core/duration';
import { Probe, ProbeRole } from '../../lib/kubernetes/probe';

describe('Probe', () => {
  test('http renders every field the API server would default, so plans show no drift', () => {
    expect(Probe.http('/healthz')._render(8080)).toEqual({
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      failureThreshold: 3,
      successThreshold: 1,
      httpGet: { path: '/healthz', port: '8080', scheme: 'HTTP' },
    });
  });

  test('options and an explicit port win over defaults', () => {
    expect(Probe.http('/readyz', { port: 9090, period: Duration.seconds(5), failureThreshold: 6 })._render(8080)).toMatchObject({
      periodSeconds: 5,
      failureThreshold: 6,
      httpGet: { path: '/readyz', port: '9090', scheme: 'HTTP' },
    });
  });

  test('tcp renders a tcp_socket block on the service port', () => {
    expect(Probe.tcp()._render(8080)).toMatchObject({ tcpSocket: [{ port: '8080' }] });
    expect(Probe.tcp(7000)._render(8080)).toMatchObject({ tcpSocket: [{ port: '7000' }] });
    expect(Probe.tcp()._render(8080).httpGet).toBeUndefined();
  });

  test('exec renders the command as given, with no shell and no port', () => {
    const rendered = Probe.exec(['/usr/local/bin/offline-mirror', '-healthcheck', 'http://127.0.0.1:8686/readyz'], { period: Duration.seconds(5) })._render(8080);
    expect(rendered).toEqual({
      initialDelaySeconds: 0,
      periodSeconds: 5,
      timeoutSeconds: 1,
      failureThreshold: 3,
      successThreshold: 1,
      exec: { command: ['/usr/local/bin/offline-mirror', '-healthcheck', 'http://127.0.0.1:8686/readyz'] },
    });
    expect(Probe.exec(['/bin/true'])._problems('liveness', ProbeRole.LIVENESS)).toEqual([]);
  });

  test.each([
    [Probe.exec([]), 'liveness.command', /not a non-empty list/],
    [Probe.exec(['/bin/check', '']), 'liveness.command', /not a non-empty list/],
    [Probe.exec(['check', '-x']), 'liveness.command', /absolute program path/],
    [Probe.http('healthz'), 'liveness.path', /does not start with "\/"/],
    [Probe.http(''), 'liveness.path', /does not start with "\/"/],
    [Probe.http('/a b'), 'liveness.path', /white space/],
    [Probe.http('/h', { port: 0 }), 'liveness.port', /from 1 to 65535/],
    [Probe.tcp(70000), 'liveness.port', /from 1 to 65535/],
    [Probe.http('/h', { period: Duration.seconds(0) }), 'liveness.period', /outside 1s to 1h/],
    [Probe.http('/h', { timeout: Duration.millis(1500) }), 'liveness.timeout', /not a whole number of seconds/],
    [Probe.http('/h', { initialDelay: Duration.seconds(-1) }), 'liveness.initialDelay', /outside 0s to 1h/],
    [Probe.http('/h', { period: Duration.hours(2) }), 'liveness.period', /outside 1s to 1h/],
    [Probe.http('/h', { successThreshold: 2 }), 'liveness.successThreshold', /Kubernetes requires for liveness probes/],
  ])('problem %#: %s', (probe, prop, re) => {
    const problems = probe._problems('liveness', ProbeRole.LIVENESS);
    expect(problems).toHaveLength(1);
    expect(problems[0].prop).toBe(prop);
    expect(problems[0].problem).toMatch(re);
  });

  test('readiness probes may need several successes', () => {
    expect(Probe.http('/readyz', { successThreshold: 2 })._problems('readiness', ProbeRole.READINESS)).toEqual([]);
  });
});
