/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) into the few figures the
 * synth-scale report keeps: self time by function and by package, so a
 * finding can be checked without the multi-megabyte profile itself.
 */
import { readFileSync } from 'fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** One function's share of a profile. */
export interface ProfileEntry {
  /** `function (file:line)`; file relative to node_modules or the repo. */
  readonly name: string;
  /** Package or area the function belongs to (see {@link areaOf}). */
  readonly area: string;
  readonly selfMs: number;
  /** Self time over the whole profile. */
  readonly share: number;
}

/** A profile boiled down to its top self-time functions and areas. */
export interface ProfileSummary {
  readonly totalMs: number;
  readonly top: readonly ProfileEntry[];
  /** Self time by area, largest first. */
  readonly areas: ReadonlyArray<{ readonly area: string; readonly selfMs: number; readonly share: number }>;
  /** Inclusive time of chosen functions (every sample with the function anywhere on its stack). */
  readonly inclusive: ReadonlyArray<{ readonly name: string; readonly ms: number; readonly share: number }>;
}

/**
 * Where a function lives: an npm package (`cdktf`, `constructs`,
 * `@cdktf/provider-kubernetes`), `lib` (this library), `bench`, `node`
 * (Node's own JavaScript), or a V8 pseudo-frame such as `(garbage collector)`.
 */
export function areaOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === '') return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (/\/lib\/[^/]+\.js$/.test(url)) return 'lib';
  if (/\/bench\/[^/]+\.js$/.test(url)) return 'bench';
  return 'other';
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('node_modules/');
  if (i >= 0) return url.slice(i + 'node_modules/'.length);
  const m = /\/((?:lib|bench|examples)\/[^/]+)$/.exec(url);
  return m ? m[1] : url.replace(/^file:\/\//, '');
}

function frameName(frame: CallFrame): string {
  const fn = frame.functionName || '(anonymous)';
  return frame.url ? `${fn} (${shortUrl(frame.url)}:${frame.lineNumber + 1})` : fn;
}

/**
 * Summarizes a `.cpuprofile`: the `top` functions by self time, self time by
 * area, and the inclusive time of every function whose name matches one of
 * `inclusiveOf` (for questions like "how much is under captureStackTrace").
 */
export function summarizeCpuProfile(file: string, top = 15, inclusiveOf: readonly RegExp[] = []): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  // Each sample's delta is charged to the node sampled, V8's own convention.
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;

  const fnSelf = new Map<string, { area: string; us: number }>();
  const areaSelf = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const key = frameName(frame);
    const area = areaOf(frame);
    const cur = fnSelf.get(key) ?? { area, us: 0 };
    cur.us += us;
    fnSelf.set(key, cur);
    areaSelf.set(area, (areaSelf.get(area) ?? 0) + us);
  }

  // Inclusive: a node's self time counts once for each wanted function on its
  // path to the root; recursion must not count a function twice.
  const inclusiveUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = frameName((byId.get(cur) as ProfileNode).callFrame);
      if (!seen.has(name) && inclusiveOf.some((re) => re.test(name))) {
        seen.add(name);
        inclusiveUs.set(name, (inclusiveUs.get(name) ?? 0) + us);
      }
    }
  }

  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => Math.round((us / totalUs) * 1000) / 1000;
  return {
    totalMs: ms(totalUs),
    top: [...fnSelf.entries()]
      .sort((a, b) => b[1].us - a[1].us)
      .slice(0, top)
      .map(([name, v]) => ({ name, area: v.area, selfMs: ms(v.us), share: share(v.us) })),
    areas: [...areaSelf.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: ms(us), share: share(us) })),
    inclusive: [...inclusiveUs.entries()].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: ms(us), share: share(us) })),
  };
}
