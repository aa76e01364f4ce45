import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { Construct } from 'constructs';
import { GoService } from '../kubernetes/go-service';
import { PreviewEnvironment } from '../kubernetes/preview-environment';
import { BUNDLE_MOUNT, goEnvFor, installBundle, mirrorParts, mirrorProbe, serverArgs } from '../private/mirror-pod';
import { PropChecker } from '../private/prop-checker';
import { checkInteger } from '../private/validation';
import { ChecksumDatabase } from './offline-bundle';
import { OfflineMirrorProps } from './offline-mirror';

/** Props for {@link OfflineMirrorService}. */
export interface OfflineMirrorServiceProps extends OfflineMirrorProps {
  /** The environment whose namespace the mirror serves. */
  readonly environment: PreviewEnvironment;
  /**
   * Number of mirror pods.
   * @default 1
   */
  readonly replicas?: number;
}

/**
 * The offline Go module mirror as a Service of its own in a
 * PreviewEnvironment's namespace, for the namespace's build jobs: a GoService
 * named `offline-mirror` and a NetworkPolicy that lets every pod of the
 * namespace reach the mirror's port, and only that. `goEnv` is the environment
 * for `go` in those jobs. For one service's own mirror, use the
 * {@link OfflineMirror} sidecar.
 */
export class OfflineMirrorService extends Construct {
  /** The mirror as a GoService (Deployment, Service, PDB). */
  public readonly service: GoService;
  /** Lets every pod of the namespace reach the mirror, and only the mirror's port (escape hatch). */
  public readonly networkPolicy: NetworkPolicyV1;
  /** Environment for `go` in build jobs of the namespace. */
  public readonly goEnv: { [name: string]: string };

  constructor(scope: Construct, id: string, props: OfflineMirrorServiceProps) {
    super(scope, id);
    const c = new PropChecker(this, 'OfflineMirrorService');
    const parts = mirrorParts(c, props);
    const replicas = props.replicas ?? 1;
    c.check('replicas', replicas, checkInteger(replicas, 1, 100), 'Use a whole number of pods such as 1 or 2.');
    c.throwIfAny({ discard: true });
    const name = 'offline-mirror';
    const environment = props.environment;
    const service = environment.addService(`${id}Service`, {
      name,
      image: parts.image,
      port: parts.port,
      servicePort: parts.port,
      replicas,
      args: serverArgs(parts, `0.0.0.0:${parts.port}`),
      resources: parts.resources,
      liveness: mirrorProbe(parts.port, '/healthz'),
      readiness: mirrorProbe(parts.port, '/readyz'),
      waitForRollout: false,
    });
    service.pod._bindFrom(this, 'OfflineMirrorService', () => {
      const bundle = installBundle(service.pod, parts);
      service.mainContainer.mount(BUNDLE_MOUNT, bundle, { readOnly: true });
    });
    this.service = service;
    this.networkPolicy = new NetworkPolicyV1(this, 'AllowNamespace', {
      metadata: { name: `allow-${name}`, namespace: environment.namespaceName, labels: service.selectorLabels },
      spec: {
        podSelector: { matchLabels: service.selectorLabels },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ podSelector: {} }], ports: [{ port: String(parts.port), protocol: 'TCP' }] }],
      },
      dependsOn: [environment.namespace],
    });
    this.goEnv = goEnvFor(`http://${name}.${environment.namespaceName}.svc:${parts.port}`, props.checksumDatabase ?? ChecksumDatabase.mirrored());
  }
}
