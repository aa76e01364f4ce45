import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { Construct } from 'constructs';
import { AirgapStack, GoService, PreviewEnvironment, Probe } from '../lib';

/**
 * PLACEHOLDER image for the example service until GoImage builds the real one.
 * `.invalid` is a reserved TLD: this reference can never be pulled, so it cannot
 * be mistaken for a real image. Override it with the `image` context value or
 * the PREVIEW_IMAGE environment variable.
 */
export const PLACEHOLDER_IMAGE = 'registry.invalid/placeholder/hello-go:0.0.0-placeholder';

/** What the example preview stack is built from. */
export interface PreviewAppOptions {
  /** Branch or PR name. */
  readonly branch: string;
  /** Image of the example Go service. */
  readonly image: string;
  /** ISO-8601 UTC creation time; absent means no expiry label. */
  readonly createdAt?: string;
  /** Parent domain of the preview Ingress host. */
  readonly baseDomain?: string;
}

/** The example stack: one preview environment running the hello-go service. */
export class PreviewStack extends AirgapStack {
  /** The preview environment. */
  public readonly environment: PreviewEnvironment;
  /** The example Go service. */
  public readonly hello: GoService;

  constructor(scope: Construct, id: string, options: PreviewAppOptions) {
    super(scope, id);
    // No arguments: the provider reads KUBE_CONFIG_PATH and friends on the
    // operator's side of the gap, so no path of the synth machine is baked in.
    new KubernetesProvider(this, 'kubernetes', {});

    this.environment = new PreviewEnvironment(this, 'Preview', {
      branch: options.branch,
      createdAt: options.createdAt,
      ttlHours: 72,
      ingress: { baseDomain: options.baseDomain ?? 'preview.example.internal' },
    });
    this.hello = this.environment.addService(
      'hello',
      {
        image: options.image,
        port: 8080,
        replicas: 2,
        env: { LOG_FORMAT: 'json' },
        liveness: Probe.http('/healthz'),
        readiness: Probe.http('/readyz', { periodSeconds: 5 }),
      },
      { ingressPath: '/' },
    );
  }
}
