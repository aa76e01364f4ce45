/**
 * The synth-scale workload, built with the library's constructs: N preview
 * environments in one AirgapStack, each running one GoService behind the
 * environment's Ingress, with an OfflineMirror sidecar, the way examples/preview-app.ts's PreviewStack does
 * for one branch. `bench/synth-baseline.ts` writes the same resources by hand.
 */
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App } from 'cdktf';
import { AirgapStack, Duration, KubernetesStateBackend, OfflineBundle, OfflineMirror, PreviewEnvironment, Probe, StackPolicy } from '../lib';

/**
 * Everything both sides of the benchmark are built from, in one place: a later
 * variant (an OfflineMirror sidecar, a second service) adds a field here and
 * a branch in both builders, and the fairness check keeps them in step.
 */
export interface WorkloadSpec {
  /** Id of the one stack; also names its local state file. */
  readonly stackId: string;
  /** Fixed creation time of every environment, so synth never reads the clock. */
  readonly createdAt: string;
  /** Lifetime of every environment. */
  readonly ttlHours: number;
  /** Parent domain of the Ingress hosts. */
  readonly baseDomain: string;
  /** Name of the one service per environment. */
  readonly serviceName: string;
  /**
   * Digest-pinned image. A literal stands in for a GoImage's `imageRef`, which
   * is a Terraform expression of the same shape
   * (`<registry>/<repo>@${docker_registry_image.….sha256_digest}`); a literal
   * keeps the stack self-contained, with no second stack to synthesize.
   */
  readonly image: string;
  /** Container port. */
  readonly port: number;
  /** Pods per service; above 1 the service also gets a PodDisruptionBudget. */
  readonly replicas: number;
  /** Container environment. */
  readonly env: { readonly [name: string]: string };
  /** Liveness probe path. */
  readonly livenessPath: string;
  /** Readiness probe path. */
  readonly readinessPath: string;
  /** Readiness probe period; not the default, as in the example app, so a non-default timing is compared too. */
  readonly readinessPeriodSeconds: number;
  /** Path of the service on the environment's Ingress host. */
  readonly ingressPath: string;
  /** The OfflineMirror sidecar every service gets; digest-pinned images as above. */
  readonly mirror: {
    readonly image: string;
    readonly bundleImage: string;
    readonly sha256sumsHash: string;
  };
}

/** The workload measured in BENCHMARKS.md. */
export const WORKLOAD: WorkloadSpec = {
  stackId: 'bench',
  createdAt: '2026-11-21T10:00:00Z',
  ttlHours: 72,
  baseDomain: 'preview.example.internal',
  serviceName: 'hello',
  image: 'registry.internal/team/hello@sha256:9f2c1d7e4b8a6f03c5e1d29b7a4c8e6f10b3d5a7c9e2f4b6d8a0c1e3f5a7b9d2',
  port: 8080,
  replicas: 2,
  env: { LOG_FORMAT: 'json' },
  livenessPath: '/healthz',
  readinessPath: '/readyz',
  readinessPeriodSeconds: 5,
  ingressPath: '/',
  mirror: {
    image: 'registry.internal/airgap/offline-mirror@sha256:3b5d7f9a1c2e4f6a8b0c2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a',
    bundleImage: 'registry.internal/airgap/go-bundle@sha256:7e9f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b1c3d5e7f9a0b2c4d6e8f',
    sha256sumsHash: 'd73d90e862696f1f0539af9708afa8e9db67a257ce03f1c6744a8186966cd16c',
  },
};

/**
 * Branch of environment `i`. The slash makes every namespace name take the
 * hashed form, the common case for real branch names.
 */
export function branchOf(i: number): string {
  return `feature/bench-${i}`;
}

/**
 * Builds the workload with the library: one AirgapStack with a
 * KubernetesProvider and `environments` PreviewEnvironments, each with one
 * GoService added through `addService`.
 */
export function buildOurs(app: App, environments: number, spec: WorkloadSpec = WORKLOAD): AirgapStack {
  // AGC_POLICY=off: the same stack without the rule packs, so bench/policy-cost.ts can size what they cost.
  const policy = process.env.AGC_POLICY === 'off' ? StackPolicy.only('benchmark: synth without the rule packs, to size their cost') : undefined;
  // AGC_FLEET=1: the same environments as one stack each, with its state in the cluster (bench/fleet-synth.ts).
  const fleet = process.env.AGC_FLEET === '1';
  const newStack = (id: string): AirgapStack => {
    const s = new AirgapStack(app, id, { policy });
    new KubernetesProvider(s, 'kubernetes', {});
    if (fleet) new KubernetesStateBackend(s, { secretSuffix: id });
    return s;
  };
  const first = newStack(spec.stackId);
  for (let i = 0; i < environments; i++) {
    const stack = fleet && i > 0 ? newStack(`${spec.stackId}-${i}`) : first;
    const env = new PreviewEnvironment(stack, `Preview${i}`, {
      branch: branchOf(i),
      createdAt: spec.createdAt,
      ttl: Duration.hours(spec.ttlHours),
      ingress: { baseDomain: spec.baseDomain },
    });
    const service = env.addService(
      spec.serviceName,
      {
        image: spec.image,
        port: spec.port,
        replicas: spec.replicas,
        // Benchmarks never apply; like the no-node control plane, nothing would roll out.
        waitForRollout: false,
        env: { ...spec.env },
        liveness: Probe.http(spec.livenessPath),
        readiness: Probe.http(spec.readinessPath, { period: Duration.seconds(spec.readinessPeriodSeconds) }),
      },
      { ingressPath: spec.ingressPath },
    );
    service.addExtension(
      new OfflineMirror(env, 'GoMirror', {
        image: spec.mirror.image,
        bundle: OfflineBundle.fromImage(spec.mirror.bundleImage, { sha256sumsHash: spec.mirror.sha256sumsHash }),
      }),
    );
  }
  return first;
}
