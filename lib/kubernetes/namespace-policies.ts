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
    const controller = options.controller;
    const peer = {
      namespaceSelector: { matchLabels: { [WellKnownLabels.NAMESPACE_NAME]: controller?.namespace ?? 'ingress-nginx' } },
      podSelector: controller?.podLabels ? { matchLabels: { ...controller.podLabels } } : undefined,
    };
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
  static _peerProblems(prop: string, peer: ClusterDnsPeer | IngressControllerPeer | undefined): PropProblem[] {
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
  /** @default Cpu.cores(4) */
  readonly limitsCpu?: Cpu;
  /** @default Size.gibibytes(4) */
  readonly limitsMemory?: Size;
  /** @default 20 */
  readonly pods?: number;
  /** @default 10 */
  readonly services?: number;
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
 * A ResourceQuota that caps a namespace's CPU, memory, pods and services,
 * and allows no NodePort or LoadBalancer Service.
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
    for (const key of ['pods', 'services'] as const) {
      const p = checkInteger(q[key], 0, 100000);
      if (p) out.push({ prop: `${prop}.${key}`, value: q[key], problem: p, fix: `Use a whole number such as ${key === 'pods' ? 20 : 10}.` });
    }
    return out;
  }

  /** The limits in force, defaults filled in. */
  public readonly limits: NamespaceQuotaLimits;

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
          pods: String(q.pods),
          services: String(q.services),
          'services.nodeports': '0',
          'services.loadbalancers': '0',
        },
      },
    });
    this.limits = q;
  }
}

function resolveQuota(limits: NamespaceQuotaLimits | undefined): Required<NamespaceQuotaLimits> {
  return {
    requestsCpu: limits?.requestsCpu ?? Cpu.cores(2),
    requestsMemory: limits?.requestsMemory ?? Size.gibibytes(2),
    limitsCpu: limits?.limitsCpu ?? Cpu.cores(4),
    limitsMemory: limits?.limitsMemory ?? Size.gibibytes(4),
    pods: limits?.pods ?? 20,
    services: limits?.services ?? 10,
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
   * @default - the library's defaults: cpu 100m/500m, memory 64Mi/256Mi
   */
  readonly resources?: ContainerResources;
}

/** A LimitRange that gives containers that set no resources the library's defaults. */
export class ContainerDefaults extends LimitRangeV1 {
  /**
   * Problems with the defaults, at `prop`.
   * @internal
   */
  static _problems(prop: string, resources: ContainerResources | undefined): PropProblem[] {
    return resourceProblems(prop, resolveResources(resources));
  }

  constructor(scope: Construct, id: string, props: ContainerDefaultsProps) {
    const r = renderResources(resolveResources(props.resources));
    super(scope, id, {
      metadata: { name: props.name ?? 'preview-limits', namespace: props.namespace, labels: props.labels },
      spec: { limit: [{ type: 'Container', defaultRequest: r.requests, default: r.limits }] },
    });
  }
}
