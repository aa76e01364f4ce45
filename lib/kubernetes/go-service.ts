import { DeploymentV1, DeploymentV1Spec } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { Annotations, Token } from 'cdktf';
import { Construct } from 'constructs';
import { PolicyChecks } from '../policy/policy-checks';
import { Duration } from '../core/duration';
import { ImageReference } from '../core/image-reference';
import { Size } from '../core/size';
import { PropChecker } from '../private/prop-checker';
import { RenderedDeployment } from '../private/rendered-deployment';
import { checkDns1035Label, checkDns1123Label, checkInteger, checkPort, labelMapProblems } from '../private/validation';
import { WellKnownLabels } from './labels';
import { Container, ContainerSecurityContext, EnvSource, EnvValue, IPodExtension, Pod, Volume } from './pod';
import { SchedulingOptions } from './scheduling';
import { PodSecurityOptOut } from './pod-security';
import { Probe } from './probe';
import { ContainerResources } from './resources';

/** A metrics endpoint for the cluster's Prometheus. */
export interface MetricsOptions {
  /**
   * Container port the metrics are served on; it may be the service's own port.
   * @default - the service's container port
   */
  readonly port?: number;
  /**
   * HTTP path of the metrics.
   * @default '/metrics'
   */
  readonly path?: string;
}

/**
 * What a GoService is made of, apart from where it runs. PreviewEnvironment's
 * `addService` takes these; the environment supplies the namespace and the
 * service account.
 */
export interface GoServiceOptions {
  /**
   * Image to run: `registry/repository:tag`, `registry/repository@sha256:…` or
   * both. A GoImage's `imageRef` (a Terraform reference) is accepted as is.
   */
  readonly image: string;
  /**
   * Name of the Deployment, Service and container.
   * @default - the construct id
   */
  readonly name?: string;
  /**
   * Port the Go server listens on inside the container.
   * @default 8080
   */
  readonly port?: number;
  /**
   * Port the ClusterIP Service exposes.
   * @default 80
   */
  readonly servicePort?: number;
  /**
   * Number of pods. Above 1, a PodDisruptionBudget keeps all but one up during drains.
   * @default 2
   */
  readonly replicas?: number;
  /**
   * Environment variables for the container.
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * Environment variables from Secret or ConfigMap keys; a name may not also be in `env`.
   * @default - none
   */
  readonly envValues?: { [name: string]: EnvValue };
  /**
   * Every key of these Secrets and ConfigMaps as environment variables.
   * @default - none
   */
  readonly envFrom?: EnvSource[];
  /**
   * Volumes mounted in the Go container, by path: ConfigMap and Secret volumes
   * are mounted read-only, emptyDirs writable.
   * @default - only the writable /tmp
   */
  readonly mounts?: { [path: string]: Volume };
  /**
   * Secrets with registry credentials for pulling the image.
   * @default - none (a PreviewEnvironment adds its own)
   */
  readonly imagePullSecrets?: string[];
  /**
   * Where the pods may and should run.
   * @default - anywhere; replicas prefer different nodes (soft pod anti-affinity)
   */
  readonly scheduling?: SchedulingOptions;
  /**
   * A Prometheus metrics endpoint: a `metrics` container port and the
   * conventional `prometheus.io/*` scrape annotations on the pods.
   * @default - none
   */
  readonly metrics?: MetricsOptions;
  /**
   * Arguments passed to the image's entrypoint.
   * @default - none
   */
  readonly args?: string[];
  /**
   * CPU, memory and ephemeral-storage requests and limits. Requests must not
   * exceed limits. The /tmp emptyDir's size limit is added to ephemeral storage.
   * @default - cpu 100m/500m, memory 64Mi/256Mi, ephemeral storage 16Mi/64Mi
   */
  readonly resources?: ContainerResources;
  /**
   * Liveness probe.
   * @default Probe.http('/healthz')
   */
  readonly liveness?: Probe;
  /**
   * Readiness probe.
   * @default Probe.http('/readyz')
   */
  readonly readiness?: Probe;
  /**
   * Startup probe, for services that take long to start.
   * @default - none
   */
  readonly startup?: Probe;
  /**
   * Extra labels on every object and pod. Selector labels cannot be overridden.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Security context of the container; its user and group are also the pod's.
   * @default ContainerSecurityContext.restricted(): uid/gid 65532, read-only root, nothing added
   */
  readonly securityContext?: ContainerSecurityContext;
  /**
   * Explicit opt-out from named Pod Security "restricted" controls.
   * @default - none: any setting that breaks "restricted" is an error
   */
  readonly podSecurityOptOut?: PodSecurityOptOut;
  /**
   * Size limit of the writable `/tmp` emptyDir.
   * @default Size.mebibytes(64)
   */
  readonly tmpSizeLimit?: Size;
  /**
   * Time between SIGTERM and SIGKILL, in whole seconds; the Go server drains within it.
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Make `terraform apply` wait until the rollout completes.
   * @default true
   */
  readonly waitForRollout?: boolean;
}

/** Props for {@link GoService}. */
export interface GoServiceProps extends GoServiceOptions {
  /**
   * Namespace to deploy into.
   * @default 'default'
   */
  readonly namespaceName?: string;
  /**
   * Service account the pods run as. Its token is never mounted.
   * @default - the namespace's `default` service account
   */
  readonly serviceAccountName?: string;
}

/**
 * A Go HTTP service on Kubernetes: a Deployment, a ClusterIP Service and, when
 * replicas > 1, a PodDisruptionBudget. Every default satisfies Pod Security
 * "restricted": non-root uid 65532, no privilege escalation, all capabilities
 * dropped, RuntimeDefault seccomp, read-only root filesystem, no host
 * namespaces and no service-account token.
 *
 * The pod is a {@link Pod} model rendered at synth: extensions such as an
 * OfflineMirror sidecar join it through {@link GoService.addExtension}.
 */
export class GoService extends Construct {
  /** The uid and gid of the distroless `nonroot` user, which the containers run as by default. */
  static readonly NONROOT_UID = 65532;

  /** Name of the Deployment, Service and container. */
  public readonly name: string;
  /** Namespace the objects live in. */
  public readonly namespaceName: string;
  /** Container port. */
  public readonly port: number;
  /** Service port. */
  public readonly servicePort: number;
  /** Labels that select this service's pods. */
  public readonly selectorLabels: { [key: string]: string };
  /** The pod: add containers, init containers and volumes here, or through an extension. */
  public readonly pod: Pod;
  /** The Go container. */
  public readonly mainContainer: Container;
  /** The Deployment (escape hatch). */
  public readonly deployment: DeploymentV1;
  /** The ClusterIP Service (escape hatch). */
  public readonly service: ServiceV1;
  /** The PodDisruptionBudget, when replicas > 1 (escape hatch). */
  public readonly podDisruptionBudget?: PodDisruptionBudgetV1;
  /** Number of pods. */
  public readonly replicas: number;
  /** Port Prometheus scrapes, when `metrics` is set. */
  public readonly metricsPort?: number;

  constructor(scope: Construct, id: string, props: GoServiceProps) {
    super(scope, id);
    const name = props.name ?? id;
    const namespace = props.namespaceName ?? 'default';
    const port = props.port ?? 8080;
    const servicePort = props.servicePort ?? 80;
    const replicas = props.replicas ?? 2;
    const tmpSizeLimit = props.tmpSizeLimit ?? Size.mebibytes(64);
    const optOut = props.podSecurityOptOut;
    const securityContext = props.securityContext ?? ContainerSecurityContext.restricted();

    const c = new PropChecker(this, 'GoService');
    c.check('name', name, checkDns1035Label(name), 'Pass a "name" prop of lowercase letters, digits and "-", starting with a letter, such as "api".');
    if (!Token.isUnresolved(namespace)) {
      c.check('namespaceName', namespace, checkDns1123Label(namespace), 'Use an existing namespace name such as "default", or add the service through a PreviewEnvironment.');
    }
    if (!Token.isUnresolved(props.image)) {
      const parsed = ImageReference.tryParse(props.image);
      if (!parsed) {
        c.fail('image', props.image, ImageReference.problemOf(props.image) ?? 'is not an image reference', 'Write it as "registry.internal/team/app:1.2.3" or "registry.internal/team/app@sha256:<64 hex>".');
      } else if (!parsed.pinned) {
        Annotations.of(this).addWarning(
          `image "${props.image}" is not pinned by digest; a tag can move, and IfNotPresent keeps whatever a node pulled first. Pin it as ${parsed.name}@sha256:<digest>.`,
        );
      }
    }
    c.check('servicePort', servicePort, checkPort(servicePort), 'Use the port clients should call, such as 80.');
    c.check('replicas', replicas, checkInteger(replicas, 0, 1000), 'Use a whole number of pods such as 1 or 2.');
    c.addAll(tmpSizeLimit._problems('tmpSizeLimit'));
    for (const p of labelMapProblems('labels', props.labels ?? {})) {
      c.fail(p.prop, p.value, p.problem, 'Use Kubernetes label syntax: "example.com/team": "payments".');
    }
    if (props.serviceAccountName !== undefined && !Token.isUnresolved(props.serviceAccountName)) {
      c.check('serviceAccountName', props.serviceAccountName, checkDns1123Label(props.serviceAccountName), 'Use the name of an existing service account.');
    }

    const metricsPort = props.metrics ? (props.metrics.port ?? port) : undefined;
    const metricsPath = props.metrics?.path ?? '/metrics';
    if (props.metrics) {
      c.check('metrics.port', metricsPort, checkPort(metricsPort as number), 'Use the port the metrics handler listens on, such as 9090.');
      if (!/^\/[^\s]*$/.test(metricsPath)) c.fail('metrics.path', metricsPath, 'is not an absolute HTTP path', 'Use a path such as "/metrics".');
    }
    const selectorLabels = { [WellKnownLabels.NAME]: name, [WellKnownLabels.INSTANCE]: name };
    const pod = new Pod(this, 'GoService', {
      fsGroup: securityContext.group,
      podSecurityOptOut: optOut,
      terminationGracePeriod: props.terminationGracePeriod,
      serviceAccountName: props.serviceAccountName,
      imagePullSecrets: props.imagePullSecrets,
      scheduling: props.scheduling,
      selectorLabels: replicas > 1 ? selectorLabels : undefined,
    });
    const main = new Container({
      name,
      image: props.image,
      args: props.args,
      ports: [{ number: port, name: 'http' }, ...(metricsPort !== undefined && metricsPort !== port ? [{ number: metricsPort, name: 'metrics' }] : [])],
      env: props.env,
      envValues: props.envValues,
      envFrom: props.envFrom,
      resources: props.resources,
      liveness: props.liveness ?? Probe.http('/healthz'),
      readiness: props.readiness ?? Probe.http('/readyz'),
      startup: props.startup,
      securityContext,
    });
    c.addAll(main._problems('', optOut, false));
    c.addAll(pod._problems());
    c.throwIfAny({ discard: true });

    const tmp = Volume.emptyDir('tmp', { sizeLimit: tmpSizeLimit });
    pod.addVolume(tmp);
    main.mount('/tmp', tmp);
    try {
      for (const [path, volume] of Object.entries(props.mounts ?? {})) {
        if (!pod.volumes.includes(volume)) pod.addVolume(volume);
        main.mount(path, volume);
      }
      pod.addContainer(main);
    } catch (e) {
      // A bad mount is refused whole: the service leaves nothing in the tree.
      this.node.scope?.node.tryRemoveChild(this.node.id);
      throw e;
    }
    this.pod = pod;
    this.mainContainer = main;

    this.name = name;
    this.namespaceName = namespace;
    this.port = port;
    this.servicePort = servicePort;
    this.selectorLabels = selectorLabels;
    this.replicas = replicas;
    this.metricsPort = metricsPort;
    const labels = {
      ...props.labels,
      ...this.selectorLabels,
      [WellKnownLabels.COMPONENT]: 'go-service',
      [WellKnownLabels.MANAGED_BY]: 'terraform',
    };
    const annotations = optOut
      ? { [`${WellKnownLabels.DOMAIN}/pod-security-opt-out`]: `${[...optOut.controls].sort().join(',')}: ${optOut.reason}` }
      : undefined;
    const scrape = metricsPort !== undefined ? { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': metricsPath } : undefined;
    const podAnnotations = annotations || scrape ? { ...annotations, ...scrape } : undefined;
    if (optOut) {
      Annotations.of(this).addWarning(
        `Pod Security "restricted" opt-out for ${optOut.controls.join(', ')}: ${optOut.reason}. Namespaces that enforce "restricted" will reject these pods.`,
      );
    }

    const selector = this.selectorLabels;
    const render = (): DeploymentV1Spec => ({
      replicas: String(replicas),
      revisionHistoryLimit: 10,
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '0' } },
      template: { metadata: { labels, annotations: podAnnotations }, spec: pod._render() },
    });
    this.deployment = new RenderedDeployment(this, 'Deployment', { metadata: { name, namespace, labels, annotations }, waitForRollout: props.waitForRollout ?? true }, render);
    // The opt-out is the reviewed exception: the stack's restricted pack honours it, with its reason.
    for (const rule of optOut?._ruleIds() ?? []) PolicyChecks.suppress(this.deployment, rule, `PodSecurityOptOut: ${optOut!.reason}`);

    this.service = new ServiceV1(this, 'Service', {
      metadata: { name, namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector: this.selectorLabels,
        port: [{ name: 'http', port: servicePort, targetPort: 'http', protocol: 'TCP' }],
      },
    });

    if (replicas > 1) {
      this.podDisruptionBudget = new PodDisruptionBudgetV1(this, 'DisruptionBudget', {
        metadata: { name, namespace, labels },
        spec: { maxUnavailable: '1', selector: { matchLabels: this.selectorLabels } },
      });
    }
  }

  /**
   * Lets `extension` add to the pod (`extension.bind(pod)`). A clash it causes
   * (a port, container or volume name, environment variable or mount path the
   * pod already has) is an AirgapError at the extension's construct path, and
   * nothing it added is kept.
   */
  public addExtension(extension: IPodExtension): void {
    // A class written in another jsii language reaches us as a plain Construct proxy.
    const name = extension.constructor?.name;
    const kind = name && name !== 'Construct' ? name : 'pod extension';
    this.pod._bindFrom(extension, kind, () => extension.bind(this.pod));
  }
}
