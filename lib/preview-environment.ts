import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { PropChecker } from './errors';
import { GoService, GoServiceProps, LABEL_DOMAIN, LABELS } from './go-service';
import { dnsLabelFromBranch } from './preview-name';
import { QuantityKind, requestLimitProblems } from './quantity';
import { checkDns1123Label, checkDns1123Subdomain, checkInteger, checkLabelValue, labelMapProblems } from './validation';

/** The label every namespace carries with its own name (Kubernetes 1.21+). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

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
  readonly podLabels?: { readonly [key: string]: string };
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
  readonly podLabels?: { readonly [key: string]: string };
}

/** The namespace's ResourceQuota. Quantities use Kubernetes syntax. */
export interface PreviewQuota {
  /** @default '2' */
  readonly requestsCpu?: string;
  /** @default '2Gi' */
  readonly requestsMemory?: string;
  /** @default '4' */
  readonly limitsCpu?: string;
  /** @default '4Gi' */
  readonly limitsMemory?: string;
  /** @default 20 */
  readonly pods?: number;
  /** @default 10 */
  readonly services?: number;
}

/** Defaults the LimitRange gives containers that set no resources. */
export interface PreviewContainerDefaults {
  /** @default '100m' */
  readonly cpuRequest?: string;
  /** @default '500m' */
  readonly cpuLimit?: string;
  /** @default '64Mi' */
  readonly memoryRequest?: string;
  /** @default '256Mi' */
  readonly memoryLimit?: string;
}

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
   * Hours the environment should live.
   * @default 72
   */
  readonly ttlHours?: number;
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
  readonly labels?: { readonly [key: string]: string };
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
   * @default - see {@link PreviewQuota}
   */
  readonly quota?: PreviewQuota;
  /**
   * Container defaults the LimitRange applies.
   * @default - see {@link PreviewContainerDefaults}
   */
  readonly containerDefaults?: PreviewContainerDefaults;
  /**
   * Name of the environment's ServiceAccount.
   * @default 'preview-workload'
   */
  readonly serviceAccountName?: string;
  /**
   * How long `destroy` waits for the namespace to finish terminating.
   * @default '10m'
   */
  readonly deleteTimeout?: string;
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

/** Props of a GoService placed in a PreviewEnvironment; the environment sets namespace and service account. */
export type PreviewServiceProps = Omit<GoServiceProps, 'namespace' | 'serviceAccountName'>;

const QUOTA_DEFAULTS = { requestsCpu: '2', requestsMemory: '2Gi', limitsCpu: '4', limitsMemory: '4Gi', pods: 20, services: 10 };
const CONTAINER_DEFAULTS = { cpuRequest: '100m', cpuLimit: '500m', memoryRequest: '64Mi', memoryLimit: '256Mi' };
const DURATION = /^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$/;
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
  public readonly defaultDenyPolicy: NetworkPolicyV1;
  /** Allows DNS queries to the cluster DNS pods (escape hatch). */
  public readonly allowDnsPolicy: NetworkPolicyV1;
  /** Allows traffic between pods of this namespace (escape hatch). */
  public readonly allowSameNamespacePolicy: NetworkPolicyV1;
  /** The ResourceQuota (escape hatch). */
  public readonly resourceQuota: ResourceQuotaV1;
  /** The LimitRange (escape hatch). */
  public readonly limitRange: LimitRangeV1;
  /** The workloads' ServiceAccount, with no token mounted (escape hatch). */
  public readonly serviceAccount: ServiceAccountV1;

  private readonly labels: { readonly [key: string]: string };
  /**
   * The namespace's and service account's names as references, read once:
   * every read of a provider attribute makes a new token, and cdktf captures a
   * full stack trace for each, which dominates synth time at scale.
   */
  private readonly namespaceRef: string;
  private readonly serviceAccountRef: string;
  private readonly ingressOptions?: PreviewIngressOptions;
  private readonly ingressPeer: Required<Pick<IngressControllerPeer, 'namespace'>> & IngressControllerPeer;
  private readonly ingressPaths = new Map<string, string>();

  constructor(scope: Construct, id: string, props: PreviewEnvironmentProps) {
    super(scope, id);
    const prefix = props.namespacePrefix ?? 'preview-';
    const ttlHours = props.ttlHours ?? 72;
    const psVersion = props.podSecurityVersion ?? 'v1.34';
    const partOf = props.partOf ?? 'preview';
    const dnsNamespace = props.dns?.namespace ?? 'kube-system';
    const dnsLabels = props.dns?.podLabels ?? { 'k8s-app': 'kube-dns' };
    const ingressNamespace = props.ingressController?.namespace ?? 'ingress-nginx';
    const quota = { ...QUOTA_DEFAULTS, ...props.quota };
    const defaults = { ...CONTAINER_DEFAULTS, ...props.containerDefaults };
    const saName = props.serviceAccountName ?? 'preview-workload';
    const deleteTimeout = props.deleteTimeout ?? '10m';

    const c = new PropChecker(this, 'PreviewEnvironment');
    if (typeof props.branch !== 'string' || props.branch.length === 0) {
      c.fail('branch', props.branch, 'is empty', 'Pass the branch or PR name, such as process.env.PREVIEW_BRANCH.');
    }
    const prefixOk = prefix === '' || /^[a-z0-9]([-a-z0-9]*)$/.test(prefix);
    if (!prefixOk || prefix.length > 40) {
      c.fail('namespacePrefix', prefix, 'is not the start of a DNS-1123 label of at most 40 characters', 'Use lowercase letters, digits and "-", such as "preview-".');
    }
    c.check('ttlHours', ttlHours, checkInteger(ttlHours, 1, 24 * 365), 'Use a whole number of hours such as 72.');
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
    c.check('dns.namespace', dnsNamespace, checkDns1123Label(dnsNamespace), 'Use the namespace of the cluster DNS pods, such as "kube-system".');
    c.check('ingressController.namespace', ingressNamespace, checkDns1123Label(ingressNamespace), 'Use the namespace of the ingress controller, such as "ingress-nginx".');
    c.check('serviceAccountName', saName, checkDns1123Label(saName), 'Use a name such as "preview-workload".');
    if (!DURATION.test(deleteTimeout)) {
      c.fail('deleteTimeout', deleteTimeout, 'is not a Go duration', 'Use a duration such as "10m" or "1h30m".');
    }
    const labelFix = 'Use Kubernetes label syntax: "example.com/team": "payments".';
    for (const [prop, map] of [
      ['labels', props.labels ?? {}],
      ['dns.podLabels', dnsLabels],
      ['ingressController.podLabels', props.ingressController?.podLabels ?? {}],
    ] as const) {
      for (const p of labelMapProblems(prop, map)) c.fail(p.prop, p.value, p.problem, labelFix);
    }
    c.addAll(requestLimitProblems('quota', quota.requestsCpu, quota.limitsCpu, QuantityKind.CPU, { request: 'requestsCpu', limit: 'limitsCpu' }));
    c.addAll(requestLimitProblems('quota', quota.requestsMemory, quota.limitsMemory, QuantityKind.MEMORY, { request: 'requestsMemory', limit: 'limitsMemory' }));
    c.check('quota.pods', quota.pods, checkInteger(quota.pods, 0, 100000), 'Use a whole number such as 20.');
    c.check('quota.services', quota.services, checkInteger(quota.services, 0, 100000), 'Use a whole number such as 10.');
    c.addAll(requestLimitProblems('containerDefaults', defaults.cpuRequest, defaults.cpuLimit, QuantityKind.CPU, { request: 'cpuRequest', limit: 'cpuLimit' }));
    c.addAll(requestLimitProblems('containerDefaults', defaults.memoryRequest, defaults.memoryLimit, QuantityKind.MEMORY, { request: 'memoryRequest', limit: 'memoryLimit' }));
    if (props.ingress) {
      c.check('ingress.baseDomain', props.ingress.baseDomain, checkDns1123Subdomain(props.ingress.baseDomain), 'Use a DNS domain such as "preview.example.internal".');
      if (props.ingress.tlsSecretName !== undefined) {
        c.check('ingress.tlsSecretName', props.ingress.tlsSecretName, checkDns1123Subdomain(props.ingress.tlsSecretName), 'Use the name of a TLS Secret in the namespace.');
      }
      if (props.ingress.ingressClassName !== undefined) {
        c.check('ingress.ingressClassName', props.ingress.ingressClassName, checkDns1123Subdomain(props.ingress.ingressClassName), 'Use the name of an IngressClass such as "nginx".');
      }
    }
    c.throwIfAny({ discard: true });

    this.branch = props.branch;
    this.slug = dnsLabelFromBranch(props.branch);
    this.namespaceName = dnsLabelFromBranch(props.branch, { prefix });
    this.ingressOptions = props.ingress;
    this.ingressPeer = { ...props.ingressController, namespace: ingressNamespace };

    const expiry: Record<string, string> = {};
    const expiryAnnotations: Record<string, string> = {};
    if (createdMs !== undefined) {
      const expires = new Date(createdMs + ttlHours * 3600 * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      this.expiresAt = expires;
      // Label values cannot hold ":", so the label is the basic ISO form, which still sorts by time.
      expiry[`${LABEL_DOMAIN}/expires-at`] = expires.replace(/[-:]/g, '');
      expiryAnnotations[`${LABEL_DOMAIN}/created-at`] = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
      expiryAnnotations[`${LABEL_DOMAIN}/expires-at`] = expires;
    } else {
      Annotations.of(this).addWarning(
        'no createdAt was given, so the preview namespace carries no expiry and no reaper can collect it. Pass createdAt (for example the pipeline start time).',
      );
    }

    this.labels = {
      [LABELS.partOf]: partOf,
      [LABELS.managedBy]: 'terraform',
    };
    const namespaceLabels = {
      ...props.labels,
      ...this.labels,
      [LABELS.instance]: this.slug,
      [LABELS.component]: 'preview-environment',
      [`${LABEL_DOMAIN}/preview`]: 'true',
      [`${LABEL_DOMAIN}/ttl-hours`]: String(ttlHours),
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
        annotations: { [`${LABEL_DOMAIN}/branch`]: props.branch, ...expiryAnnotations },
      },
      waitForDefaultServiceAccount: false,
      timeouts: { delete: deleteTimeout },
    });
    // Referencing the resource (not the plain name) orders every object after the
    // namespace on apply and before it on destroy.
    const ns = this.namespace.metadata.name;
    this.namespaceRef = ns;
    const meta = (name: string) => ({ name, namespace: ns, labels: this.labels });

    this.defaultDenyPolicy = new NetworkPolicyV1(this, 'DefaultDeny', {
      metadata: meta('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });

    this.allowDnsPolicy = new NetworkPolicyV1(this, 'AllowDns', {
      metadata: meta('allow-dns'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: dnsNamespace } },
                podSelector: { matchLabels: { ...dnsLabels } },
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

    const sameNamespace = { namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.namespaceName } } };
    this.allowSameNamespacePolicy = new NetworkPolicyV1(this, 'AllowSameNamespace', {
      metadata: meta('allow-same-namespace'),
      spec: {
        podSelector: {},
        policyTypes: ['Ingress', 'Egress'],
        ingress: [{ from: [sameNamespace] }],
        egress: [{ to: [sameNamespace] }],
      },
    });

    this.resourceQuota = new ResourceQuotaV1(this, 'Quota', {
      metadata: meta('preview-quota'),
      spec: {
        hard: {
          'requests.cpu': quota.requestsCpu,
          'requests.memory': quota.requestsMemory,
          'limits.cpu': quota.limitsCpu,
          'limits.memory': quota.limitsMemory,
          pods: String(quota.pods),
          services: String(quota.services),
          'services.nodeports': '0',
          'services.loadbalancers': '0',
        },
      },
    });

    this.limitRange = new LimitRangeV1(this, 'LimitRange', {
      metadata: meta('preview-limits'),
      spec: {
        limit: [
          {
            type: 'Container',
            defaultRequest: { cpu: defaults.cpuRequest, memory: defaults.memoryRequest },
            default: { cpu: defaults.cpuLimit, memory: defaults.memoryLimit },
          },
        ],
      },
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
  addService(id: string, props: PreviewServiceProps, options: AddServiceOptions = {}): GoService {
    const path = options.ingressPath;
    const c = new PropChecker(this, 'PreviewEnvironment');
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
      namespace: this.namespaceRef,
      serviceAccountName: this.serviceAccountRef,
      labels: { ...props.labels, ...this.labels },
    });

    const controllerPeer = {
      namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: this.ingressPeer.namespace } },
      podSelector: this.ingressPeer.podLabels ? { matchLabels: { ...this.ingressPeer.podLabels } } : undefined,
    };
    new NetworkPolicyV1(service, 'AllowIngressController', {
      metadata: {
        name: `allow-ingress-controller-${service.name}`.slice(0, 63).replace(/-+$/, ''),
        namespace: this.namespaceRef,
        labels: this.labels,
      },
      spec: {
        podSelector: { matchLabels: { ...service.selectorLabels } },
        policyTypes: ['Ingress'],
        ingress: [{ from: [controllerPeer], ports: [{ port: String(service.port), protocol: 'TCP' }] }],
      },
    });

    if (path !== undefined && this.ingressOptions) {
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

