import { Token } from 'cdktf';

/** A JSON object of a synthesized resource. */
export type Obj = Record<string, unknown>;

/** One object of a resource's config and the field path it sits at, as the user would write it. */
export interface Block {
  readonly value: Obj;
  readonly path: string;
  /** True inside a `kubernetes_manifest`, whose paths use the API's spelling. */
  readonly api?: boolean;
}

/** Where a container sits in its pod. */
export type ContainerKind = 'container' | 'init_container' | 'ephemeral_container';

/** One container of a pod spec. */
export interface ContainerView extends Block {
  readonly kind: ContainerKind;
  readonly name: string;
}

/** One pod template (or pod) of a workload resource. */
export interface PodView {
  /** The pod spec. */
  readonly spec: Block;
  /** The pod's annotations (AppArmor profiles may still be set there). */
  readonly annotations: Obj;
  /** Main, init and ephemeral containers, in that order. */
  readonly containers: ContainerView[];
  /** True for workloads meant to keep running (not Jobs), which need probes. */
  readonly longRunning: boolean;
}

/** A resource as the rules see it: its pods and network policies, in the Terraform provider's snake_case shape. */
export interface ResourceView {
  readonly type: string;
  /** `Deployment`, `Pod`, `NetworkPolicy`...; empty for other resources. */
  readonly kind: string;
  readonly pods: PodView[];
  /** The network policy spec, for NetworkPolicy resources. */
  readonly networkPolicy?: Block;
  /**
   * True for the provider's own resource types, whose security_context blocks
   * send every boolean: an unset `run_as_non_root` goes to the API as false.
   */
  readonly providerDefaults: boolean;
  /** The path of field `key` of `block`, as the user wrote it. */
  field(block: Block, key: string): string;
}

/** True when a value is only known at apply time (a token, or a resolved `${...}` expression). */
export function isReference(v: unknown): boolean {
  if (typeof v === 'string') return v.includes('${') || Token.isUnresolved(v);
  return typeof v === 'number' && Token.isUnresolved(v);
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A single nested block: the provider renders it as an object, an override or raw JSON may write a list of one. */
export function child(b: Block | undefined, key: string): Block | undefined {
  if (!b) return undefined;
  const v = b.value[key];
  const path = joinPath(b, key);
  if (Array.isArray(v)) return isObj(v[0]) ? { value: v[0], path: `${path}.0`, api: b.api } : undefined;
  return isObj(v) ? { value: v, path, api: b.api } : undefined;
}

/** A repeated nested block, as a list. */
export function children(b: Block | undefined, key: string): Block[] {
  if (!b) return [];
  const v = b.value[key];
  const path = joinPath(b, key);
  if (Array.isArray(v)) return v.flatMap((x, i) => (isObj(x) ? [{ value: x, path: `${path}.${i}`, api: b.api }] : []));
  return isObj(v) ? [{ value: v, path, api: b.api }] : [];
}

/** `true`, `false`, or undefined when unset or only known at apply time. */
export function bool(v: unknown): boolean | undefined {
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

/** A scalar as text, or undefined when unset or only known at apply time. */
export function text(v: unknown): string | undefined {
  if (v === undefined || v === null || isReference(v)) return undefined;
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** A list of scalars as text (a lone scalar counts as a list of one). */
export function texts(v: unknown): string[] {
  const list = Array.isArray(v) ? v : v === undefined || v === null ? [] : [v];
  return list.flatMap((x) => {
    const t = text(x);
    return t === undefined ? [] : [t];
  });
}

const TEMPLATE_KINDS: Record<string, string> = {
  deployment: 'Deployment',
  stateful_set: 'StatefulSet',
  daemonset: 'DaemonSet',
  daemon_set: 'DaemonSet',
  replication_controller: 'ReplicationController',
  job: 'Job',
};
const RUN_TO_COMPLETION = new Set(['Job', 'CronJob']);

/**
 * The pods of a synthesized resource: every pod-bearing kubernetes resource,
 * versioned (`_v1`) or not, and `kubernetes_manifest` objects of a workload kind.
 */
export function viewOf(type: string, config: unknown): ResourceView | undefined {
  if (!isObj(config) || !type.startsWith('kubernetes_')) return undefined;
  const base = type.replace(/^kubernetes_/, '').replace(/_v1$/, '');
  const root: Block = { value: config, path: '' };
  if (base === 'manifest') return manifestView(type, root);
  const view = (kind: string, pods: PodView[], networkPolicy?: Block): ResourceView => ({ type, kind, pods, networkPolicy, providerDefaults: true, field: joinPath });
  if (base === 'pod') return view('Pod', podOf(child(root, 'metadata'), child(root, 'spec'), true));
  if (base === 'network_policy') return view('NetworkPolicy', [], child(root, 'spec'));
  const spec = child(root, 'spec');
  if (base === 'cron_job') {
    const template = child(child(child(spec, 'job_template'), 'spec'), 'template');
    return view('CronJob', podOf(child(template, 'metadata'), child(template, 'spec'), false));
  }
  const kind = TEMPLATE_KINDS[base];
  if (!kind) return undefined;
  const template = child(spec, 'template');
  return view(kind, podOf(child(template, 'metadata'), child(template, 'spec'), !RUN_TO_COMPLETION.has(kind)));
}

const MANIFEST_TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job']);

function manifestView(type: string, root: Block): ResourceView | undefined {
  const manifest = child(root, 'manifest');
  const kind = text(manifest?.value.kind);
  if (!manifest || !kind) return undefined;
  const tf = normalize(manifest.value) as Obj;
  const m: Block = { value: tf, path: manifest.path, api: true };
  const view = (pods: PodView[], networkPolicy?: Block): ResourceView => ({ type, kind, pods, networkPolicy, providerDefaults: false, field: joinPath });
  const spec = child(m, 'spec');
  if (kind === 'Pod') return view(podOf(child(m, 'metadata'), spec, true));
  if (kind === 'NetworkPolicy') return view([], spec);
  if (kind === 'CronJob') {
    const template = child(child(child(spec, 'job_template'), 'spec'), 'template');
    return view(podOf(child(template, 'metadata'), child(template, 'spec'), false));
  }
  if (!MANIFEST_TEMPLATE_KINDS.has(kind)) return undefined;
  const template = child(spec, 'template');
  return view(podOf(child(template, 'metadata'), child(template, 'spec'), !RUN_TO_COMPLETION.has(kind)));
}

function podOf(metadata: Block | undefined, spec: Block | undefined, longRunning: boolean): PodView[] {
  if (!spec) return [];
  const annotations = isObj(metadata?.value.annotations) ? (metadata?.value.annotations as Obj) : {};
  const containers: ContainerView[] = [];
  for (const kind of ['container', 'init_container', 'ephemeral_container'] as const) {
    children(spec, kind).forEach((c, i) => containers.push({ ...c, kind, name: text(c.value.name) ?? `#${i}` }));
  }
  return [{ spec, annotations, containers, longRunning }];
}

// The Kubernetes API names lists in the plural, the provider in the singular.
const PLURALS: Record<string, string> = {
  containers: 'container',
  initContainers: 'init_container',
  ephemeralContainers: 'ephemeral_container',
  volumes: 'volume',
  ports: 'port',
  sysctls: 'sysctl',
};
// Keys of these fields are data (label keys, resource names), not field names.
const MAPS = new Set(['annotations', 'labels', 'match_labels', 'node_selector', 'limits', 'requests', 'data', 'string_data']);
// Snake-case key back to the API's spelling, for field paths in messages.
const API_SPELLING = new Map<string, string>();

/** A Kubernetes API object in the provider's snake_case shape, so one set of rules reads both. */
function normalize(v: unknown, parent = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x, parent));
  if (!isObj(v) || MAPS.has(parent)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    const snake = PLURALS[k] ?? k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
    if (snake !== k) API_SPELLING.set(snake, k);
    out[snake] = normalize(x, snake);
  }
  return out;
}

/** The path of field `key` of `b`, in the spelling the user wrote. */
function joinPath(b: Block, key: string): string {
  const k = b.api ? (API_SPELLING.get(key) ?? key) : key;
  return b.path ? `${b.path}.${k}` : k;
}
