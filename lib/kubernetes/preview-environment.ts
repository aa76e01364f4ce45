import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { Annotations } from 'cdktf';
import { Construct } from 'constructs';
import { Duration } from '../core/duration';
import { PropChecker } from '../private/prop-checker';
import { checkDns1123Label, checkDns1123Subdomain, checkLabelValue, labelMapProblems } from '../private/validation';
import { GoService, GoServiceOptions } from './go-service';
import { WellKnownLabels } from './labels';
import { ClusterDnsPeer, ContainerDefaults, IngressControllerPeer, NamespaceNetworkPolicy, NamespaceQuota, NamespaceQuotaLimits } from './namespace-policies';
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
   * @default - the library's defaults: cpu 100m/500m, memory 64Mi/256Mi
   */
  readonly containerDefaults?: ContainerResources;
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

  constructor(scope: Construct, id: string, props: PreviewEnvironmentProps) {
    super(scope, id);
    const prefix = props.namespacePrefix ?? 'preview-';
    const ttl = props.ttl ?? Duration.hours(72);
    const psVersion = props.podSecurityVersion ?? 'v1.34';
    const partOf = props.partOf ?? 'preview';
    const saName = props.serviceAccountName ?? 'preview-workload';
    const deleteTimeout = props.deleteTimeout ?? Duration.minutes(10);

    const c = new PropChecker(this, 'PreviewEnvironment');
    if (typeof props.branch !== 'string' || props.branch.length === 0) {
      c.fail('branch', props.branch, 'is empty', 'Pass the branch or PR name, such as process.env.PREVIEW_BRANCH.');
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
    c.check('serviceAccountName', saName, checkDns1123Label(saName), 'Use a name such as "preview-workload".');
    c.addAll(deleteTimeout._problems('deleteTimeout', Duration.seconds(1), Duration.days(1), 's'));
    for (const p of labelMapProblems('labels', props.labels ?? {})) c.fail(p.prop, p.value, p.problem, 'Use Kubernetes label syntax: "example.com/team": "payments".');
    c.addAll(NamespaceQuota._problems('quota', props.quota));
    c.addAll(ContainerDefaults._problems('containerDefaults', props.containerDefaults));
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
    this.slug = PreviewName.dnsLabel(props.branch);
    this.namespaceName = PreviewName.dnsLabel(props.branch, { prefix });
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
    } else {
      Annotations.of(this).addWarning(
        'no createdAt was given, so the preview namespace carries no expiry and no reaper can collect it. Pass createdAt (for example the pipeline start time).',
      );
    }

    this.labels = {
      [WellKnownLabels.PART_OF]: partOf,
      [WellKnownLabels.MANAGED_BY]: 'terraform',
    };
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
    this.limitRange = new ContainerDefaults(this, 'LimitRange', { ...where, resources: props.containerDefaults });

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
    });

    NamespaceNetworkPolicy.allowIngressController(service, 'AllowIngressController', {
      name: `allow-ingress-controller-${service.name}`.slice(0, 63).replace(/-+$/, ''),
      namespace: this.namespaceRef,
      labels: this.labels,
      podLabels: service.selectorLabels,
      port: service.port,
      controller: this.ingressPeer,
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

