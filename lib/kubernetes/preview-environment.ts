import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { DefaultServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/default-service-account-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { Annotations, TerraformVariable } from 'cdktf';
import { Construct, IConstruct } from 'constructs';
import { Duration } from '../core/duration';
import { Cpu, Size } from '../core/size';
import { AirgapError, PropProblem } from '../core/errors';
import { PropChecker } from '../private/prop-checker';
import { amounts, ResourceAmounts, showAmount } from '../private/resources';
import { checkDns1123Label, checkDns1123Subdomain, checkLabelValue, checkObjectName, labelMapProblems } from '../private/validation';
import { GoService, GoServiceOptions } from './go-service';
import { WellKnownLabels } from './labels';
import { ClusterDnsPeer, ContainerBounds, ContainerDefaults, IngressControllerPeer, MonitoringPeer, NamespaceNetworkPolicy, NamespaceQuota, NamespaceQuotaLimits, ResolvedBounds } from './namespace-policies';
import { RegistryCredentials } from './registry-credentials';
import { PreviewName } from './preview-name';
import { ContainerResources } from './resources';

/** The optional Ingress at `<slug>.<baseDomain>`. */
export interface PreviewIngressOptions {
  /** Parent domain; the host is `<slug>.<baseDomain>`. */
  readonly baseDomain: string;
  /**
   * IngressClass to use.
   * @default - the cluster's default class
   */
  readonly ingressClassName?: string;
  /**
   * Secret holding the TLS certificate for the host.
   * @default - no TLS
   */
  readonly tlsSecretName?: string;
}

/** Props for {@link PreviewEnvironment}. */
export interface PreviewEnvironmentProps {
  /** Branch or PR name, any text. The namespace name is derived from it. */
  readonly branch: string;
  /**
   * Prefix of the namespace name.
   * @default 'preview-'
   */
  readonly namespacePrefix?: string;
  /**
   * When the environment was created, as ISO-8601 UTC (`2026-11-21T10:00:00Z`).
   * The expiry is `createdAt + ttlHours`. Pass it in (CI's pipeline start, the
   * commit time); synth never reads the clock, so output stays deterministic.
   * @default - no expiry is recorded, and synth warns
   */
  readonly createdAt?: string;
  /**
   * How long the environment should live, in whole hours.
   * @default Duration.hours(72)
   */
  readonly ttl?: Duration;
  /**
   * Pod Security Standards version the namespace labels pin.
   * @default 'v1.34'
   */
  readonly podSecurityVersion?: string;
  /**
   * Value of `app.kubernetes.io/part-of` on everything.
   * @default 'preview'
   */
  readonly partOf?: string;
  /**
   * Extra labels on the namespace.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
  /**
   * Cluster DNS pods that workloads may query.
   * @default - kube-system pods labelled k8s-app=kube-dns
   */
  readonly dns?: ClusterDnsPeer;
  /**
   * Ingress controller allowed to reach the service ports.
   * @default - any pod in the ingress-nginx namespace
   */
  readonly ingressController?: IngressControllerPeer;
  /**
   * ResourceQuota limits.
   * @default - see {@link NamespaceQuotaLimits}
   */
  readonly quota?: NamespaceQuotaLimits;
  /**
   * What the LimitRange gives containers that set no resources.
   * @default - the library's defaults: cpu 100m/500m, memory 64Mi/256Mi, ephemeral storage 16Mi/64Mi
   */
  readonly containerDefaults?: ContainerResources;
  /**
   * The most one container may use (the LimitRange `max`), so no one container takes the whole quota.
   * @default - cpu Cpu.cores(2), memory Size.gibibytes(2), ephemeral storage Size.gibibytes(4)
   */
  readonly containerMax?: ContainerBounds;
  /**
   * The least one container may request (the LimitRange `min`).
   * @default - cpu Cpu.millicores(10), memory Size.mebibytes(16), ephemeral storage Size.mebibytes(16)
   */
  readonly containerMin?: ContainerBounds;
  /**
   * Secrets with registry credentials that every service's pods pull with.
   * {@link PreviewEnvironment.addRegistryCredentials} adds one it creates.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * Where the cluster's Prometheus runs: services with `metrics` get an allow
   * from it to their metrics port, and only that port.
   * @default - any pod in the monitoring namespace
   */
  readonly monitoring?: MonitoringPeer;
  /**
   * Name of the environment's ServiceAccount.
   * @default 'preview-workload'
   */
  readonly serviceAccountName?: string;
  /**
   * How long `destroy` waits for the namespace to finish terminating.
   * @default Duration.minutes(10)
   */
  readonly deleteTimeout?: Duration;
  /**
   * An Ingress per exposed service at `<slug>.<baseDomain>`.
   * @default - no Ingress
   */
  readonly ingress?: PreviewIngressOptions;
}

/** Options for {@link PreviewEnvironment.addService}. */
export interface AddServiceOptions {
  /**
   * Path on the environment's Ingress host that routes to this service. Needs
   * the environment's `ingress` prop.
   * @default - not exposed through the Ingress
   */
  readonly ingressPath?: string;
}

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$/;

/**
 * One isolated namespace per branch or pull request: Pod Security "restricted"
 * enforced, default-deny network policies with explicit allows for DNS, traffic
 * within the namespace and the ingress controller, a ResourceQuota and
 * LimitRange, a token-less ServiceAccount and TTL labels. Every object lives in
 * the namespace and in Terraform state, so `destroy` leaves nothing behind.
 */
export class PreviewEnvironment extends Construct {
  /** The original branch name. */
  public readonly branch: string;
  /** The DNS-safe slug of the branch, used for the Ingress host. */
  public readonly slug: string;
  /** The namespace name. */
  public readonly namespaceName: string;
  /** When the environment expires, ISO-8601 UTC, if `createdAt` was given. */
  public readonly expiresAt?: string;
  /** The Namespace (escape hatch). */
  public readonly namespace: NamespaceV1;
  /** Denies all ingress and egress not allowed by another policy (escape hatch). */
  public readonly defaultDenyPolicy: NamespaceNetworkPolicy;
  /** Allows DNS queries to the cluster DNS pods (escape hatch). */
  public readonly allowDnsPolicy: NamespaceNetworkPolicy;
  /** Allows traffic between pods of this namespace (escape hatch). */
  public readonly allowSameNamespacePolicy: NamespaceNetworkPolicy;
  /** The ResourceQuota (escape hatch). */
  public readonly resourceQuota: NamespaceQuota;
  /** The LimitRange (escape hatch). */
  public readonly limitRange: ContainerDefaults;
  /** The workloads' ServiceAccount, with no token mounted (escape hatch). */
  public readonly serviceAccount: ServiceAccountV1;
  /**
   * The namespace's own `default` ServiceAccount, managed so that pods created
   * outside this library get no token either (escape hatch).
   */
  public readonly defaultServiceAccount: DefaultServiceAccountV1;
  /** Labels every pod of the environment carries; label a build job's pods with them to let it reach the namespace mirror. */
  public readonly podLabels: { [key: string]: string };

  private readonly labels: { [key: string]: string };
  /**
   * The namespace's and service account's names as references, read once:
   * every read of a provider attribute makes a new token, and cdktf captures a
   * full stack trace for each, which dominates synth time at scale.
   */
  private readonly namespaceRef: string;
  private readonly serviceAccountRef: string;
  private readonly ingressOptions?: PreviewIngressOptions;
  private readonly ingressPeer?: IngressControllerPeer;
  private readonly ingressPaths = new Map<string, string>();
  private readonly monitoringPeer?: MonitoringPeer;
  private readonly pullSecrets: string[];
  /** The services, by Kubernetes name. */
  private readonly services = new Map<string, GoService>();
  /** The namespace mirror, once one serves the namespace. */
  private mirror?: IConstruct;
  /** Set at the first synth: a service added later would be missing from its output. */
  private synthesized = false;

  constructor(scope: Construct, id: string, props: PreviewEnvironmentProps) {
    super(scope, id);
    const prefix = props.namespacePrefix ?? 'preview-';
    const ttl = props.ttl ?? Duration.hours(72);
    const psVersion = props.podSecurityVersion ?? 'v1.34';
    const partOf = props.partOf ?? 'preview';
    const saName = props.serviceAccountName ?? 'preview-workload';
    const deleteTimeout = props.deleteTimeout ?? Duration.minutes(10);

    const c = new PropChecker(this, 'PreviewEnvironment');
    const branchFix = 'Pass the branch or PR name as a string, such as process.env.PREVIEW_BRANCH.';
    if (typeof props.branch !== 'string') {
      c.fail('branch', props.branch, `is not a string but ${props.branch === null ? 'null' : typeof props.branch}`, branchFix);
    } else if (props.branch.trim().length === 0) {
      c.fail('branch', props.branch, props.branch.length === 0 ? 'is empty' : 'is only white space', branchFix);
    }
    const prefixOk = prefix === '' || /^[a-z0-9]([-a-z0-9]*)$/.test(prefix);
    if (!prefixOk || prefix.length > 40) {
      c.fail('namespacePrefix', prefix, 'is not the start of a DNS-1123 label of at most 40 characters', 'Use lowercase letters, digits and "-", such as "preview-".');
    }
    c.addAll(ttl._problems('ttl', Duration.hours(1), Duration.days(365), 'h'));
    let createdMs: number | undefined;
    if (props.createdAt !== undefined) {
      createdMs = parseIsoUtc(props.createdAt);
      if (createdMs === undefined) {
        c.fail('createdAt', props.createdAt, 'is not an ISO-8601 UTC timestamp', 'Write it as "2026-11-21T10:00:00Z", e.g. from `git log -1 --format=%cI` converted to UTC.');
      }
    }
    if (!/^v1\.[0-9]{1,2}$|^latest$/.test(psVersion)) {
      c.fail('podSecurityVersion', psVersion, 'is not a Kubernetes minor version', 'Use a version such as "v1.34"; pin one rather than "latest".');
    }
    c.check('partOf', partOf, checkLabelValueStrict(partOf), 'Use a label value such as "payments".');
    c.addAll(NamespaceNetworkPolicy._peerProblems('dns', props.dns));
    c.addAll(NamespaceNetworkPolicy._peerProblems('ingressController', props.ingressController));
    c.addAll(NamespaceNetworkPolicy._peerProblems('monitoring', props.monitoring));
    for (const name of props.imagePullSecrets ?? []) {
      c.check('imagePullSecrets', name, checkObjectName(name), 'Use the name of a kubernetes.io/dockerconfigjson Secret in the namespace.');
    }
    c.check('serviceAccountName', saName, checkDns1123Label(saName), 'Use a name such as "preview-workload".');
    c.addAll(deleteTimeout._problems('deleteTimeout', Duration.seconds(1), Duration.days(1), 's'));
    for (const p of labelMapProblems('labels', props.labels ?? {})) c.fail(p.prop, p.value, p.problem, 'Use Kubernetes label syntax: "example.com/team": "payments".');
    c.addAll(NamespaceQuota._problems('quota', props.quota));
    c.addAll(ContainerDefaults._problems('containerDefaults', props.containerDefaults, props.containerMax, props.containerMin));
    if (props.ingress) {
      c.check('ingress.baseDomain', props.ingress.baseDomain, checkDns1123Subdomain(props.ingress.baseDomain), 'Use a DNS domain such as "preview.example.internal".');
      if (props.ingress.tlsSecretName !== undefined) {
        c.check('ingress.tlsSecretName', props.ingress.tlsSecretName, checkDns1123Subdomain(props.ingress.tlsSecretName), 'Use the name of a TLS Secret in the namespace.');
      }
      if (props.ingress.ingressClassName !== undefined) {
        c.check('ingress.ingressClassName', props.ingress.ingressClassName, checkDns1123Subdomain(props.ingress.ingressClassName), 'Use the name of an IngressClass such as "nginx".');
      }
    }
    const namespaceName = c.empty ? PreviewName.dnsLabel(props.branch, { prefix }) : '';
    if (c.empty && props.ingress) {
      const host = `${PreviewName.dnsLabel(props.branch)}.${props.ingress.baseDomain}`;
      if (host.length > 253) {
        c.fail('ingress.baseDomain', props.ingress.baseDomain, `makes the Ingress host "${host.slice(0, 40)}…" ${host.length} characters long, above DNS's 253`, `Use a base domain of at most ${253 - host.length + props.ingress.baseDomain.length} characters.`);
      }
    }
    if (c.empty) {
      const other = claim(this, 'namespace', namespaceName);
      if (other) {
        c.fail('branch', props.branch, `maps to namespace "${namespaceName}", which PreviewEnvironment ${other} already creates`, 'Give each environment its own branch or namespacePrefix; two environments in one namespace would fight over its objects.');
      }
    }
    c.throwIfAny({ discard: true });

    this.branch = props.branch;
    this.slug = PreviewName.dnsLabel(props.branch);
    this.namespaceName = namespaceName;
    this.monitoringPeer = props.monitoring;
    this.pullSecrets = [...(props.imagePullSecrets ?? [])];
    this.ingressOptions = props.ingress;
    this.ingressPeer = props.ingressController;
    const ttlHours = ttl.toHours();

    const expiry: Record<string, string> = {};
    const expiryAnnotations: Record<string, string> = {};
    if (createdMs !== undefined) {
      const expires = new Date(createdMs + ttl.toMilliseconds()).toISOString().replace(/\.\d{3}Z$/, 'Z');
      this.expiresAt = expires;
      // Label values cannot hold ":", so the label is the basic ISO form, which still sorts by time.
      expiry[`${WellKnownLabels.DOMAIN}/expires-at`] = expires.replace(/[-:]/g, '');
      expiryAnnotations[`${WellKnownLabels.DOMAIN}/created-at`] = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
      expiryAnnotations[`${WellKnownLabels.DOMAIN}/expires-at`] = expires;
      // kube-janitor's own convention, for clusters that already run it.
      expiryAnnotations['janitor/expires'] = expires;
    } else {
      Annotations.of(this).addWarning(
        'no createdAt was given, so the preview namespace carries no expiry and no reaper can collect it. Pass createdAt (for example the pipeline start time).',
      );
    }

    this.labels = {
      [WellKnownLabels.PART_OF]: partOf,
      [WellKnownLabels.MANAGED_BY]: 'terraform',
    };
    this.podLabels = { ...this.labels };
    const namespaceLabels = {
      ...props.labels,
      ...this.labels,
      [WellKnownLabels.INSTANCE]: this.slug,
      [WellKnownLabels.COMPONENT]: 'preview-environment',
      [`${WellKnownLabels.DOMAIN}/preview`]: 'true',
      [`${WellKnownLabels.DOMAIN}/ttl-hours`]: String(ttlHours),
      ...expiry,
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/enforce-version': psVersion,
      'pod-security.kubernetes.io/audit': 'restricted',
      'pod-security.kubernetes.io/audit-version': psVersion,
      'pod-security.kubernetes.io/warn': 'restricted',
      'pod-security.kubernetes.io/warn-version': psVersion,
    };

    this.namespace = new NamespaceV1(this, 'Namespace', {
      metadata: {
        name: this.namespaceName,
        labels: namespaceLabels,
        annotations: { [`${WellKnownLabels.DOMAIN}/branch`]: props.branch, ...expiryAnnotations },
      },
      waitForDefaultServiceAccount: false,
      timeouts: { delete: deleteTimeout.toGoString() },
    });
    // Referencing the resource (not the plain name) orders every object after the
    // namespace on apply and before it on destroy.
    const ns = this.namespace.metadata.name;
    this.namespaceRef = ns;
    const meta = (name: string) => ({ name, namespace: ns, labels: this.labels });

    const where = { namespace: ns, labels: this.labels };
    this.defaultDenyPolicy = NamespaceNetworkPolicy.denyAll(this, 'DefaultDeny', where);
    this.allowDnsPolicy = NamespaceNetworkPolicy.allowDns(this, 'AllowDns', { ...where, dns: props.dns });
    this.allowSameNamespacePolicy = NamespaceNetworkPolicy.allowSameNamespace(this, 'AllowSameNamespace', { ...where, namespaceName: this.namespaceName });
    this.resourceQuota = new NamespaceQuota(this, 'Quota', { ...where, limits: props.quota });
    this.resourceQuota._beforeSynth(() => this.checkAtSynth());
    this.limitRange = new ContainerDefaults(this, 'LimitRange', { ...where, resources: props.containerDefaults, max: props.containerMax, min: props.containerMin });
    this.defaultServiceAccount = new DefaultServiceAccountV1(this, 'DefaultServiceAccount', {
      metadata: { namespace: ns, labels: this.labels },
      automountServiceAccountToken: false,
    });

    this.serviceAccount = new ServiceAccountV1(this, 'ServiceAccount', {
      metadata: meta(saName),
      automountServiceAccountToken: false,
    });
    this.serviceAccountRef = this.serviceAccount.metadata.name;
  }

  /** The Ingress host, `<slug>.<baseDomain>`, when the `ingress` prop is set. */
  get host(): string | undefined {
    return this.ingressOptions ? `${this.slug}.${this.ingressOptions.baseDomain}` : undefined;
  }

  /**
   * Places a GoService in the environment: in its namespace, under its
   * token-less ServiceAccount, with a NetworkPolicy that lets the ingress
   * controller reach the service's container port and, with `ingressPath`, an
   * Ingress rule on the environment's host.
   */
  addService(id: string, props: GoServiceOptions, options: AddServiceOptions = {}): GoService {
    const path = options.ingressPath;
    const c = new PropChecker(this, 'PreviewEnvironment');
    const existing = this.node.tryFindChild(id);
    if (existing) {
      c.fail(`addService("${id}")`, id, `is the id of ${existing.node.path} already`, 'Give each service its own id.');
    }
    const name = props.name ?? id;
    const sameName = this.services.get(name);
    if (sameName) {
      c.fail(`addService("${id}").name`, name, `is the Kubernetes name of ${sameName.node.path} already; two Deployments named "${name}" in namespace "${this.namespaceName}" cannot both exist`, 'Give each service its own name.');
    }
    if (this.synthesized) {
      c.fail(`addService("${id}")`, id, 'comes after the environment was synthesized, so the synthesized output would lack it', 'Add every service before app.synth() or Testing.synth().');
    }
    if (path !== undefined) {
      if (!this.ingressOptions) {
        c.fail(`addService("${id}").ingressPath`, path, 'needs an Ingress, but the environment has no "ingress" prop', 'Set ingress: { baseDomain: "preview.example.internal" } on the PreviewEnvironment, or leave ingressPath out.');
      } else if (!/^\/[^\s]*$/.test(path)) {
        c.fail(`addService("${id}").ingressPath`, path, 'is not an absolute path', 'Use a path such as "/" or "/api".');
      } else if (this.ingressPaths.has(path)) {
        c.fail(`addService("${id}").ingressPath`, path, `is already routed to service "${this.ingressPaths.get(path)}"`, 'Give each service its own path.');
      }
    }
    // Checked before the service exists, so a failure leaves nothing behind.
    c.throwIfAny();

    const service = new GoService(this, id, {
      ...props,
      namespaceName: this.namespaceRef,
      serviceAccountName: this.serviceAccountRef,
      labels: { ...props.labels, ...this.labels },
      imagePullSecrets: [...new Set([...this.pullSecrets, ...(props.imagePullSecrets ?? [])])],
    });
    this.services.set(service.name, service);

    if (service.metricsPort !== undefined) {
      NamespaceNetworkPolicy.allowMonitoring(service, 'AllowMonitoring', {
        name: policyName('allow-monitoring', service.name),
        namespace: this.namespaceRef,
        labels: this.labels,
        podLabels: service.selectorLabels,
        port: service.metricsPort,
        monitoring: this.monitoringPeer,
      });
    }

    if (path !== undefined && this.ingressOptions) {
      // Only a service the Ingress routes to accepts the controller's traffic.
      NamespaceNetworkPolicy.allowIngressController(service, 'AllowIngressController', {
        name: policyName('allow-ingress-controller', service.name),
        namespace: this.namespaceRef,
        labels: this.labels,
        podLabels: service.selectorLabels,
        port: service.port,
        controller: this.ingressPeer,
      });
      this.ingressPaths.set(path, service.name);
      const host = this.host as string;
      new IngressV1(service, 'Ingress', {
        metadata: { name: service.name, namespace: this.namespaceRef, labels: this.labels },
        spec: {
          ingressClassName: this.ingressOptions.ingressClassName,
          rule: [
            {
              host,
              http: {
                path: [
                  {
                    path,
                    pathType: 'Prefix',
                    backend: { service: { name: service.service.metadata.name, port: { number: service.servicePort } } },
                  },
                ],
              },
            },
          ],
          tls: this.ingressOptions.tlsSecretName ? [{ hosts: [host], secretName: this.ingressOptions.tlsSecretName }] : undefined,
        },
      });
    }
    return service;
  }

  /**
   * Creates a `kubernetes.io/dockerconfigjson` Secret in the namespace from a
   * sensitive Terraform variable, and makes every service of the environment
   * pull with it, those added before included.
   */
  addRegistryCredentials(id: string, props: EnvironmentRegistryCredentialsProps): RegistryCredentials {
    const existing = this.node.tryFindChild(id);
    if (existing) {
      throw new AirgapError(this.node.path, 'PreviewEnvironment', [{ prop: `addRegistryCredentials("${id}")`, value: id, problem: `is the id of ${existing.node.path} already`, fix: 'Give the credentials their own id.' }]);
    }
    const credentials = new RegistryCredentials(this, id, { ...props, namespace: this.namespaceRef, labels: this.labels });
    this.pullSecrets.push(credentials.secretName);
    for (const service of this.services.values()) service.pod.addImagePullSecret(credentials.secretName);
    return credentials;
  }

  /** The services placed by {@link PreviewEnvironment.addService}. */
  get serviceList(): GoService[] {
    return [...this.services.values()];
  }

  /**
   * Records that `mirror` serves the namespace; a second is refused, naming both.
   * @internal
   */
  _claimMirror(mirror: IConstruct): PropProblem | undefined {
    const held = this.mirror;
    // A mirror whose construction failed was discarded and holds no claim.
    if (held && held.node.scope?.node.tryFindChild(held.node.id) === held) {
      return { prop: 'environment', value: this.node.path, problem: `is already served by the namespace mirror ${held.node.path}`, fix: 'Serve a namespace with one OfflineMirrorService; its Service is shared by every pod there.' };
    }
    this.mirror = mirror;
    return undefined;
  }

  /**
   * Checks the services against the quota and LimitRange at synth, when every
   * service and sidecar exists: a misfit would otherwise apply and then stall
   * with "exceeded quota" or "forbidden: maximum ... usage".
   */
  private checkAtSynth(): void {
    this.synthesized = true;
    const problems = fitProblems(this.resourceQuota.limits as Required<NamespaceQuotaLimits>, this.limitRange, [...this.services.values()]);
    if (problems.length > 0) throw new AirgapError(this.node.path, 'PreviewEnvironment', problems);
  }
}

/** Props for {@link PreviewEnvironment.addRegistryCredentials}. */
export interface EnvironmentRegistryCredentialsProps {
  /** Registry host the credentials are for, with port: `registry.internal:5000`. */
  readonly registry: string;
  /** User name; literal text or a Terraform reference. */
  readonly username: string;
  /** The password or token, as a Terraform variable declared `sensitive: true`. */
  readonly password: TerraformVariable;
  /**
   * Name of the Secret.
   * @default 'registry-credentials'
   */
  readonly name?: string;
}

function boundAmounts(b: ResolvedBounds): ResourceAmounts {
  return { cpu: b.cpu.toMillicores(), memory: b.memory.toBytes(), storage: b.ephemeralStorage.toBytes() };
}

function policyName(prefix: string, service: string): string {
  return `${prefix}-${service}`.slice(0, 63).replace(/-+$/, '');
}

const claims = new WeakMap<IConstruct, Map<string, string>>();

/** Claims `key` for `scope` in its app; returns the path of an earlier claimant. */
function claim(scope: IConstruct, kind: string, key: string): string | undefined {
  const root = scope.node.root;
  const map = claims.get(root) ?? new Map<string, string>();
  claims.set(root, map);
  const k = `${kind}\u0000${key}`;
  const other = map.get(k);
  // A construct that was discarded after a failed check no longer holds its claim.
  if (other !== undefined && other !== scope.node.path && findByPath(root, other)) return other;
  map.set(k, scope.node.path);
  return undefined;
}

function findByPath(root: IConstruct, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = root;
  for (const id of path.split('/')) {
    node = node?.node.tryFindChild(id);
    if (!node) return undefined;
  }
  return node;
}

const KINDS: Array<[keyof ResourceAmounts, 'requests' | 'limits', keyof NamespaceQuotaLimits, string]> = [
  ['cpu', 'requests', 'requestsCpu', 'requests.cpu'],
  ['memory', 'requests', 'requestsMemory', 'requests.memory'],
  ['storage', 'requests', 'requestsEphemeralStorage', 'requests.ephemeral-storage'],
  ['cpu', 'limits', 'limitsCpu', 'limits.cpu'],
  ['memory', 'limits', 'limitsMemory', 'limits.memory'],
  ['storage', 'limits', 'limitsEphemeralStorage', 'limits.ephemeral-storage'],
];

/**
 * What does not fit: each container against the LimitRange, and the sum over
 * services of (replicas + rolling-update surge) x the pod's effective
 * requests and limits against the quota, as Kubernetes counts them.
 */
function fitProblems(quota: Required<NamespaceQuotaLimits>, range: ContainerDefaults, services: GoService[]): PropProblem[] {
  const out: PropProblem[] = [];
  const max = boundAmounts(range.max);
  const min = boundAmounts(range.min);
  const propOf = { cpu: 'cpu', memory: 'memory', storage: 'ephemeralStorage' } as const;
  for (const service of services) {
    for (const container of service.pod._charged()) {
      const a = amounts(container.resources);
      for (const k of ['cpu', 'memory', 'storage'] as const) {
        if (a.limits[k] > max[k]) {
          out.push({ prop: `containerMax.${propOf[k]}`, value: showAmount(k, max[k]), problem: `is below the ${k === 'storage' ? 'ephemeral-storage' : k} limit ${showAmount(k, a.limits[k])} of ${container.who}, so the API server would refuse its pods`, fix: `Raise containerMax.${propOf[k]} to at least ${showAmount(k, a.limits[k])}, or lower that container's limit.` });
        }
        if (a.requests[k] < min[k]) {
          out.push({ prop: `containerMin.${propOf[k]}`, value: showAmount(k, min[k]), problem: `is above the ${k === 'storage' ? 'ephemeral-storage' : k} request ${showAmount(k, a.requests[k])} of ${container.who}, so the API server would refuse its pods`, fix: `Lower containerMin.${propOf[k]} to ${showAmount(k, a.requests[k])}, or raise that container's request.` });
        }
      }
    }
  }
  const running = services.filter((s) => s.replicas > 0);
  if (quota.pods === 0 && services.length > 0) {
    out.push({ prop: 'quota.pods', value: 0, problem: `allows no pod, but the environment has services (${services.map((s) => s.name).join(', ')})`, fix: 'Raise quota.pods, or remove the services.' });
    return out;
  }
  // A rolling update runs ceil(25%) extra pods (maxSurge 25%, maxUnavailable 0) beside the old ones.
  const pods = running.map((s) => ({ s, steady: s.replicas, peak: s.replicas + Math.ceil(s.replicas / 4), pod: s.pod._effective() }));
  const list = (f: (p: (typeof pods)[number]) => string) => pods.map(f).join(', ');
  const peakPods = pods.reduce((n, p) => n + p.peak, 0);
  if (peakPods > quota.pods) {
    const steady = pods.reduce((n, p) => n + p.steady, 0);
    out.push({
      prop: 'quota.pods',
      value: quota.pods,
      problem: `is below the ${peakPods} pods the services run during a rolling update (${steady} replicas + 25% surge: ${list((p) => `${p.s.name} ${p.peak}`)})`,
      fix: `Raise quota.pods to at least ${peakPods}, or lower the replicas.`,
    });
  }
  for (const [k, side, key, hard] of KINDS) {
    const cap = quota[key];
    const limit = cap instanceof Cpu ? cap.toMillicores() : (cap as Size).toBytes();
    const total = pods.reduce((n, p) => n + p.peak * p.pod[side][k], 0);
    if (total > limit) {
      out.push({
        prop: `quota.${key}`,
        value: showAmount(k, limit),
        problem: `is below the ${showAmount(k, total)} of ${hard} the services need during a rolling update (pods incl. 25% surge x per-pod ${side}, sidecars and emptyDirs included: ${list((p) => `${p.s.name} ${p.peak} x ${showAmount(k, p.pod[side][k])}`)})`,
        fix: `Raise quota.${key} to at least ${showAmount(k, total)}, or lower the replicas or the ${side}.`,
      });
    }
  }
  return out;
}

function checkLabelValueStrict(value: string): string | undefined {
  return value.length === 0 ? 'is empty' : checkLabelValue(value);
}

function parseIsoUtc(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a round trip catches it.
  const back = new Date(ms).toISOString();
  if (back.slice(0, 19) !== text.slice(0, 19)) return undefined;
  return ms;
}

