import { IAirgapRule, ImageUse, RuleOutcome } from '../airgap/airgap-rules';
import { ImageReference } from '../core/image-reference';
import { imageFields } from '../private/image-fields';
import { Block, bool, child, children, ContainerView, isObj, isReference, PodView, ResourceView, text, texts, viewOf } from './workloads';

/** How serious a finding is. Errors fail synth; warnings and infos are reported. */
export enum PolicyLevel {
  /** Fails `cdktf synth` and `Testing.synth(stack, true)`. */
  ERROR = 'error',
  /** Printed at synth and listed in the report. */
  WARNING = 'warning',
  /** Listed in the report. */
  INFO = 'info',
}

/** The rule packs. */
export enum PolicyPack {
  /** Pod Security "restricted" (which includes "baseline"), control by control, as the API server's admission checks it. */
  RESTRICTED = 'restricted',
  /** Images pinned by digest, from the internal registry, never pulled on every start. */
  AIRGAP = 'airgap',
  /** Resources, probes, no service-account token, no allow-all network rules. */
  HYGIENE = 'hygiene',
}

/** What a rule demands, for messages, reports and docs. */
export interface PolicyRuleInfo {
  /** Stable id, used in messages and suppressions. */
  readonly id: string;
  /** The pack it belongs to. */
  readonly pack: PolicyPack;
  /** How serious a breach is. */
  readonly level: PolicyLevel;
  /** One line on what the rule demands and why. */
  readonly explanation: string;
  /** How to comply. */
  readonly fix: string;
}

/** One breach of one rule by one resource. */
export interface PolicyFinding {
  /** Rule id. */
  readonly rule: string;
  /** The rule's pack. */
  readonly pack: PolicyPack;
  /** The rule's level. */
  readonly level: PolicyLevel;
  /** Terraform resource type. */
  readonly resourceType: string;
  /** Terraform address (`type.name`), or the construct path when the name is not known. */
  readonly address: string;
  /**
   * Construct path of the resource.
   * @default - unknown, when checking synthesized JSON
   */
  readonly construct?: string;
  /** Field path in the resource, as written in its configuration. */
  readonly field: string;
  /** What is wrong. */
  readonly message: string;
  /** How to comply. */
  readonly fix: string;
  /**
   * Why the breach is accepted, when a suppression covers it.
   * @default - not suppressed
   */
  readonly suppressedBecause?: string;
  /**
   * Construct path of the suppression that covers it.
   * @default - not suppressed
   */
  readonly suppressedAt?: string;
}

/** Options for {@link PolicyRules.check}. */
export interface PolicyCheckOptions {
  /**
   * The packs to run.
   * @default - all of them
   */
  readonly packs?: PolicyPack[];
  /**
   * Registry prefixes images may come from (AG2).
   * @default - any registry except the well-known public ones and Docker Hub's implicit default
   */
  readonly allowedRegistries?: string[];
  /**
   * Image rules of the air-gap pack.
   * @default AirgapRules.all()
   */
  readonly imageRules?: IAirgapRule[];
  /**
   * Terraform address of the resource, for findings.
   * @default - the resource type
   */
  readonly address?: string;
}

/** A breach found by a rule: the field and what is wrong with it. */
interface Breach {
  readonly field: string;
  readonly message: string;
}

interface Rule extends PolicyRuleInfo {
  check(view: ResourceView): Breach[];
}

const restricted = (id: string, explanation: string, fix: string, check: (view: ResourceView) => Breach[]): Rule => ({
  id,
  pack: PolicyPack.RESTRICTED,
  level: PolicyLevel.ERROR,
  explanation,
  fix,
  check,
});

/** Every pod of the view, with a breach list per pod. */
const perPod = (f: (pod: PodView, view: ResourceView) => Breach[]) => (view: ResourceView) => view.pods.flatMap((p) => f(p, view));
const sc = (b: Block | undefined) => child(b, 'security_context');
const who = (c: ContainerView) => `${c.kind.replace('_', ' ')} "${c.name}"`;
/** The pod and each of its containers, for the controls that both levels can break. */
const levels = (pod: PodView): Array<{ at: Block; w: string }> => [{ at: pod.spec, w: 'the pod' }, ...pod.containers.map((c) => ({ at: c as Block, w: who(c) }))];
/** Windows pods are exempt from the Linux-only restricted controls, as in the admission plugin. */
const windows = (pod: PodView) => text(child(pod.spec, 'os')?.value.name) === 'windows';
/** Pods in a user namespace (`host_users: false`) are exempt from the root and /proc controls since Kubernetes 1.35. */
const userNamespaced = (pod: PodView) => bool(pod.spec.value.host_users) === false;

const HOST_NAMESPACES = restricted(
  'PS1-host-namespaces',
  'pods must not share the host network, PID or IPC namespace',
  'Remove host_network, host_pid and host_ipc, or set them to false.',
  perPod((pod, view) =>
    ['host_network', 'host_pid', 'host_ipc'].flatMap((k) => (bool(pod.spec.value[k]) === true ? [{ field: view.field(pod.spec, k), message: `sets ${k} to true` }] : [])),
  ),
);

const HOST_PROCESS = restricted(
  'PS2-host-process',
  'Windows HostProcess containers get privileged access to the node and are forbidden',
  'Remove windows_options.host_process, or set it to false.',
  perPod((pod, view) =>
    levels(pod).flatMap(({ at, w }) => {
      const opts = child(sc(at), 'windows_options');
      return opts && bool(opts.value.host_process) === true ? [{ field: view.field(opts, 'host_process'), message: `${w} sets windows_options.host_process to true` }] : [];
    }),
  ),
);

const PRIVILEGED = restricted(
  'PS3-privileged',
  'privileged containers have every capability and every device of the node',
  'Remove security_context.privileged, or set it to false.',
  perPod((pod, view) =>
    pod.containers.flatMap((c) => {
      const s = sc(c);
      return s && bool(s.value.privileged) === true ? [{ field: view.field(s, 'privileged'), message: `${who(c)} is privileged` }] : [];
    }),
  ),
);

const CAPABILITIES = restricted(
  'PS4-capabilities',
  'containers must drop ALL capabilities and may add back only NET_BIND_SERVICE',
  'Set security_context.capabilities { drop = ["ALL"] } and add nothing but NET_BIND_SERVICE.',
  perPod((pod, view) =>
    windows(pod)
      ? []
      : pod.containers.flatMap((c) => {
          const s = sc(c);
          const caps = child(s, 'capabilities');
          const out: Breach[] = [];
          const dropValue = caps?.value.drop;
          if (!isReference(dropValue) && !texts(dropValue).includes('ALL')) {
            out.push({ field: caps ? view.field(caps, 'drop') : s ? view.field(s, 'capabilities') : view.field(c, 'security_context'), message: `${who(c)} does not drop ALL capabilities` });
          }
          const added = texts(caps?.value.add).filter((cap) => cap !== 'NET_BIND_SERVICE');
          if (caps && added.length > 0) out.push({ field: view.field(caps, 'add'), message: `${who(c)} adds ${added.join(', ')}` });
          return out;
        }),
  ),
);

const HOST_PATH = restricted(
  'PS5-host-path',
  'hostPath volumes expose the node\'s file system',
  'Use an emptyDir, configMap, secret or persistentVolumeClaim volume instead.',
  perPod((pod, view) =>
    children(pod.spec, 'volume')
      .filter((v) => v.value.host_path !== undefined && v.value.host_path !== null)
      .map((v) => ({ field: view.field(v, 'host_path'), message: `volume "${text(v.value.name) ?? '?'}" is a hostPath volume` })),
  ),
);

const HOST_PORTS = restricted(
  'PS6-host-ports',
  'host ports bind the node\'s network interfaces',
  'Remove host_port from the container\'s ports and reach it through a Service.',
  perPod((pod, view) =>
    pod.containers.flatMap((c) =>
      children(c, 'port').flatMap((p) => {
        const port = text(p.value.host_port);
        return port !== undefined && port !== '0' ? [{ field: view.field(p, 'host_port'), message: `${who(c)} binds host port ${port}` }] : [];
      }),
    ),
  ),
);

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';
const APPARMOR = restricted(
  'PS7-apparmor',
  'the AppArmor profile may only be the runtime default or one loaded on the node',
  'Leave AppArmor unset, or use RuntimeDefault (annotation runtime/default) or Localhost (localhost/<profile>).',
  perPod((pod, view) => {
    const out: Breach[] = [];
    for (const [key, value] of Object.entries(pod.annotations)) {
      const v = text(value);
      if (!key.startsWith(APPARMOR_ANNOTATION) || v === undefined || v === '' || v === 'runtime/default' || v.startsWith('localhost/')) continue;
      out.push({ field: `metadata.annotations["${key}"]`, message: `annotation ${key} is "${v}"` });
    }
    for (const { at, w } of levels(pod)) {
      const profile = child(sc(at), 'app_armor_profile');
      const type = text(profile?.value.type);
      if (profile && type !== undefined && type !== 'RuntimeDefault' && type !== 'Localhost') out.push({ field: view.field(profile, 'type'), message: `${w} sets the AppArmor profile type "${type}"` });
    }
    return out;
  }),
);

const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const SELINUX = restricted(
  'PS8-selinux',
  'custom SELinux users and roles are forbidden, and the type must be one of the container types',
  'Remove se_linux_options, or set only type to container_t, container_init_t, container_kvm_t or container_engine_t.',
  perPod((pod, view) =>
    levels(pod).flatMap(({ at, w }) => {
      const o = child(sc(at), 'se_linux_options');
      if (!o) return [];
      const out: Breach[] = [];
      const type = text(o.value.type);
      if (type !== undefined && !SELINUX_TYPES.has(type)) out.push({ field: view.field(o, 'type'), message: `${w} sets the SELinux type "${type}"` });
      for (const k of ['user', 'role']) {
        const v = text(o.value[k]);
        if (v !== undefined && v !== '') out.push({ field: view.field(o, k), message: `${w} sets the SELinux ${k} "${v}"` });
      }
      return out;
    }),
  ),
);

const PROC_MOUNT = restricted(
  'PS9-proc-mount',
  'the default /proc masks must stay in place',
  'Remove security_context.proc_mount, or set it to Default.',
  perPod((pod, view) =>
    pod.containers.flatMap((c) => {
      const s = sc(c);
      const v = text(s?.value.proc_mount);
      return s && v !== undefined && v !== 'Default' ? [{ field: view.field(s, 'proc_mount'), message: `${who(c)} sets proc_mount to "${v}"` }] : [];
    }),
  ),
);

const SECCOMP_OK = new Set(['RuntimeDefault', 'Localhost']);
const SECCOMP = restricted(
  'PS10-seccomp',
  'every container must run under the RuntimeDefault or a Localhost seccomp profile',
  'Set security_context.seccomp_profile { type = "RuntimeDefault" } on the pod.',
  perPod((pod, view) => {
    if (windows(pod)) return [];
    const out: Breach[] = [];
    const podProfile = child(sc(pod.spec), 'seccomp_profile');
    const podType = podProfile ? text(podProfile.value.type) : undefined;
    const podRef = podProfile !== undefined && isReference(podProfile.value.type);
    if (podProfile && podType !== undefined && !SECCOMP_OK.has(podType)) out.push({ field: view.field(podProfile, 'type'), message: `the pod sets the seccomp profile "${podType}"` });
    const podSet = (podType !== undefined && SECCOMP_OK.has(podType)) || podRef;
    for (const c of pod.containers) {
      const profile = child(sc(c), 'seccomp_profile');
      if (profile) {
        const type = text(profile.value.type);
        if (type !== undefined && !SECCOMP_OK.has(type)) out.push({ field: view.field(profile, 'type'), message: `${who(c)} sets the seccomp profile "${type}"` });
      } else if (!podSet) {
        out.push({ field: view.field(pod.spec, 'security_context'), message: `neither the pod nor ${who(c)} sets a seccomp profile` });
      }
    }
    return out;
  }),
);

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
]);
const SYSCTLS = restricted(
  'PS11-sysctls',
  'only the namespaced, isolated "safe" sysctls may be set',
  `Remove the sysctl, or use only ${[...SAFE_SYSCTLS].join(', ')}.`,
  perPod((pod, view) =>
    children(sc(pod.spec), 'sysctl').flatMap((s) => {
      const name = text(s.value.name);
      return name !== undefined && !SAFE_SYSCTLS.has(name) ? [{ field: view.field(s, 'name'), message: `the pod sets the unsafe sysctl ${name}` }] : [];
    }),
  ),
);

const VOLUME_TYPES = new Set(['config_map', 'csi', 'downward_api', 'empty_dir', 'ephemeral', 'persistent_volume_claim', 'projected', 'secret']);
const RESTRICTED_VOLUMES = restricted(
  'PS12-volume-types',
  'volumes may only be configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected or secret',
  'Replace the volume with one of the allowed types (a persistentVolumeClaim for node or network storage).',
  perPod((pod, view) =>
    children(pod.spec, 'volume').flatMap((v) =>
      Object.entries(v.value)
        .filter(([k, x]) => k !== 'name' && x !== undefined && x !== null && !VOLUME_TYPES.has(k))
        .map(([k]) => ({ field: view.field(v, k), message: `volume "${text(v.value.name) ?? '?'}" is of type ${k}` })),
    ),
  ),
);

const PRIVILEGE_ESCALATION = restricted(
  'PS13-privilege-escalation',
  'every container must set allow_privilege_escalation to false, so setuid binaries cannot gain privileges',
  'Set security_context.allow_privilege_escalation = false on every container.',
  perPod((pod, view) =>
    windows(pod)
      ? []
      : pod.containers.flatMap((c) => {
          const s = sc(c);
          const v = s?.value.allow_privilege_escalation;
          return isReference(v) || bool(v) === false ? [] : [{ field: s ? view.field(s, 'allow_privilege_escalation') : view.field(c, 'security_context'), message: `${who(c)} does not set allow_privilege_escalation to false` }];
        }),
  ),
);

/**
 * `run_as_non_root` as the API server receives it. The kubernetes provider
 * sends every boolean of a security_context block it is given, so an unset
 * one arrives as false, and a container's false overrides the pod's true.
 */
function runAsNonRoot(view: ResourceView, block: Block | undefined): { value: boolean | undefined; byProvider: boolean; reference: boolean } {
  const v = block?.value.run_as_non_root;
  if (isReference(v)) return { value: undefined, byProvider: false, reference: true };
  const set = bool(v);
  if (set !== undefined || !block || !view.providerDefaults) return { value: set, byProvider: false, reference: false };
  const present = Object.values(block.value).some((x) => x !== undefined && x !== null);
  return present ? { value: false, byProvider: true, reference: false } : { value: undefined, byProvider: false, reference: false };
}

const RUN_AS_NON_ROOT = restricted(
  'PS14-run-as-non-root',
  'containers must be required to run as a non-root user',
  'Set run_as_non_root = true in the pod\'s security_context and in every container security_context block (the provider sends an unset one as false).',
  perPod((pod, view) => {
    if (userNamespaced(pod)) return [];
    const out: Breach[] = [];
    const podSc = sc(pod.spec);
    const podValue = runAsNonRoot(view, podSc);
    const byProvider = ', which the kubernetes provider sends as false';
    if (podSc && podValue.value === false) out.push({ field: view.field(podSc, 'run_as_non_root'), message: podValue.byProvider ? `the pod's security_context leaves run_as_non_root unset${byProvider}` : 'the pod sets run_as_non_root to false' });
    const podTrue = podValue.value === true || podValue.reference;
    for (const c of pod.containers) {
      const s = sc(c);
      const v = runAsNonRoot(view, s);
      if (v.reference) continue;
      if (s && v.value === false) out.push({ field: view.field(s, 'run_as_non_root'), message: v.byProvider ? `${who(c)} has a security_context without run_as_non_root${byProvider}, overriding the pod's` : `${who(c)} sets run_as_non_root to false` });
      else if (v.value === undefined && !podTrue) out.push({ field: view.field(pod.spec, 'security_context'), message: `neither the pod nor ${who(c)} sets run_as_non_root to true` });
    }
    return out;
  }),
);

const RUN_AS_USER = restricted(
  'PS15-run-as-user',
  'containers must not run as uid 0',
  'Set run_as_user to a non-zero uid (65532 for distroless images), or leave it to the image.',
  perPod((pod, view) =>
    userNamespaced(pod)
      ? []
      : levels(pod).flatMap(({ at, w }) => {
          const s = sc(at);
          return s && text(s.value.run_as_user) === '0' ? [{ field: view.field(s, 'run_as_user'), message: `${w} sets run_as_user to 0` }] : [];
        }),
  ),
);

const PROBE_HOST = restricted(
  'PS16-probe-host',
  'probes and lifecycle hooks may not name a host: the kubelet would connect to it from the node',
  'Remove host from http_get and tcp_socket in probes and lifecycle hooks; they then target the pod.',
  perPod((pod, view) =>
    pod.containers.flatMap((c) => {
      const handlers = [
        ...['liveness_probe', 'readiness_probe', 'startup_probe'].map((k) => ({ at: child(c, k), what: k })),
        ...['post_start', 'pre_stop'].map((k) => ({ at: child(child(c, 'lifecycle'), k), what: `lifecycle ${k}` })),
      ];
      return handlers.flatMap(({ at, what }) =>
        ['http_get', 'tcp_socket'].flatMap((h) => {
          const target = child(at, h);
          const host = text(target?.value.host);
          return target && host !== undefined && host !== '' ? [{ field: view.field(target, 'host'), message: `${who(c)} ${what} targets host "${host}"` }] : [];
        }),
      );
    }),
  ),
);

const airgap = (id: string, level: PolicyLevel, explanation: string, fix: string): Omit<Rule, 'check'> => ({ id, pack: PolicyPack.AIRGAP, level, explanation, fix });

const PULL_POLICY: Rule = {
  ...airgap(
    'AG3-pull-policy',
    PolicyLevel.ERROR,
    'images must not be pulled on every start: inside the gap a registry hiccup would then stop every restart',
    'Pin the image by digest and set image_pull_policy to IfNotPresent (or leave it unset).',
  ),
  check: perPod((pod, view) =>
    pod.containers.flatMap((c) => {
      const policy = text(c.value.image_pull_policy);
      if (policy === 'Always') return [{ field: view.field(c, 'image_pull_policy'), message: `${who(c)} sets image_pull_policy to Always` }];
      const image = c.value.image;
      if (policy !== undefined || typeof image !== 'string' || isReference(image)) return [];
      // Kubernetes defaults the pull policy to Always for `:latest` and untagged images.
      const ref = ImageReference.tryParse(image);
      return ref && !ref.digest && (ref.tag === undefined || ref.tag === 'latest')
        ? [{ field: view.field(c, 'image'), message: `${who(c)} runs "${image}" without a pull policy, so Kubernetes pulls it on every start` }]
        : [];
    }),
  ),
};

const hygiene = (id: string, explanation: string, fix: string, check: (view: ResourceView) => Breach[]): Rule => ({ id, pack: PolicyPack.HYGIENE, level: PolicyLevel.WARNING, explanation, fix, check });

const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'];
const RESOURCES = hygiene(
  'HY1-resources',
  'every container asks for cpu, memory and ephemeral storage, so quotas and the scheduler can account for it',
  'Set resources { requests = { cpu, memory, "ephemeral-storage" } } (a limit alone also sets the request).',
  perPod((pod, view) =>
    pod.containers
      .filter((c) => c.kind !== 'ephemeral_container')
      .flatMap((c) => {
        const r = child(c, 'resources');
        const has = (name: string) => [r?.value.requests, r?.value.limits].some((m) => isObj(m) && m[name] !== undefined && m[name] !== null);
        const missing = RESOURCE_NAMES.filter((n) => !has(n));
        return missing.length > 0 && !isReference(r?.value.requests) ? [{ field: r ? view.field(r, 'requests') : view.field(c, 'resources'), message: `${who(c)} has no request or limit for ${missing.join(', ')}` }] : [];
      }),
  ),
);

const PROBES = hygiene(
  'HY2-probes',
  'every long-running container has liveness and readiness probes, so a stuck process restarts and gets no traffic',
  'Add liveness_probe and readiness_probe (GoService: Probe.http("/healthz")).',
  perPod((pod, view) =>
    !pod.longRunning
      ? []
      : pod.containers
          .filter((c) => c.kind === 'container')
          .flatMap((c) => {
            const missing = ['liveness_probe', 'readiness_probe'].filter((k) => child(c, k) === undefined);
            return missing.length > 0 ? [{ field: view.field(c, missing[0]), message: `${who(c)} has no ${missing.join(' or ')}` }] : [];
          }),
  ),
);

const TOKEN_AUTOMOUNT = hygiene(
  'HY3-token-automount',
  'pods do not mount a service-account token they do not need: a stolen token is a key to the API server',
  'Set automount_service_account_token = false on the pod spec; mount a projected token only where the API is needed.',
  perPod((pod, view) => {
    const v = pod.spec.value.automount_service_account_token;
    return bool(v) === false || isReference(v) ? [] : [{ field: view.field(pod.spec, 'automount_service_account_token'), message: `the pod ${bool(v) === true ? 'mounts' : 'does not opt out of'} the service-account token` }];
  }),
);

const ALLOW_ALL = hygiene(
  'HY4-allow-all-network-policy',
  'no network-policy rule allows every peer: a rule without from/to (or with an empty selector pair or 0.0.0.0/0) opens the pods to everything',
  'Name the peers: a pod_selector and namespace_selector with labels, or a narrow ip_block.',
  (view) => {
    const spec = view.networkPolicy;
    if (!spec) return [];
    const out: Breach[] = [];
    for (const [dir, peersKey] of [
      ['ingress', 'from'],
      ['egress', 'to'],
    ] as const) {
      for (const rule of children(spec, dir)) {
        const peers = children(rule, peersKey);
        if (isReference(rule.value[peersKey])) continue;
        if (peers.length === 0) {
          out.push({ field: rule.path, message: `${dir} rule allows ${dir === 'ingress' ? 'every source' : 'every destination'}` });
          continue;
        }
        for (const peer of peers) {
          const why = openPeer(peer);
          if (why) out.push({ field: peer.path, message: `${dir} peer ${why}` });
        }
      }
    }
    return out;
  },
);

/** Why a network-policy peer matches everything, if it does. */
function openPeer(peer: Block): string | undefined {
  const empty = (b: Block | undefined) => b !== undefined && Object.values(b.value).every((v) => v === undefined || v === null || (isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0));
  const ns = child(peer, 'namespace_selector');
  const pods = child(peer, 'pod_selector');
  const block = child(peer, 'ip_block');
  if (ns && empty(ns) && (pods === undefined || empty(pods))) return 'selects every pod in every namespace';
  const cidr = text(block?.value.cidr);
  if (block && (cidr === '0.0.0.0/0' || cidr === '::/0') && texts(block.value.except).length === 0) return `allows ${cidr}`;
  if (!ns && !pods && !block && Object.keys(peer.value).length === 0) return 'is empty, which matches everything';
  return undefined;
}

/** The air-gap image rules, as rules of the pack: every image field of every kubernetes and docker resource. */
function imageRule(rule: IAirgapRule): Omit<Rule, 'check'> & { readonly image: IAirgapRule } {
  const fix =
    rule.id === 'AG1-pinned-by-digest'
      ? 'Pin it as name@sha256:<digest> (airgap-kit prints digests), or build it with GoImage, whose digest flows in.'
      : rule.id === 'AG2-allowed-registry'
        ? 'Mirror it into the internal registry (AirgapPolicy rewrites public names at synth).'
        : 'Change the image to meet the rule.';
  return { ...airgap(rule.id, PolicyLevel.ERROR, rule.description, fix), image: rule };
}

const POD_RULES: Rule[] = [
  HOST_NAMESPACES,
  HOST_PROCESS,
  PRIVILEGED,
  CAPABILITIES,
  HOST_PATH,
  HOST_PORTS,
  APPARMOR,
  SELINUX,
  PROC_MOUNT,
  SECCOMP,
  SYSCTLS,
  RESTRICTED_VOLUMES,
  PRIVILEGE_ESCALATION,
  RUN_AS_NON_ROOT,
  RUN_AS_USER,
  PROBE_HOST,
  PULL_POLICY,
  RESOURCES,
  PROBES,
  TOKEN_AUTOMOUNT,
  ALLOW_ALL,
];

/** Registries no air-gapped cluster reaches: an image named after one must be mirrored first. */
const PUBLIC_REGISTRIES = ['docker.io', 'registry-1.docker.io', 'index.docker.io', 'ghcr.io', 'quay.io', 'gcr.io', 'registry.k8s.io', 'k8s.gcr.io', 'mcr.microsoft.com', 'public.ecr.aws', 'registry.gitlab.com', 'nvcr.io', 'cgr.dev'];

/** Judges one resource with the packs: the pure function behind the aspect, the report and the matchers. */
export function checkResource(type: string, config: unknown, options: PolicyCheckOptions = {}, imageRules: IAirgapRule[]): Array<Omit<PolicyFinding, 'construct' | 'suppressedBecause' | 'suppressedAt'>> {
  const packs = new Set(options.packs ?? [PolicyPack.RESTRICTED, PolicyPack.AIRGAP, PolicyPack.HYGIENE]);
  const address = options.address ?? type;
  const out: Array<Omit<PolicyFinding, 'construct' | 'suppressedBecause' | 'suppressedAt'>> = [];
  const view = viewOf(type, config);
  if (view) {
    for (const rule of POD_RULES) {
      if (!packs.has(rule.pack)) continue;
      for (const b of rule.check(view)) out.push({ rule: rule.id, pack: rule.pack, level: rule.level, resourceType: type, address, field: b.field, message: b.message, fix: rule.fix });
    }
  }
  if (packs.has(PolicyPack.AIRGAP) && (type.startsWith('kubernetes_') || type.startsWith('docker_'))) {
    const allowed = options.allowedRegistries ?? [];
    for (const field of imageFields(type, config)) {
      const use = splitReference(field.value);
      for (const image of imageRules) {
        if (!field.rewrite && !image.judgesBuildTargets) continue;
        const result = allowed.length === 0 && image.id === 'AG2-allowed-registry' ? publicRegistryVerdict(use) : image.evaluate(use, allowed);
        if (result.outcome !== RuleOutcome.NON_COMPLIANT) continue;
        const info = imageRule(image);
        const shown = use.hasReference ? `${use.literal}<known after apply>` : use.literal;
        out.push({ rule: image.id, pack: PolicyPack.AIRGAP, level: PolicyLevel.ERROR, resourceType: type, address, field: field.path, message: `image "${shown}" ${result.reason}`, fix: info.fix });
      }
    }
  }
  return out;
}

/** Without an allow-list, AG2 flags what is surely outside the gap: public registries, and Docker Hub by default. */
function publicRegistryVerdict(use: ImageUse): { outcome: RuleOutcome; reason?: string } {
  if (use.literal.length === 0 || (use.hasReference && !use.literal.includes('/'))) return { outcome: RuleOutcome.NOT_APPLICABLE };
  const literal = use.literal.replace(/@$/, '');
  const ref = ImageReference.tryParse(literal);
  if (!ref) {
    // No registry host: the container runtime implies Docker Hub.
    const first = literal.split('/')[0];
    const host = literal.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
    return host ? { outcome: RuleOutcome.NOT_APPLICABLE } : { outcome: RuleOutcome.NON_COMPLIANT, reason: 'names no registry, so Docker Hub (docker.io) is implied, which a cluster inside the gap cannot reach' };
  }
  if (!PUBLIC_REGISTRIES.includes(ref.registry)) return { outcome: RuleOutcome.COMPLIANT };
  return { outcome: RuleOutcome.NON_COMPLIANT, reason: `comes from the public registry ${ref.registry}, which a cluster inside the gap cannot reach` };
}

/** Splits `name@${digest}` into its literal part and whether a reference follows. */
export function splitReference(value: string): ImageUse {
  if (!isReference(value)) return { literal: value, hasReference: false };
  const tokenAt = value.indexOf('${');
  return { literal: tokenAt >= 0 ? value.slice(0, tokenAt) : '', hasReference: true };
}

/** The catalogue: every rule of every pack, image rules included. */
export function ruleCatalogue(imageRules: IAirgapRule[]): PolicyRuleInfo[] {
  const strip = (r: PolicyRuleInfo): PolicyRuleInfo => ({ id: r.id, pack: r.pack, level: r.level, explanation: r.explanation, fix: r.fix });
  const images = imageRules.map((r) => strip(imageRule(r)));
  const pods = POD_RULES.map(strip);
  // Image rules sit with the air-gap pack, before AG3.
  const at = pods.findIndex((r) => r.pack === PolicyPack.AIRGAP);
  return [...pods.slice(0, at), ...images, ...pods.slice(at)];
}
