/**
 * Smoke test of the synth-scale benchmark (bench/synth-*.ts): the workload and
 * the hand-written baseline build, synthesize to the same Terraform after id
 * normalization, and hold the resources expected per environment. No timing
 * is asserted; the figures live in BENCHMARKS.md.
 */
import { buildBaseline } from '../../bench/synth-baseline';
import { compareSynthesized, synthesizeText } from '../../bench/synth-fairness';
import { RESOURCES_PER_ENVIRONMENT } from '../../bench/synth-scale';
import { buildOurs } from '../../bench/synth-workload';

const N = 10;

// Per environment: the namespace, its default-deny, allow-dns and
// allow-same-namespace policies, quota, limit range, its managed default
// service account and the workload service account; per
// service: Deployment, Service, PDB (2 replicas), the ingress-controller policy
// and the Ingress.
const PER_ENVIRONMENT: Record<string, number> = {
  kubernetes_default_service_account_v1: 1,
  kubernetes_deployment_v1: 1,
  kubernetes_ingress_v1: 1,
  kubernetes_limit_range_v1: 1,
  kubernetes_namespace_v1: 1,
  kubernetes_network_policy_v1: 4,
  kubernetes_pod_disruption_budget_v1: 1,
  kubernetes_resource_quota_v1: 1,
  kubernetes_service_account_v1: 1,
  kubernetes_service_v1: 1,
};

describe('synth-scale workload and baseline at N = 10', () => {
  let ours: string;
  let baseline: string;

  beforeAll(() => {
    ours = synthesizeText(buildOurs, N);
    baseline = synthesizeText(buildBaseline, N);
  });

  test('synthesize byte-identical Terraform after id normalization', () => {
    const result = compareSynthesized(ours, baseline, N);
    expect(result.differences).toEqual([]);
    expect(result.byteIdentical).toBe(true);
    expect(result.ok).toBe(true);
  });

  test('hold the expected resources per environment, on both sides', () => {
    const result = compareSynthesized(ours, baseline, N);
    const counts = Object.fromEntries(result.counts.map((c) => [c.type, [c.ours, c.baseline]]));
    expect(counts).toEqual(Object.fromEntries(Object.entries(PER_ENVIRONMENT).map(([type, n]) => [type, [n * N, n * N]])));
    const perEnvironment = Object.values(PER_ENVIRONMENT).reduce((a, b) => a + b, 0);
    expect(result.resources).toEqual({ ours: perEnvironment * N, baseline: perEnvironment * N });
    // The bench checks every measured N against this constant.
    expect(RESOURCES_PER_ENVIRONMENT).toBe(perEnvironment);
  });

  test('every environment has its own namespace', () => {
    const stack = JSON.parse(ours) as { resource: Record<string, Record<string, { metadata: { name: string } }>> };
    const names = Object.values(stack.resource.kubernetes_namespace_v1).map((ns) => ns.metadata.name);
    expect(new Set(names).size).toBe(N);
  });

  test('the check catches a changed attribute', () => {
    const tampered = baseline.replace('"period_seconds": 5', '"period_seconds": 6');
    expect(tampered).not.toBe(baseline);
    const result = compareSynthesized(ours, tampered, N);
    expect(result.ok).toBe(false);
    expect(result.differences.join('\n')).toMatch(/readiness_probe\.period_seconds: ours 5, baseline 6/);
  });

  test('the check catches a cross-reference to the wrong resource', () => {
    // The Ingress of environment 0 routed to the Service of environment 1.
    const tampered = baseline.replace('${kubernetes_service_v1.svc0.metadata[0].name}', '${kubernetes_service_v1.svc1.metadata[0].name}');
    expect(tampered).not.toBe(baseline);
    const result = compareSynthesized(ours, tampered, N);
    expect(result.ok).toBe(false);
    expect(result.differences.join('\n')).toMatch(/kubernetes_ingress_v1\..*backend\.service\.name/);
  });

  test('the check catches a missing resource', () => {
    const stack = JSON.parse(baseline) as { resource: Record<string, Record<string, unknown>> };
    delete stack.resource.kubernetes_pod_disruption_budget_v1.pdb3;
    const result = compareSynthesized(ours, JSON.stringify(stack), N);
    expect(result.ok).toBe(false);
    expect(result.differences).toContain('resource.kubernetes_pod_disruption_budget_v1: 10 ours, 9 baseline');
  });
});
