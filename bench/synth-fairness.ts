/**
 * The fairness check of the synth-scale benchmark: ours and the hand-written
 * baseline must synthesize the same Terraform, or the comparison measures two
 * different programs.
 *
 * Logical ids differ by construction (ours are `Preview0_hello_Deployment_<hash>`,
 * the baseline's `deploy0`), so each resource is renamed to an id derived from
 * what it is in the cluster, `<namespace>__<name>` (the namespace alone for a
 * namespace), every `type.id` inside a string (cross-references such as
 * `${kubernetes_namespace_v1.X.metadata[0].name}`) is rewritten the same way,
 * and the per-resource `//` metadata, which records the construct path, is
 * dropped. What remains must be byte-identical.
 */
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { App } from 'cdktf';
import { AirgapStack } from '../lib/stack/airgap-stack';
import { buildBaseline } from './synth-baseline';
import { buildOurs, WORKLOAD } from './synth-workload';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Resources of one type on both sides. */
export interface TypeCount {
  readonly type: string;
  readonly ours: number;
  readonly baseline: number;
}

/** The outcome of a fairness check. */
export interface FairnessResult {
  /** Same resource types and counts, and the same attributes for every resource. */
  readonly ok: boolean;
  /** The normalized documents are equal byte for byte (true whenever ok: cdktf writes sorted keys). */
  readonly byteIdentical: boolean;
  readonly environments: number;
  readonly counts: readonly TypeCount[];
  /** Resources on each side. */
  readonly resources: { readonly ours: number; readonly baseline: number };
  /** Size of the normalized document, bytes. */
  readonly normalizedBytes: number;
  /** The first differences found, as JSON paths; empty when ok. */
  readonly differences: readonly string[];
}

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const NAMESPACE_REF = /^\$\{kubernetes_namespace_v1\.([A-Za-z0-9_-]+)\.metadata\[0\]\.name\}$/;

/**
 * The id a resource gets after normalization: `<namespace>__<name>` from its
 * metadata, where a namespace given as a reference to a namespace resource is
 * replaced by that namespace's name. Problems (no metadata, an id used twice)
 * go to `problems`.
 */
function canonicalIds(resources: JsonObject, problems: string[]): Map<string, string> {
  const namespaces = isObject(resources.kubernetes_namespace_v1) ? resources.kubernetes_namespace_v1 : {};
  const nsName = (id: string): string | undefined => {
    const ns = namespaces[id];
    const meta = isObject(ns) ? ns.metadata : undefined;
    return isObject(meta) && typeof meta.name === 'string' ? meta.name : undefined;
  };
  const out = new Map<string, string>();
  for (const [type, byId] of Object.entries(resources)) {
    if (!isObject(byId)) continue;
    const taken = new Set<string>();
    for (const [id, body] of Object.entries(byId)) {
      const meta = isObject(body) ? body.metadata : undefined;
      // A namespace's default ServiceAccount is named "default" by Kubernetes, not in the configuration.
      const name = isObject(meta) && typeof meta.name === 'string' ? meta.name : type === 'kubernetes_default_service_account_v1' ? 'default' : undefined;
      if (!isObject(meta) || name === undefined) {
        problems.push(`resource.${type}.${id}: no metadata.name to identify it by`);
        continue;
      }
      let namespace = '';
      if (typeof meta.namespace === 'string') {
        const ref = NAMESPACE_REF.exec(meta.namespace);
        namespace = ref ? (nsName(ref[1]) ?? `?${ref[1]}`) : meta.namespace;
      }
      const canonical = (namespace ? `${namespace}__${name}` : name).replace(/[^A-Za-z0-9_-]/g, '_');
      if (taken.has(canonical)) problems.push(`resource.${type}: two resources normalize to "${canonical}"`);
      taken.add(canonical);
      out.set(`${type}.${id}`, `${type}.${canonical}`);
    }
  }
  return out;
}

/** `type.id` inside any string; ids not in the map (such as a registry host) are left alone. */
const ADDRESS = /([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)/g;

function rewrite(value: Json, ids: Map<string, string>): Json {
  if (typeof value === 'string') return value.replace(ADDRESS, (whole: string) => ids.get(whole) ?? whole);
  if (Array.isArray(value)) return value.map((v) => rewrite(v, ids));
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = rewrite(v, ids);
    return out;
  }
  return value;
}

/**
 * A synthesized stack with logical ids replaced by cluster identities,
 * references rewritten and resource `//` metadata dropped. Resources of a
 * type are sorted by their new id, as cdktf sorts by logical id.
 */
export function normalizeStack(stack: JsonObject, problems: string[] = []): JsonObject {
  const resources = isObject(stack.resource) ? stack.resource : {};
  const ids = canonicalIds(resources, problems);
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(stack)) {
    if (key !== 'resource' || !isObject(value)) {
      out[key] = rewrite(value, ids);
      continue;
    }
    const types: JsonObject = {};
    for (const [type, byId] of Object.entries(value)) {
      if (!isObject(byId)) continue;
      const renamed: Array<[string, Json]> = [];
      for (const [id, body] of Object.entries(byId)) {
        const kept: JsonObject = {};
        if (isObject(body)) for (const [k, v] of Object.entries(body)) if (k !== '//') kept[k] = rewrite(v, ids);
        const canonical = ids.get(`${type}.${id}`) ?? `${type}.${id}`;
        renamed.push([canonical.slice(type.length + 1), kept]);
      }
      renamed.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      types[type] = Object.fromEntries(renamed);
    }
    out[key] = types;
  }
  return out;
}

/** JSON paths where two documents differ, at most `limit` of them. */
function differences(a: Json | undefined, b: Json | undefined, path: string, out: string[], limit: number): void {
  if (out.length >= limit) return;
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) differences(a[k], b[k], `${path}.${k}`, out, limit);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((v, i) => differences(v, b[i], `${path}[${i}]`, out, limit));
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push(`${path}: ours ${JSON.stringify(a) ?? 'absent'}, baseline ${JSON.stringify(b) ?? 'absent'}`.slice(0, 300));
  }
}

function countByType(stack: JsonObject): Map<string, number> {
  const resources = isObject(stack.resource) ? stack.resource : {};
  return new Map(Object.entries(resources).map(([type, byId]) => [type, isObject(byId) ? Object.keys(byId).length : 0]));
}

/** Compares two synthesized `cdk.tf.json` texts, ours first. */
export function compareSynthesized(oursText: string, baselineText: string, environments: number): FairnessResult {
  const ours = JSON.parse(oursText) as JsonObject;
  const baseline = JSON.parse(baselineText) as JsonObject;
  const problems: string[] = [];
  const a = normalizeStack(ours, problems);
  const b = normalizeStack(baseline, problems);
  const oursCounts = countByType(ours);
  const baselineCounts = countByType(baseline);
  const counts = [...new Set([...oursCounts.keys(), ...baselineCounts.keys()])]
    .sort()
    .map((type) => ({ type, ours: oursCounts.get(type) ?? 0, baseline: baselineCounts.get(type) ?? 0 }));
  for (const c of counts) if (c.ours !== c.baseline) problems.push(`resource.${c.type}: ${c.ours} ours, ${c.baseline} baseline`);
  const textA = JSON.stringify(a, null, 2);
  const textB = JSON.stringify(b, null, 2);
  const byteIdentical = textA === textB;
  if (!byteIdentical) differences(a, b, '$', problems, 20);
  const sum = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);
  return {
    ok: problems.length === 0 && byteIdentical,
    byteIdentical,
    environments,
    counts,
    resources: { ours: sum(oursCounts), baseline: sum(baselineCounts) },
    normalizedBytes: Buffer.byteLength(textA),
    differences: problems.slice(0, 20),
  };
}

/** Path of a stack's `cdk.tf.json` below an app's outdir. */
export function stackJsonPath(outdir: string, stackId: string = WORKLOAD.stackId): string {
  return join(outdir, 'stacks', stackId, 'cdk.tf.json');
}

/** Synthesizes one side into a fresh temp dir and returns its `cdk.tf.json` text. */
export function synthesizeText(build: (app: App, environments: number) => AirgapStack, environments: number): string {
  const outdir = mkdtempSync(join(tmpdir(), 'agc-bench-fair-'));
  try {
    const app = new App({ outdir });
    build(app, environments);
    app.synth();
    return readFileSync(stackJsonPath(outdir), 'utf8');
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Synthesizes both sides for `environments` in this process and compares them. */
export function checkFairness(environments = 3): FairnessResult {
  return compareSynthesized(synthesizeText(buildOurs, environments), synthesizeText(buildBaseline, environments), environments);
}
