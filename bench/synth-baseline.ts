/**
 * The synth-scale baseline: the workload of `bench/synth-workload.ts` written
 * by hand with the raw provider resource classes, plain object literals and
 * no constructs of ours apart from AirgapStack (which both sides use, so the
 * offline kit and the portable backend cost the same on both). This is what a
 * platform team would write without the library, and what our abstraction's
 * overhead is measured against.
 *
 * Reused from lib/: `PreviewName.dnsLabel` (lib/kubernetes/preview-name.ts), a pure
 * function, so both sides derive the same namespace name and Ingress host.
 * The TTL is plain Date arithmetic here.
 */
import { DeploymentV1 } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { IngressV1 } from '@cdktf/provider-kubernetes/lib/ingress-v1';
import { DefaultServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/default-service-account-v1';
import { LimitRangeV1 } from '@cdktf/provider-kubernetes/lib/limit-range-v1';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { NetworkPolicyV1 } from '@cdktf/provider-kubernetes/lib/network-policy-v1';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { ResourceQuotaV1 } from '@cdktf/provider-kubernetes/lib/resource-quota-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { App } from 'cdktf';
import { AirgapStack } from '../lib/stack/airgap-stack';
import { PreviewName } from '../lib/kubernetes/preview-name';
import { branchOf, WORKLOAD, WorkloadSpec } from './synth-workload';

/** ISO-8601 UTC without milliseconds, as the namespace annotations carry it. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Builds the workload by hand: the same resources with the same attributes as
 * {@link buildOurs}, one flat construct id per resource.
 */
export function buildBaseline(app: App, environments: number, spec: WorkloadSpec = WORKLOAD): AirgapStack {
  const stack = new AirgapStack(app, spec.stackId);
  new KubernetesProvider(stack, 'kubernetes', {});

  const created = Date.parse(spec.createdAt);
  const expires = isoSeconds(created + spec.ttlHours * 3600 * 1000);
  const common = { 'app.kubernetes.io/part-of': 'preview', 'app.kubernetes.io/managed-by': 'terraform' };
  const name = spec.serviceName;
  const selector = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/instance': name };
  const serviceLabels = { ...common, ...selector, 'app.kubernetes.io/component': 'go-service' };
  const port = String(spec.port);
  const probe = (path: string, periodSeconds: number) => ({
    httpGet: { path, port, scheme: 'HTTP' },
    initialDelaySeconds: 0,
    periodSeconds,
    timeoutSeconds: 1,
    failureThreshold: 3,
    successThreshold: 1,
  });
  const nonroot = { runAsNonRoot: true, runAsUser: '65532', runAsGroup: '65532', seccompProfile: { type: 'RuntimeDefault' } };
  const locked = { ...nonroot, allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } };
  // The offline mirror sidecar, its two init containers and their emptyDirs, written out.
  const mirrorUrl = 'http://127.0.0.1:8686';
  const bundleDir = '/var/run/offline-mirror/bundle';
  const toolsDir = '/var/run/offline-mirror/tools';
  // Ephemeral storage: 16Mi/64Mi of logs, plus the emptyDirs a container is charged for.
  const mirrorContainer = (containerName: string, image: string, storage = { request: '16Mi', limit: '64Mi' }) => ({
    name: containerName,
    image,
    imagePullPolicy: 'IfNotPresent',
    resources: { requests: { cpu: '10m', memory: '32Mi', 'ephemeral-storage': storage.request }, limits: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': storage.limit } },
    securityContext: locked,
  });
  const check = (path: string, periodSeconds: number) => ({
    exec: { command: ['/usr/local/bin/offline-mirror', '-healthcheck', `${mirrorUrl}${path}`] },
    initialDelaySeconds: 0,
    periodSeconds,
    timeoutSeconds: 1,
    failureThreshold: 3,
    successThreshold: 1,
  });
  const mirror = spec.mirror;

  for (let i = 0; i < environments; i++) {
    const branch = branchOf(i);
    const slug = PreviewName.dnsLabel(branch);
    const nsName = PreviewName.dnsLabel(branch, { prefix: 'preview-' });

    const ns = new NamespaceV1(stack, `ns${i}`, {
      metadata: {
        name: nsName,
        labels: {
          ...common,
          'app.kubernetes.io/instance': slug,
          'app.kubernetes.io/component': 'preview-environment',
          'airgap-go-constructs.io/preview': 'true',
          'airgap-go-constructs.io/ttl-hours': String(spec.ttlHours),
          'airgap-go-constructs.io/expires-at': expires.replace(/[-:]/g, ''),
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'v1.34',
          'pod-security.kubernetes.io/audit': 'restricted',
          'pod-security.kubernetes.io/audit-version': 'v1.34',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/warn-version': 'v1.34',
        },
        annotations: {
          'airgap-go-constructs.io/branch': branch,
          'airgap-go-constructs.io/created-at': isoSeconds(created),
          'airgap-go-constructs.io/expires-at': expires,
          'janitor/expires': expires,
        },
      },
      waitForDefaultServiceAccount: false,
      timeouts: { delete: '10m' },
    });
    // A reference, not the literal name, so Terraform orders everything after the namespace.
    const namespace = ns.metadata.name;
    const meta = (objectName: string) => ({ name: objectName, namespace, labels: common });
    const sameNamespace = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': nsName } } };

    new NetworkPolicyV1(stack, `deny${i}`, {
      metadata: meta('default-deny'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
    new NetworkPolicyV1(stack, `dns${i}`, {
      metadata: meta('allow-dns'),
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
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
    new NetworkPolicyV1(stack, `same${i}`, {
      metadata: meta('allow-same-namespace'),
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{ from: [sameNamespace] }], egress: [{ to: [sameNamespace] }] },
    });
    new ResourceQuotaV1(stack, `quota${i}`, {
      metadata: meta('preview-quota'),
      spec: {
        hard: {
          'requests.cpu': '2',
          'requests.memory': '2Gi',
          'limits.cpu': '8',
          'limits.memory': '8Gi',
          'requests.ephemeral-storage': '8Gi',
          'limits.ephemeral-storage': '16Gi',
          pods: '20',
          services: '10',
          persistentvolumeclaims: '0',
          'requests.storage': '0',
          'services.nodeports': '0',
          'services.loadbalancers': '0',
        },
      },
    });
    new LimitRangeV1(stack, `limits${i}`, {
      metadata: meta('preview-limits'),
      spec: {
        limit: [
          {
            type: 'Container',
            defaultRequest: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '16Mi' },
            default: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '64Mi' },
            max: { cpu: '2', memory: '2Gi', 'ephemeral-storage': '4Gi' },
            min: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '16Mi' },
          },
        ],
      },
    });
    new DefaultServiceAccountV1(stack, `defaultsa${i}`, { metadata: { namespace, labels: common }, automountServiceAccountToken: false });
    const sa = new ServiceAccountV1(stack, `sa${i}`, { metadata: meta('preview-workload'), automountServiceAccountToken: false });

    new DeploymentV1(stack, `deploy${i}`, {
      metadata: { name, namespace, labels: serviceLabels },
      waitForRollout: false,
      spec: {
        replicas: String(spec.replicas),
        revisionHistoryLimit: 10,
        selector: { matchLabels: selector },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '0' } },
        template: {
          metadata: { labels: serviceLabels },
          spec: {
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            hostNetwork: false,
            hostPid: false,
            hostIpc: false,
            serviceAccountName: sa.metadata.name,
            terminationGracePeriodSeconds: 30,
            securityContext: { ...nonroot, fsGroup: '65532' },
            affinity:
              spec.replicas > 1
                ? { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: [{ matchLabels: selector }] } }] } }
                : undefined,
            container: [
              {
                name,
                image: spec.image,
                imagePullPolicy: 'IfNotPresent',
                port: [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }],
                env: [
                  ...Object.entries(spec.env).map(([key, value]) => ({ name: key, value })),
                  { name: 'GOPROXY', value: `${mirrorUrl},off` },
                  { name: 'GOSUMDB', value: `sum.golang.org ${mirrorUrl}/sumdb/sum.golang.org` },
                  { name: 'GOTOOLCHAIN', value: 'local' },
                  { name: 'GOFLAGS', value: '-mod=mod' },
                ],
                // Charged for /tmp and for the mirror's tools volume, which only init containers mount.
                resources: { requests: { cpu: '100m', memory: '64Mi', 'ephemeral-storage': '144Mi' }, limits: { cpu: '500m', memory: '256Mi', 'ephemeral-storage': '192Mi' } },
                livenessProbe: probe(spec.livenessPath, 10),
                readinessProbe: probe(spec.readinessPath, spec.readinessPeriodSeconds),
                securityContext: locked,
                volumeMount: [{ name: 'tmp', mountPath: '/tmp' }],
              },
              {
                ...mirrorContainer('offline-mirror', mirror.image, { request: '2064Mi', limit: '2112Mi' }),
                args: ['-bundle', bundleDir, '-listen', '127.0.0.1:8686', '-sha256sums-hash', mirror.sha256sumsHash],
                livenessProbe: check('/healthz', 10),
                readinessProbe: check('/readyz', 5),
                volumeMount: [{ name: 'offline-mirror-bundle', mountPath: bundleDir, readOnly: true }],
              },
            ],
            initContainer: [
              {
                ...mirrorContainer('offline-mirror-tools', mirror.image),
                args: ['-install-self', `${toolsDir}/offline-mirror`],
                volumeMount: [{ name: 'offline-mirror-tools', mountPath: toolsDir }],
              },
              {
                ...mirrorContainer('offline-mirror-bundle', mirror.bundleImage),
                command: [`${toolsDir}/offline-mirror`],
                args: ['-install', '/bundle', '-to', bundleDir, '-sha256sums-hash', mirror.sha256sumsHash],
                volumeMount: [
                  { name: 'offline-mirror-tools', mountPath: toolsDir, readOnly: true },
                  { name: 'offline-mirror-bundle', mountPath: bundleDir },
                ],
              },
            ],
            volume: [
              { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
              { name: 'offline-mirror-bundle', emptyDir: { sizeLimit: '2Gi' } },
              { name: 'offline-mirror-tools', emptyDir: { sizeLimit: '64Mi' } },
            ],
          },
        },
      },
    });
    const service = new ServiceV1(stack, `svc${i}`, {
      metadata: { name, namespace, labels: serviceLabels },
      spec: { type: 'ClusterIP', selector, port: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }] },
    });
    if (spec.replicas > 1) {
      new PodDisruptionBudgetV1(stack, `pdb${i}`, {
        metadata: { name, namespace, labels: serviceLabels },
        spec: { maxUnavailable: '1', selector: { matchLabels: selector } },
      });
    }
    new NetworkPolicyV1(stack, `ingressctl${i}`, {
      metadata: meta(`allow-ingress-controller-${name}`),
      spec: {
        podSelector: { matchLabels: selector },
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } } }], ports: [{ port, protocol: 'TCP' }] }],
      },
    });
    new IngressV1(stack, `ingress${i}`, {
      metadata: meta(name),
      spec: {
        rule: [
          {
            host: `${slug}.${spec.baseDomain}`,
            http: { path: [{ path: spec.ingressPath, pathType: 'Prefix', backend: { service: { name: service.metadata.name, port: { number: 80 } } } }] },
          },
        ],
      },
    });
  }
  return stack;
}
