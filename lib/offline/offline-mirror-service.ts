import { Construct } from 'constructs';
import { GoService } from '../kubernetes/go-service';
import { NamespaceNetworkPolicy } from '../kubernetes/namespace-policies';
import { PreviewEnvironment } from '../kubernetes/preview-environment';
import { BUNDLE_MOUNT, goEnvFor, installBundle, MirrorParts, mirrorParts, mirrorProbe, serverArgs } from '../private/mirror-pod';
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
 * named `offline-mirror` and a NetworkPolicy that lets the environment's pods
 * (those carrying its `podLabels`) reach the mirror's port, and only that.
 * One mirror serves a namespace. `goEnv` is the environment
 * for `go` in those jobs. For one service's own mirror, use the
 * {@link OfflineMirror} sidecar.
 */
export class OfflineMirrorService extends Construct {
  /** The mirror as a GoService (Deployment, Service, PDB). */
  public readonly service: GoService;
  /** Lets the environment's pods reach the mirror, and only the mirror's port (escape hatch). */
  public readonly networkPolicy: NamespaceNetworkPolicy;
  /** Environment for `go` in build jobs of the namespace. */
  public readonly goEnv: { [name: string]: string };

  constructor(scope: Construct, id: string, props: OfflineMirrorServiceProps) {
    super(scope, id);
    const c = new PropChecker(this, 'OfflineMirrorService');
    const parts = mirrorParts(c, props);
    const replicas = props.replicas ?? 1;
    c.check('replicas', replicas, checkInteger(replicas, 1, 100), 'Use a whole number of pods such as 1 or 2.');
    const environment = props.environment;
    const taken = environment.node.tryFindChild(`${id}Service`);
    if (taken) {
      c.fail('id', id, `would place the mirror's service at ${taken.node.path}, which exists already`, 'Give the mirror another id.');
    }
    if (c.empty) {
      const second = environment._claimMirror(this);
      if (second) c.addAll([second]);
    }
    c.throwIfAny({ discard: true });
    const name = 'offline-mirror';
    let service: GoService;
    try {
      service = this.addTo(environment, id, parts, replicas, name);
    } catch (e) {
      this.node.scope?.node.tryRemoveChild(this.node.id);
      throw e;
    }
    service.pod._bindFrom(this, 'OfflineMirrorService', () => {
      const bundle = installBundle(service.pod, parts);
      service.mainContainer.mount(BUNDLE_MOUNT, bundle, { readOnly: true });
    });
    this.service = service;
    this.networkPolicy = NamespaceNetworkPolicy.allowPods(this, 'AllowNamespace', {
      name: `allow-${name}`,
      namespace: environment.namespace.metadata.name,
      labels: service.selectorLabels,
      podLabels: service.selectorLabels,
      fromPodLabels: environment.podLabels,
      port: parts.port,
    });
    this.goEnv = goEnvFor(`http://${name}.${environment.namespaceName}.svc:${parts.port}`, props.checksumDatabase ?? ChecksumDatabase.mirrored());
  }

  private addTo(environment: PreviewEnvironment, id: string, parts: MirrorParts, replicas: number, name: string): GoService {
    return environment.addService(`${id}Service`, {
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
  }
}
