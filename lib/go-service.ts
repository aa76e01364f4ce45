import {
  DeploymentV1,
  DeploymentV1Spec,
  DeploymentV1SpecTemplateSpecContainer,
  DeploymentV1SpecTemplateSpecContainerVolumeMount,
  DeploymentV1SpecTemplateSpecInitContainer,
  DeploymentV1SpecTemplateSpecVolume,
} from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { Annotations, Token } from 'cdktf';
import { Construct } from 'constructs';
import { PropChecker } from './errors';
import { ImageReference } from './image-ref';
import { Probe, ProbeRole } from './probe';
import { QuantityKind, checkQuantity, quantityHint, requestLimitProblems } from './quantity';
import {
  checkDns1035Label,
  checkDns1123Label,
  checkEnvVarName,
  checkInteger,
  checkPort,
  labelMapProblems,
} from './validation';

/** The uid and gid of the distroless `nonroot` user. */
export const NONROOT_UID = 65532;

/** Label keys the library sets; users may add their own beside them. */
export const LABELS = {
  name: 'app.kubernetes.io/name',
  instance: 'app.kubernetes.io/instance',
  component: 'app.kubernetes.io/component',
  partOf: 'app.kubernetes.io/part-of',
  managedBy: 'app.kubernetes.io/managed-by',
} as const;

/** Prefix of the library's own labels and annotations. */
export const LABEL_DOMAIN = 'airgap-go-constructs.io';

/** A request and a limit for one resource. */
export interface ResourceRange {
  /**
   * What the scheduler reserves.
   * @default - see {@link ContainerResources}
   */
  readonly request?: string;
  /**
   * The most the container may use.
   * @default - see {@link ContainerResources}
   */
  readonly limit?: string;
}

/** CPU and memory for the Go container, as Kubernetes quantities. */
export interface ContainerResources {
  /**
   * CPU in cores (`"0.5"`, `"500m"`).
   * @default { request: '100m', limit: '500m' }
   */
  readonly cpu?: ResourceRange;
  /**
   * Memory in bytes (`"128Mi"`, `"1Gi"`).
   * @default { request: '64Mi', limit: '256Mi' }
   */
  readonly memory?: ResourceRange;
}

/** The Pod Security "restricted" controls a GoService prop can break. */
export enum RestrictedControl {
  /** `runAsUser: 0` needs `runAsNonRoot: false`. */
  RUN_AS_ROOT = 'runAsRoot',
  /** `allowPrivilegeEscalation: true`. */
  PRIVILEGE_ESCALATION = 'allowPrivilegeEscalation',
  /** Adding any capability other than NET_BIND_SERVICE. */
  CAPABILITIES = 'capabilities',
}

/**
 * An explicit, reasoned opt-out from named Pod Security "restricted" controls.
 * Pods so configured are rejected by namespaces that enforce "restricted",
 * including every PreviewEnvironment.
 */
export class PodSecurityOptOut {
  /**
   * Allows the given controls to be broken.
   * @param reason why, at least 10 characters; it is written to the Deployment's annotations
   */
  static allow(reason: string, ...controls: RestrictedControl[]): PodSecurityOptOut {
    return new PodSecurityOptOut(reason, controls);
  }

  private constructor(
    /** Why the opt-out is needed. */
    public readonly reason: string,
    /** The controls it allows to be broken. */
    public readonly controls: readonly RestrictedControl[],
  ) {}

  /** True when this opt-out covers `control`. */
  covers(control: RestrictedControl): boolean {
    return this.controls.includes(control);
  }
}

/** Props for {@link GoService}. */
export interface GoServiceProps {
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
   * Namespace to deploy into.
   * @default 'default'
   */
  readonly namespace?: string;
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
  readonly env?: { readonly [name: string]: string };
  /**
   * Arguments passed to the image's entrypoint.
   * @default - none
   */
  readonly args?: readonly string[];
  /**
   * CPU and memory requests and limits. Requests must not exceed limits.
   * @default - cpu 100m/500m, memory 64Mi/256Mi
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
  readonly labels?: { readonly [key: string]: string };
  /**
   * Service account the pods run as. Its token is never mounted.
   * @default - the namespace's `default` service account
   */
  readonly serviceAccountName?: string;
  /**
   * User id the container runs as. 0 needs a {@link PodSecurityOptOut} for RUN_AS_ROOT.
   * @default 65532
   */
  readonly runAsUser?: number;
  /**
   * Group id the container runs as, also used as `fsGroup`.
   * @default 65532
   */
  readonly runAsGroup?: number;
  /**
   * Mount the root filesystem read-only. `/tmp` is always a writable emptyDir.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * Allow privilege escalation (setuid binaries). Needs a {@link PodSecurityOptOut}.
   * @default false
   */
  readonly allowPrivilegeEscalation?: boolean;
  /**
   * Linux capabilities to add after dropping ALL. "restricted" allows only
   * NET_BIND_SERVICE; anything else needs a {@link PodSecurityOptOut}.
   * @default - none
   */
  readonly addCapabilities?: readonly string[];
  /**
   * Explicit opt-out from named Pod Security "restricted" controls.
   * @default - none: any setting that breaks "restricted" is an error
   */
  readonly podSecurityOptOut?: PodSecurityOptOut;
  /**
   * Size limit of the writable `/tmp` emptyDir.
   * @default '64Mi'
   */
  readonly tmpSizeLimit?: string;
  /**
   * Seconds between SIGTERM and SIGKILL; the Go server drains within it.
   * @default 30
   */
  readonly terminationGracePeriodSeconds?: number;
  /**
   * Make `terraform apply` wait until the rollout completes.
   * @default true
   */
  readonly waitForRollout?: boolean;
}

/**
 * Containers, volumes and environment another construct adds to a GoService's
 * pod, such as an OfflineMirror sidecar. Applied with
 * {@link GoService.addPodExtension}, which refuses clashes with the pod.
 */
export interface PodExtension {
  /** The construct that adds it; errors name its path. */
  readonly owner: Construct;
  /** Kind of the owner, for error messages (`OfflineMirror`). */
  readonly ownerKind: string;
  /**
   * Ports the extension listens on in the pod's network namespace, keyed by
   * the owner's prop that sets each (named in a clash error).
   * @default - none
   */
  readonly ports?: { readonly [prop: string]: number };
  /**
   * Sidecar containers; each must satisfy Pod Security "restricted" itself.
   * @default - none
   */
  readonly containers?: readonly DeploymentV1SpecTemplateSpecContainer[];
  /**
   * Init containers, run before the main container in the order given.
   * @default - none
   */
  readonly initContainers?: readonly DeploymentV1SpecTemplateSpecInitContainer[];
  /**
   * Pod volumes the containers above mount.
   * @default - none
   */
  readonly volumes?: readonly DeploymentV1SpecTemplateSpecVolume[];
  /**
   * Environment for the main container; a name the service already sets is an error.
   * @default - none
   */
  readonly env?: { readonly [name: string]: string };
  /**
   * Volume mounts for the main container.
   * @default - none
   */
  readonly mainVolumeMounts?: readonly DeploymentV1SpecTemplateSpecContainerVolumeMount[];
}

const DEFAULT_RESOURCES = {
  cpu: { request: '100m', limit: '500m' },
  memory: { request: '64Mi', limit: '256Mi' },
} as const;

/** Capabilities Pod Security "restricted" allows a container to add. */
const RESTRICTED_ALLOWED_CAPABILITIES = ['NET_BIND_SERVICE'];

/**
 * A Go HTTP service on Kubernetes: a Deployment, a ClusterIP Service and, when
 * replicas > 1, a PodDisruptionBudget. Every default satisfies Pod Security
 * "restricted": non-root uid 65532, no privilege escalation, all capabilities
 * dropped, RuntimeDefault seccomp, read-only root filesystem, no host
 * namespaces and no service-account token.
 */
export class GoService extends Construct {
  /** Name of the Deployment, Service and container. */
  public readonly name: string;
  /** Namespace the objects live in. */
  public readonly namespace: string;
  /** Container port. */
  public readonly port: number;
  /** Service port. */
  public readonly servicePort: number;
  /** Labels that select this service's pods. */
  public readonly selectorLabels: { readonly [key: string]: string };
  /** The Deployment (escape hatch). */
  public readonly deployment: DeploymentV1;
  /** The ClusterIP Service (escape hatch). */
  public readonly service: ServiceV1;
  /** The PodDisruptionBudget, when replicas > 1 (escape hatch). */
  public readonly podDisruptionBudget?: PodDisruptionBudgetV1;
  /** The Deployment spec as last rendered; extensions re-render it. */
  private spec: DeploymentV1Spec;
  /** Ports in use in the pod, with who uses them, for clash errors. */
  private readonly portOwners = new Map<number, string>();

  constructor(scope: Construct, id: string, props: GoServiceProps) {
    super(scope, id);
    const name = props.name ?? id;
    const namespace = props.namespace ?? 'default';
    const port = props.port ?? 8080;
    const servicePort = props.servicePort ?? 80;
    const replicas = props.replicas ?? 2;
    const uid = props.runAsUser ?? NONROOT_UID;
    const gid = props.runAsGroup ?? NONROOT_UID;
    const escalation = props.allowPrivilegeEscalation ?? false;
    const addCaps = props.addCapabilities ?? [];
    const liveness = props.liveness ?? Probe.http('/healthz');
    const readiness = props.readiness ?? Probe.http('/readyz');
    const cpu = { ...DEFAULT_RESOURCES.cpu, ...props.resources?.cpu };
    const memory = { ...DEFAULT_RESOURCES.memory, ...props.resources?.memory };
    const tmpSizeLimit = props.tmpSizeLimit ?? '64Mi';
    const grace = props.terminationGracePeriodSeconds ?? 30;
    const optOut = props.podSecurityOptOut;

    const c = new PropChecker(this, 'GoService');
    c.check('name', name, checkDns1035Label(name), 'Pass a "name" prop of lowercase letters, digits and "-", starting with a letter, such as "api".');
    if (!Token.isUnresolved(namespace)) {
      c.check('namespace', namespace, checkDns1123Label(namespace), 'Use an existing namespace name such as "default", or add the service through a PreviewEnvironment.');
    }
    if (!Token.isUnresolved(props.image)) {
      const parsed = ImageReference.parse(props.image);
      if (!parsed.ok) {
        c.fail('image', props.image, parsed.problem, 'Write it as "registry.internal/team/app:1.2.3" or "registry.internal/team/app@sha256:<64 hex>".');
      } else if (!parsed.image.pinned) {
        Annotations.of(this).addWarning(
          `image "${props.image}" is not pinned by digest; a tag can move, and IfNotPresent keeps whatever a node pulled first. Pin it as ${parsed.image.name}@sha256:<digest>.`,
        );
      }
    }
    c.check('port', port, checkPort(port), 'Use the port the Go server listens on, such as 8080.');
    c.check('servicePort', servicePort, checkPort(servicePort), 'Use the port clients should call, such as 80.');
    c.check('replicas', replicas, checkInteger(replicas, 0, 1000), 'Use a whole number of pods such as 1 or 2.');
    c.check('terminationGracePeriodSeconds', grace, checkInteger(grace, 0, 3600), 'Use a whole number of seconds such as 30.');
    c.check('runAsUser', uid, checkInteger(uid, 0, 2147483647), `Use a uid such as ${NONROOT_UID}.`);
    c.check('runAsGroup', gid, checkInteger(gid, 0, 2147483647), `Use a gid such as ${NONROOT_UID}.`);
    c.check('tmpSizeLimit', tmpSizeLimit, checkQuantity(tmpSizeLimit, QuantityKind.MEMORY), quantityHint(QuantityKind.MEMORY));
    for (const [key, value] of Object.entries(props.env ?? {})) {
      c.check(`env key`, key, checkEnvVarName(key), 'Rename it to letters, digits and "_", such as "LOG_LEVEL".');
      if (typeof value !== 'string') c.fail(`env["${key}"]`, value, 'is not a string', 'Quote the value, e.g. "8080".');
    }
    for (const p of labelMapProblems('labels', props.labels ?? {})) {
      c.fail(p.prop, p.value, p.problem, 'Use Kubernetes label syntax: "example.com/team": "payments".');
    }
    if (props.serviceAccountName !== undefined && !Token.isUnresolved(props.serviceAccountName)) {
      c.check('serviceAccountName', props.serviceAccountName, checkDns1123Label(props.serviceAccountName), 'Use the name of an existing service account.');
    }
    c.addAll(requestLimitProblems('resources.cpu', cpu.request, cpu.limit, QuantityKind.CPU));
    c.addAll(requestLimitProblems('resources.memory', memory.request, memory.limit, QuantityKind.MEMORY));
    c.addAll(liveness._problems('liveness', ProbeRole.LIVENESS));
    c.addAll(readiness._problems('readiness', ProbeRole.READINESS));
    if (props.startup) c.addAll(props.startup._problems('startup', ProbeRole.STARTUP));

    // Guarded overrides: each that would break "restricted" needs a named opt-out.
    const needs = (control: RestrictedControl) => !optOut?.covers(control);
    if (uid === 0 && needs(RestrictedControl.RUN_AS_ROOT)) {
      c.fail('runAsUser', uid, 'runs the container as root, which Pod Security "restricted" forbids', optOutFix(RestrictedControl.RUN_AS_ROOT, `or use a non-root uid such as ${NONROOT_UID}`));
    }
    if (escalation && needs(RestrictedControl.PRIVILEGE_ESCALATION)) {
      c.fail('allowPrivilegeEscalation', escalation, 'Pod Security "restricted" forbids', optOutFix(RestrictedControl.PRIVILEGE_ESCALATION, 'or leave it false'));
    }
    const extraCaps = addCaps.filter((cap) => !RESTRICTED_ALLOWED_CAPABILITIES.includes(cap));
    if (extraCaps.length > 0 && needs(RestrictedControl.CAPABILITIES)) {
      c.fail('addCapabilities', addCaps, `adds ${extraCaps.join(', ')}, and Pod Security "restricted" allows only NET_BIND_SERVICE`, optOutFix(RestrictedControl.CAPABILITIES, 'or drop them'));
    }
    if (optOut && (typeof optOut.reason !== 'string' || optOut.reason.trim().length < 10)) {
      c.fail('podSecurityOptOut.reason', optOut.reason, 'is shorter than 10 characters', 'Say why the workload needs to break "restricted", so reviewers can judge it.');
    }
    c.throwIfAny({ discard: true });

    this.name = name;
    this.namespace = namespace;
    this.port = port;
    this.servicePort = servicePort;
    this.selectorLabels = { [LABELS.name]: name, [LABELS.instance]: name };
    const labels = {
      ...props.labels,
      ...this.selectorLabels,
      [LABELS.component]: 'go-service',
      [LABELS.managedBy]: 'terraform',
    };
    const annotations = optOut
      ? { [`${LABEL_DOMAIN}/pod-security-opt-out`]: `${[...optOut.controls].sort().join(',')}: ${optOut.reason}` }
      : undefined;
    if (optOut) {
      Annotations.of(this).addWarning(
        `Pod Security "restricted" opt-out for ${optOut.controls.join(', ')}: ${optOut.reason}. Namespaces that enforce "restricted" will reject these pods.`,
      );
    }

    const seccompProfile = { type: 'RuntimeDefault' };
    const runAsNonRoot = uid !== 0;
    const env = Object.entries(props.env ?? {}).map(([envName, value]) => ({ name: envName, value }));

    this.portOwners.set(port, `the main container of GoService ${this.node.path}`);
    this.spec = {
      replicas: String(replicas),
      revisionHistoryLimit: 10,
      selector: { matchLabels: this.selectorLabels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '0' } },
      template: {
        metadata: { labels, annotations },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          hostNetwork: false,
          hostPid: false,
          hostIpc: false,
          serviceAccountName: props.serviceAccountName,
          terminationGracePeriodSeconds: grace,
          securityContext: {
            runAsNonRoot,
            runAsUser: String(uid),
            runAsGroup: String(gid),
            fsGroup: String(gid),
            seccompProfile,
          },
          container: [
            {
              name,
              image: props.image,
              imagePullPolicy: 'IfNotPresent',
              args: props.args ? [...props.args] : undefined,
              port: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              env: env.length > 0 ? env : undefined,
              resources: {
                requests: { cpu: cpu.request, memory: memory.request },
                limits: { cpu: cpu.limit, memory: memory.limit },
              },
              livenessProbe: liveness._render(port),
              readinessProbe: readiness._render(port),
              startupProbe: props.startup?._render(port),
              securityContext: {
                runAsNonRoot,
                runAsUser: String(uid),
                runAsGroup: String(gid),
                allowPrivilegeEscalation: escalation,
                privileged: false,
                readOnlyRootFilesystem: props.readOnlyRootFilesystem ?? true,
                capabilities: { drop: ['ALL'], add: addCaps.length > 0 ? [...addCaps] : undefined },
                seccompProfile,
              },
              volumeMount: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volume: [{ name: 'tmp', emptyDir: { sizeLimit: tmpSizeLimit } }],
        },
      },
    };
    this.deployment = new DeploymentV1(this, 'Deployment', {
      metadata: { name, namespace, labels, annotations },
      waitForRollout: props.waitForRollout ?? true,
      spec: this.spec,
    });

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
   * Adds sidecars, init containers, volumes and main-container environment to
   * the pod. Refuses, naming the owner's construct path and prop, a port the
   * pod already listens on, an environment variable the service already sets,
   * and a container or volume name already in the pod; nothing is changed then.
   */
  public addPodExtension(extension: PodExtension): void {
    const pod = podSpecOf(this.spec);
    const main = pod.container as DeploymentV1SpecTemplateSpecContainer[];
    const c = new PropChecker(extension.owner, extension.ownerKind);
    for (const [prop, port] of Object.entries(extension.ports ?? {})) {
      const user = this.portOwners.get(port);
      if (user) c.fail(prop, port, `is a port ${user} already listens on; containers of one pod share its network namespace`, `Pick a free port, such as ${this.freePort(port)}.`);
    }
    const env = (main[0].env ?? []) as Array<{ name: string; value?: string }>;
    for (const name of Object.keys(extension.env ?? {})) {
      if (env.some((e) => e.name === name)) {
        c.fail('env', name, `is already set on GoService ${this.node.path}`, `Remove "${name}" from the GoService's env: ${extension.ownerKind} sets it.`);
      }
    }
    const containerNames = new Set([...main, ...((pod.initContainer ?? []) as DeploymentV1SpecTemplateSpecInitContainer[])].map((x) => x.name));
    for (const x of [...(extension.containers ?? []), ...(extension.initContainers ?? [])]) {
      if (containerNames.has(x.name)) c.fail('container name', x.name, `is already a container of GoService ${this.node.path}`, 'Give the extension a different id or name.');
      containerNames.add(x.name);
    }
    const volumeNames = new Set(((pod.volume ?? []) as DeploymentV1SpecTemplateSpecVolume[]).map((v) => v.name));
    for (const v of extension.volumes ?? []) {
      if (v.name !== undefined && volumeNames.has(v.name)) c.fail('volume name', v.name, `is already a volume of GoService ${this.node.path}`, 'Give the extension a different id or name.');
    }
    c.throwIfAny();

    for (const [prop, port] of Object.entries(extension.ports ?? {})) {
      this.portOwners.set(port, `${extension.ownerKind} ${extension.owner.node.path} (prop "${prop}")`);
    }
    const extraEnv = Object.entries(extension.env ?? {}).map(([name, value]) => ({ name, value }));
    const [first, ...rest] = main;
    this.spec = {
      ...this.spec,
      template: {
        ...this.spec.template,
        spec: {
          ...pod,
          container: [
            {
              ...first,
              env: env.length + extraEnv.length > 0 ? [...env, ...extraEnv] : undefined,
              volumeMount: [...((first.volumeMount ?? []) as DeploymentV1SpecTemplateSpecContainerVolumeMount[]), ...(extension.mainVolumeMounts ?? [])],
            },
            ...rest,
            ...(extension.containers ?? []),
          ],
          initContainer: [...((pod.initContainer ?? []) as DeploymentV1SpecTemplateSpecInitContainer[]), ...(extension.initContainers ?? [])],
          volume: [...((pod.volume ?? []) as DeploymentV1SpecTemplateSpecVolume[]), ...(extension.volumes ?? [])],
        },
      },
    };
    this.deployment.putSpec(this.spec);
  }

  /** The first port above `from` nobody in the pod uses, for fix hints. */
  private freePort(from: number): number {
    let p = from + 1;
    while (this.portOwners.has(p)) p++;
    return p;
  }
}

/** The pod template's spec: the one place GoService and its extensions edit. */
function podSpecOf(spec: DeploymentV1Spec): NonNullable<DeploymentV1Spec['template']['spec']> {
  const pod = spec.template.spec;
  if (!pod) throw new Error('GoService always renders a pod spec');
  return pod;
}

function optOutFix(control: RestrictedControl, alternative: string): string {
  return `Pass podSecurityOptOut: PodSecurityOptOut.allow("<why>", RestrictedControl.${enumKey(control)}) to accept that, ${alternative}.`;
}

function enumKey(control: RestrictedControl): string {
  return (Object.keys(RestrictedControl) as Array<keyof typeof RestrictedControl>).find((k) => RestrictedControl[k] === control) ?? control;
}
