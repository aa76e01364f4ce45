import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { NetworkPolicyV1, NetworkPolicyV1Config } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { Construct } from 'constructs';
import { Cpu, Size } from '../core/size';
import { PropProblem } from '../core/errors';
import { renderResources, resolveResources, resourceProblems } from '../private/resources';
import { checkDns1123Label, checkInteger, labelMapProblems } from '../private/validation';
import { WellKnownLabels } from './labels';
import { ContainerResources } from './resources';

/** Where a namespace-scoped object goes. */
export interface NamespacedOptions {
  /** Namespace name; pass the Namespace resource's `metadata.name` so it is created first and deleted last. */
  readonly namespace: string;
  /**
   * Labels of the object.
   * @default - none
   */
  readonly labels?: { [key: string]: string };
}

/** Where the cluster DNS pods run, for the DNS egress allow. */
export interface ClusterDnsPeer {
  /**
   * Namespace of the DNS pods.
   * @default 'kube-system'
   */
  readonly namespace?: string;
  /**
   * Labels of the DNS pods.
   * @default { 'k8s-app': 'kube-dns' }
   */
  readonly podLabels?: { [key: string]: string };
}

/** Where the ingress controller runs, for the ingress allow. */
export interface IngressControllerPeer {
  /**
   * Namespace of the ingress controller.
   * @default 'ingress-nginx'
   */
  readonly namespace?: string;
  /**
   * Labels of the controller pods.
   * @default - every pod in that namespace
   */
  readonly podLabels?: { [key: string]: string };
}

/** Where the cluster's Prometheus runs, for the metrics allow. */
export interface MonitoringPeer {
  /**
   * Namespace of the Prometheus pods.
   * @default 'monitoring'
   */
  readonly namespace?: string;
  /**
   * Labels of the Prometheus pods.
   * @default - every pod in that namespace
   */
  readonly podLabels?: { [key: string]: string };
}

/** Options for {@link NamespaceNetworkPolicy.allowMonitoring}. */
export interface AllowMonitoringOptions extends NamespacedOptions {
  /** Name of the policy. */
  readonly name: string;
  /** Labels of the pods it may scrape. */
  readonly podLabels: { [key: string]: string };
  /** The metrics port. */
  readonly port: number;
  /**
   * Where Prometheus runs.
   * @default - any pod in the monitoring namespace
   */
  readonly monitoring?: MonitoringPeer;
}

/** Options for {@link NamespaceNetworkPolicy.allowPods}. */
export interface AllowPodsOptions extends NamespacedOptions {
  /** Name of the policy. */
  readonly name: string;
  /** Labels of the pods that may be reached. */
  readonly podLabels: { [key: string]: string };
  /** Labels of the pods of the namespace that may reach them. */
  readonly fromPodLabels: { [key: string]: string };
  /** The port they may reach. */
  readonly port: number;
}

/** Options for {@link NamespaceNetworkPolicy.allowDns}. */
export interface AllowDnsOptions extends NamespacedOptions {
  /**
   * The cluster DNS pods.
   * @default - kube-system pods labelled k8s-app=kube-dns
   */
  readonly dns?: ClusterDnsPeer;
}

/** Options for {@link NamespaceNetworkPolicy.allowSameNamespace}. */
export interface AllowSameNamespaceOptions extends NamespacedOptions {
  /** The namespace's name as text, which its `kubernetes.io/metadata.name` label carries. */
  readonly namespaceName: string;
}

/** Options for {@link NamespaceNetworkPolicy.allowIngressController}. */
export interface AllowIngressControllerOptions extends NamespacedOptions {
  /** Name of the policy. */
  readonly name: string;
  /** Labels of the pods the controller may reach. */
  readonly podLabels: { [key: string]: string };
  /** The container port it may reach. */
  readonly port: number;
  /**
   * The ingress controller.
   * @default - any pod in the ingress-nginx namespace
   */
  readonly controller?: IngressControllerPeer;
}

/**
 * The NetworkPolicies that isolate a namespace: deny everything, then allow
 * DNS, traffic inside the namespace and the ingress controller to one
 * service's port. Each is a NetworkPolicyV1, so the provider's API stays
 * available on it.
 */
export class NamespaceNetworkPolicy extends NetworkPolicyV1 {
  /** Denies all ingress and egress not allowed by another policy (`default-deny`). */
  static denyAll(scope: Construct, id: string, options: NamespacedOptions): NamespaceNetworkPolicy {
    return new NamespaceNetworkPolicy(scope, id, {
      metadata: { name: 'default-deny', namespace: options.namespace, labels: options.labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
  }

  /** Allows DNS queries (UDP and TCP 53) to the cluster DNS pods (`allow-dns`). */
  static allowDns(scope: Construct, id: string, options: AllowDnsOptions): NamespaceNetworkPolicy {
    const dns = { namespace: options.dns?.namespace ?? 'kube-system', podLabels: options.dns?.podLabels ?? { 'k8s-app': 'kube-dns' } };
    return new NamespaceNetworkPolicy(scope, id, {
      metadata: { name: 'allow-dns', namespace: options.namespace, labels: options.labels },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { [WellKnownLabels.NAMESPACE_NAME]: dns.namespace } },
                podSelector: { matchLabels: { ...dns.podLabels } },
              },
            ],
            ports: [
              { port: '53', protocol: 'UDP' },
              { port: '53', protocol: 'TCP' },
            ],
          },
        ],
      },
    });
  }

  /** Allows traffic between the pods of the namespace, both ways (`allow-same-namespace`). */
  static allowSameNamespace(scope: Construct, id: string, options: AllowSameNamespaceOptions): NamespaceNetworkPolicy {
    const same = { namespaceSelector: { matchLabels: { [WellKnownLabels.NAMESPACE_NAME]: options.namespaceName } } };
    return new NamespaceNetworkPolicy(scope, id, {
      metadata: { name: 'allow-same-namespace', namespace: options.namespace, labels: options.labels },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [same] }],
        egress: [{ to: [same] }],
      },
    });
  }

  /** Allows the ingress controller to reach `port` of the pods labelled `podLabels`. */
  static allowIngressController(scope: Construct, id: string, options: AllowIngressControllerOptions): NamespaceNetworkPolicy {
    return NamespaceNetworkPolicy.allowFrom(scope, id, options, peerIn(options.controller, 'ingress-nginx'));
  }

  /** Allows Prometheus to reach the metrics `port` of the pods labelled `podLabels`, and nothing else. */
  static allowMonitoring(scope: Construct, id: string, options: AllowMonitoringOptions): NamespaceNetworkPolicy {
    return NamespaceNetworkPolicy.allowFrom(scope, id, options, peerIn(options.monitoring, 'monitoring'));
  }

  /** Allows the namespace's pods labelled `fromPodLabels` to reach `port` of the pods labelled `podLabels`. */
  static allowPods(scope: Construct, id: string, options: AllowPodsOptions): NamespaceNetworkPolicy {
    return NamespaceNetworkPolicy.allowFrom(scope, id, options, { podSelector: { matchLabels: { ...options.fromPodLabels } } });
  }

  private static allowFrom(
    scope: Construct,
    id: string,
    options: NamespacedOptions & { readonly name: string; readonly podLabels: { [key: string]: string }; readonly port: number },
    peer: object,
  ): NamespaceNetworkPolicy {
    return new NamespaceNetworkPolicy(scope, id, {
      metadata: { name: options.name, namespace: options.namespace, labels: options.labels },
      spec: {
        podSelector: { matchLabels: { ...options.podLabels } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [peer], ports: [{ port: String(options.port), protocol: 'TCP' }] }],
      },
    });
  }

  /**
   * Problems with a peer's namespace and labels, at `prop`.
   * @internal
   */
  static _peerProblems(prop: string, peer: ClusterDnsPeer | IngressControllerPeer | MonitoringPeer | undefined): PropProblem[] {
    const out: PropProblem[] = [];
    if (peer?.namespace !== undefined) {
      const p = checkDns1123Label(peer.namespace);
      if (p) out.push({ prop: `${prop}.namespace`, value: peer.namespace, problem: p, fix: 'Use the namespace the pods run in, such as "kube-system".' });
    }
    for (const p of labelMapProblems(`${prop}.podLabels`, peer?.podLabels ?? {})) {
      out.push({ ...p, fix: 'Use Kubernetes label syntax: "example.com/team": "payments".' });
    }
    return out;
  }

  private constructor(scope: Construct, id: string, config: NetworkPolicyV1Config) {
    super(scope, id, config);
  }
}

/** Limits of a namespace's ResourceQuota. */
export interface NamespaceQuotaLimits {
  /** @default Cpu.cores(2) */
  readonly requestsCpu?: Cpu;
  /** @default Size.gibibytes(2) */
  readonly requestsMemory?: Size;
  /** @default Cpu.cores(8) */
  readonly limitsCpu?: Cpu;
  /** @default Size.gibibytes(8) */
  readonly limitsMemory?: Size;
  /** @default 20 */
  readonly pods?: number;
  /** @default 10 */
  readonly services?: number;
  /**
   * Room for logs and emptyDirs (an OfflineMirror bundle is one) on the nodes' disks.
   * @default Size.gibibytes(8)
   */
  readonly requestsEphemeralStorage?: Size;
  /** @default Size.gibibytes(16) */
  readonly limitsEphemeralStorage?: Size;
  /**
   * PersistentVolumeClaims the namespace may hold. Previews keep no data, so none by default.
   * @default 0
   */
  readonly persistentVolumeClaims?: number;
  /**
   * Total storage all claims may request.
   * @default Size.bytes(0)
   */
  readonly requestsStorage?: Size;
}

/** Props for {@link NamespaceQuota}. */
export interface NamespaceQuotaProps extends NamespacedOptions {
  /**
   * Name of the quota.
   * @default 'preview-quota'
   */
  readonly name?: string;
  /**
   * The limits.
   * @default - see {@link NamespaceQuotaLimits}
   */
  readonly limits?: NamespaceQuotaLimits;
}

/**
 * A ResourceQuota that caps a namespace's CPU, memory, ephemeral storage,
 * pods, services and PersistentVolumeClaims, and allows no NodePort or
 * LoadBalancer Service.
 */
export class NamespaceQuota extends ResourceQuotaV1 {
  /**
   * Problems with the limits, at `prop`.
   * @internal
   */
  static _problems(prop: string, limits: NamespaceQuotaLimits | undefined): PropProblem[] {
    const q = resolveQuota(limits);
    const out: PropProblem[] = [];
    const pair = (request: 'requestsCpu' | 'requestsMemory', limit: 'limitsCpu' | 'limitsMemory', rv: Cpu | Size, lv: Cpu | Size, r: number, l: number) => {
      const before = out.length;
      out.push(...rv._problems(`${prop}.${request}`), ...lv._problems(`${prop}.${limit}`));
      if (out.length === before && r > l) {
        out.push({ prop: `${prop}.${request}`, value: rv, problem: `is greater than ${limit} ${lv}`, fix: `Lower ${request} or raise ${limit} so that ${request} <= ${limit}.` });
      }
    };
    pair('requestsCpu', 'limitsCpu', q.requestsCpu, q.limitsCpu, q.requestsCpu.toMillicores(), q.limitsCpu.toMillicores());
    pair('requestsMemory', 'limitsMemory', q.requestsMemory, q.limitsMemory, q.requestsMemory.toBytes(), q.limitsMemory.toBytes());
    const storage = out.length;
    out.push(...q.requestsEphemeralStorage._problems(`${prop}.requestsEphemeralStorage`), ...q.limitsEphemeralStorage._problems(`${prop}.limitsEphemeralStorage`));
    if (out.length === storage && q.requestsEphemeralStorage.toBytes() > q.limitsEphemeralStorage.toBytes()) {
      out.push({ prop: `${prop}.requestsEphemeralStorage`, value: q.requestsEphemeralStorage, problem: `is greater than limitsEphemeralStorage ${q.limitsEphemeralStorage}`, fix: 'Lower requestsEphemeralStorage or raise limitsEphemeralStorage.' });
    }
    out.push(...q.requestsStorage._problems(`${prop}.requestsStorage`));
    for (const key of ['pods', 'services', 'persistentVolumeClaims'] as const) {
      const p = checkInteger(q[key], 0, 100000);
      if (p) out.push({ prop: `${prop}.${key}`, value: q[key], problem: p, fix: `Use a whole number such as ${key === 'pods' ? 20 : key === 'services' ? 10 : 0}.` });
    }
    return out;
  }

  /** The limits in force, defaults filled in. */
  public readonly limits: NamespaceQuotaLimits;
  /** Runs before each synth of the quota, for the owner's consistency checks. */
  private beforeSynth?: () => void;

  constructor(scope: Construct, id: string, props: NamespaceQuotaProps) {
    const q = resolveQuota(props.limits);
    super(scope, id, {
      metadata: { name: props.name ?? 'preview-quota', namespace: props.namespace, labels: props.labels },
      spec: {
        hard: {
          'requests.cpu': q.requestsCpu.toQuantity(),
          'requests.memory': q.requestsMemory.toQuantity(),
          'limits.cpu': q.limitsCpu.toQuantity(),
          'limits.memory': q.limitsMemory.toQuantity(),
          'requests.ephemeral-storage': q.requestsEphemeralStorage.toQuantity(),
          'limits.ephemeral-storage': q.limitsEphemeralStorage.toQuantity(),
          pods: String(q.pods),
          services: String(q.services),
          persistentvolumeclaims: String(q.persistentVolumeClaims),
          'requests.storage': q.requestsStorage.toQuantity(),
          'services.nodeports': '0',
          'services.loadbalancers': '0',
        },
      },
    });
    this.limits = q;
  }

  /**
   * Runs `check` before each synth of the quota: PreviewEnvironment checks its
   * services against the quota there, once every service and sidecar exists.
   * @internal
   */
  _beforeSynth(check: () => void): void {
    this.beforeSynth = check;
  }

  protected override synthesizeAttributes(): { [name: string]: unknown } {
    this.beforeSynth?.();
    return super.synthesizeAttributes();
  }

  protected override synthesizeHclAttributes(): { [name: string]: unknown } {
    this.beforeSynth?.();
    return super.synthesizeHclAttributes();
  }
}

function resolveQuota(limits: NamespaceQuotaLimits | undefined): Required<NamespaceQuotaLimits> {
  return {
    requestsCpu: limits?.requestsCpu ?? Cpu.cores(2),
    requestsMemory: limits?.requestsMemory ?? Size.gibibytes(2),
    limitsCpu: limits?.limitsCpu ?? Cpu.cores(8),
    limitsMemory: limits?.limitsMemory ?? Size.gibibytes(8),
    pods: limits?.pods ?? 20,
    services: limits?.services ?? 10,
    requestsEphemeralStorage: limits?.requestsEphemeralStorage ?? Size.gibibytes(8),
    limitsEphemeralStorage: limits?.limitsEphemeralStorage ?? Size.gibibytes(16),
    persistentVolumeClaims: limits?.persistentVolumeClaims ?? 0,
    requestsStorage: limits?.requestsStorage ?? Size.bytes(0),
  };
}

/** Props for {@link ContainerDefaults}. */
export interface ContainerDefaultsProps extends NamespacedOptions {
  /**
   * Name of the LimitRange.
   * @default 'preview-limits'
   */
  readonly name?: string;
  /**
   * What containers that set no resources get.
   * @default - the library's defaults: cpu 100m/500m, memory 64Mi/256Mi, ephemeral storage 16Mi/64Mi
   */
  readonly resources?: ContainerResources;
  /**
   * The most one container may request or be limited to.
   * @default - cpu Cpu.cores(2), memory Size.gibibytes(2), ephemeral storage Size.gibibytes(4)
   */
  readonly max?: ContainerBounds;
  /**
   * The least one container may request.
   * @default - cpu Cpu.millicores(10), memory Size.mebibytes(16), ephemeral storage Size.mebibytes(16)
   */
  readonly min?: ContainerBounds;
}

/** Per-container bounds of a LimitRange. */
export interface ContainerBounds {
  /** @default - the owner's default */
  readonly cpu?: Cpu;
  /** @default - the owner's default */
  readonly memory?: Size;
  /** @default - the owner's default */
  readonly ephemeralStorage?: Size;
}

/** Bounds with every field set. */
export interface ResolvedBounds {
  readonly cpu: Cpu;
  readonly memory: Size;
  readonly ephemeralStorage: Size;
}

/**
 * A LimitRange that gives containers that set no resources the library's
 * defaults, and bounds every container, so no one container takes the whole
 * quota.
 */
export class ContainerDefaults extends LimitRangeV1 {
  /**
   * Problems with the defaults and bounds, at `prop`: each default must lie
   * within them, or the API server refuses the LimitRange.
   * @internal
   */
  static _problems(prop: string, resources: ContainerResources | undefined, max?: ContainerBounds, min?: ContainerBounds, maxProp = 'containerMax', minProp = 'containerMin'): PropProblem[] {
    const r = resolveResources(resources);
    const out = resourceProblems(prop, r);
    const hi = resolveBounds(max, DEFAULT_MAX);
    const lo = resolveBounds(min, DEFAULT_MIN);
    const before = out.length;
    for (const k of ['cpu', 'memory', 'ephemeralStorage'] as const) {
      out.push(...hi[k]._problems(`${maxProp}.${k}`), ...lo[k]._problems(`${minProp}.${k}`));
    }
    if (out.length > before) return out;
    const n = (v: Cpu | Size) => (v instanceof Cpu ? v.toMillicores() : v.toBytes());
    const rows: Array<[string, Cpu | Size, Cpu | Size, Cpu | Size, Cpu | Size]> = [
      ['cpu', r.cpuRequest, r.cpuLimit, lo.cpu, hi.cpu],
      ['memory', r.memoryRequest, r.memoryLimit, lo.memory, hi.memory],
      ['ephemeralStorage', r.storageRequest, r.storageLimit, lo.ephemeralStorage, hi.ephemeralStorage],
    ];
    for (const [k, request, limit, low, high] of rows) {
      if (n(low) > n(high)) out.push({ prop: `${minProp}.${k}`, value: low, problem: `is greater than ${maxProp}.${k} ${high}`, fix: `Lower ${minProp}.${k} or raise ${maxProp}.${k}.` });
      else if (n(limit) > n(high)) out.push({ prop: `${prop}.${k}.limit`, value: limit, problem: `is above ${maxProp}.${k} ${high}`, fix: `Lower the default limit or raise ${maxProp}.${k}.` });
      else if (n(request) < n(low)) out.push({ prop: `${prop}.${k}.request`, value: request, problem: `is below ${minProp}.${k} ${low}`, fix: `Raise the default request or lower ${minProp}.${k}.` });
    }
    return out;
  }

  /** The bounds in force, defaults filled in. */
  public readonly max: ResolvedBounds;
  /** The least a container may request, defaults filled in. */
  public readonly min: ResolvedBounds;

  constructor(scope: Construct, id: string, props: ContainerDefaultsProps) {
    const r = renderResources(resolveResources(props.resources));
    const max = resolveBounds(props.max, DEFAULT_MAX);
    const min = resolveBounds(props.min, DEFAULT_MIN);
    const show = (b: ResolvedBounds) => ({ cpu: b.cpu.toQuantity(), memory: b.memory.toQuantity(), 'ephemeral-storage': b.ephemeralStorage.toQuantity() });
    super(scope, id, {
      metadata: { name: props.name ?? 'preview-limits', namespace: props.namespace, labels: props.labels },
      spec: { limit: [{ type: 'Container', defaultRequest: r.requests, default: r.limits, max: show(max), min: show(min) }] },
    });
    this.max = max;
    this.min = min;
  }
}

const DEFAULT_MAX: ResolvedBounds = { cpu: Cpu.cores(2), memory: Size.gibibytes(2), ephemeralStorage: Size.gibibytes(4) };
const DEFAULT_MIN: ResolvedBounds = { cpu: Cpu.millicores(10), memory: Size.mebibytes(16), ephemeralStorage: Size.mebibytes(16) };

function resolveBounds(b: ContainerBounds | undefined, d: ResolvedBounds): ResolvedBounds {
  return { cpu: b?.cpu ?? d.cpu, memory: b?.memory ?? d.memory, ephemeralStorage: b?.ephemeralStorage ?? d.ephemeralStorage };
}

function peerIn(peer: IngressControllerPeer | MonitoringPeer | undefined, namespace: string): object {
  return {
    namespaceSelector: { matchLabels: { [WellKnownLabels.NAMESPACE_NAME]: peer?.namespace ?? namespace } },
    podSelector: peer?.podLabels ? { matchLabels: { ...peer.podLabels } } : undefined,
  };
}
