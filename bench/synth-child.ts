/**
 * One measured synth, in a process of its own, reporting its own timings as
 * JSON. Two modes:
 *
 *   node synth-child.js <ours|baseline> <environments> <outdir> <report.json>
 *     loads one side of the synth-scale benchmark, builds N environments and
 *     synthesizes them into <outdir>;
 *   node synth-child.js main 0 <outdir> <report.json>
 *     runs the compiled main.ts (both example stacks), timing the `require` of
 *     cdktf, of the provider modules the app uses and of the library apart.
 *
 * AGC_STACK_TRACES=count counts cdktf's stack-trace captures (untimed runs);
 * AGC_STACK_TRACES=off replaces them with a no-op, as an experiment that sizes
 * their cost; AGC_LIVE_HEAP=1 with `--expose-gc` measures the heap the built
 * tree keeps alive (untimed runs).
 *
 * bench/synth-scale.ts runs it precompiled (tsc), so no TypeScript hook is in
 * the measured process. Only Node built-ins are imported statically: the
 * modules under test are loaded inside the timed "load" phases.
 */
// The module object itself (not an import-star copy), so the timers below replace what cdktf calls.
import fs = require('fs');
import { join } from 'path';
import { performance, PerformanceObserver } from 'perf_hooks';

/** What a child measures: one side of the synth-scale workload, or main.ts. */
export type ChildMode = 'ours' | 'baseline' | 'main';

/** What one child run reports; every time in milliseconds. */
export interface ChildReport {
  readonly mode: ChildMode;
  /** Environments built (0 for main). */
  readonly environments: number;
  /** Process start to the first line of this script: node's own start-up. */
  readonly bootMs: number;
  /** `require` of cdktf (and constructs). */
  readonly loadCdktfMs: number;
  /** `require` of the provider resource modules (main), or of the side's whole module: providers and, for ours, the library. */
  readonly loadProvidersMs: number;
  /** `require` of the library and the example app (main only; 0 otherwise). */
  readonly loadLibMs: number;
  /** Building the construct tree. */
  readonly constructMs: number;
  /** `app.synth()`: resolve, write cdk.tf.json, manifest and the offline kit. */
  readonly synthMs: number;
  /** Of synthMs, time inside synchronous fs calls (writes, the kit's reads and hashing input). */
  readonly synthFsMs: number;
  /** Garbage-collection pauses of the main thread during construct and synth. */
  readonly gcMs: number;
  /** Peak resident set size, KiB (`process.resourceUsage().maxRSS`). */
  readonly maxRssKiB: number;
  /** V8 heap in use right after synth, bytes. */
  readonly heapUsedBytes: number;
  /** User + system CPU time of the whole process (all threads), less contended by other load than wall time. */
  readonly cpuMs: number;
  /** With AGC_STACK_TRACES=count (an untimed run): cdktf's stack captures while building and synthesizing, and their frames. */
  readonly stackTraces?: { readonly captures: number; readonly frames: number };
  /** With AGC_LIVE_HEAP=1 and `--expose-gc` (an untimed run): heap the built construct tree keeps alive, bytes. */
  readonly liveHeapBytes?: number;
}

/** The one function of cdktf's stack-trace module that is counted or stubbed out. */
interface StackTraceModule {
  captureStackTrace: (below?: unknown) => string[];
}

/** cdktf's stack-trace module: a plain require gives the module object itself, which cdktf's own modules call through. */
function stackTraceModule(): StackTraceModule {
  return require('cdktf/lib/tokens/private/stack-trace') as StackTraceModule;
}

/**
 * Counts cdktf's stack-trace captures (every token and complex attribute
 * object takes one) and the frames they hold. cdktf calls the function
 * through its module object, so replacing the export sees every call.
 */
function stackTraceCounter(on: () => boolean): () => { captures: number; frames: number } {
  const counts = { captures: 0, frames: 0 };
  const mod = stackTraceModule();
  const original = mod.captureStackTrace;
  mod.captureStackTrace = function counted(below?: unknown): string[] {
    // Hide this wrapper as cdktf hides its own function.
    const trace = original(below ?? counted);
    if (on()) {
      counts.captures++;
      counts.frames += trace.length;
    }
    return trace;
  };
  return () => counts;
}

const FS_CALLS = [
  'writeFileSync',
  'readFileSync',
  'mkdirSync',
  'existsSync',
  'readdirSync',
  'lstatSync',
  'statSync',
  'chmodSync',
  'copyFileSync',
  'cpSync',
  'rmSync',
] as const;

/**
 * Wraps fs's synchronous calls to add up their time while `on()` is true.
 * cdktf and lib/ read these functions off the module object at call time, so
 * the wrappers see their calls; module loading happens outside synth.
 */
function fsTimer(on: () => boolean): () => number {
  let total = 0;
  const target = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of FS_CALLS) {
    const original = target[name];
    target[name] = function timed(this: unknown, ...args: unknown[]): unknown {
      if (!on()) return original.apply(this, args);
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        total += performance.now() - t;
      }
    };
  }
  return () => total;
}

/** The provider modules the compiled library and app require, read from their JavaScript. */
function providerModules(root: string): string[] {
  const files = [join(root, 'main.js'), ...['lib', 'examples'].flatMap((d) => fs.readdirSync(join(root, d)).filter((f) => f.endsWith('.js')).map((f) => join(root, d, f)))];
  const found = new Set<string>();
  for (const f of files) for (const m of fs.readFileSync(f, 'utf8').matchAll(/require\("(@cdktf\/provider-[^"]+)"\)/g)) found.add(m[1]);
  return [...found].sort();
}

/** Phase boundaries of one run, from performance.now(). */
interface Marks {
  readonly start: number;
  readonly cdktf: number;
  readonly providers: number;
  readonly lib: number;
  readonly constructed: number;
  readonly synthesized: number;
}

/** The measured phases after loading; the callback hears each start, and 'done'. */
type Phase = 'construct' | 'synth' | 'done';

/** Loads one side, builds `environments` and synthesizes into `outdir`. */
async function runSide(mode: 'ours' | 'baseline', environments: number, outdir: string, phase: (p: Phase) => void): Promise<Marks> {
  const start = performance.now();
  const { App } = await import('cdktf');
  const cdktf = performance.now();
  const build = mode === 'ours' ? (await import('./synth-workload')).buildOurs : (await import('./synth-baseline')).buildBaseline;
  const providers = performance.now();
  phase('construct');
  const app = new App({ outdir });
  build(app, environments);
  const constructed = performance.now();
  phase('synth');
  app.synth();
  phase('done');
  return { start, cdktf, providers, lib: providers, constructed, synthesized: performance.now() };
}

/** Runs the compiled main.ts, with cdktf, the provider modules and the library loaded (and timed) first. */
async function runMain(outdir: string, phase: (p: Phase) => void): Promise<Marks> {
  const modules = providerModules(join(__dirname, '..'));
  const start = performance.now();
  const { App } = await import('cdktf');
  const cdktf = performance.now();
  for (const m of modules) await import(m);
  const providers = performance.now();
  await import('../lib');
  await import('../examples/preview-app');
  const lib = performance.now();
  // main.ts builds and synthesizes while it is being loaded; wrapping synth splits the two.
  let constructed = 0;
  let synthesized = 0;
  const synth = App.prototype.synth;
  App.prototype.synth = function timedSynth(this: InstanceType<typeof App>): void {
    constructed = performance.now();
    phase('synth');
    synth.call(this);
    phase('done');
    synthesized = performance.now();
  };
  process.env.CDKTF_OUTDIR = outdir;
  phase('construct');
  await import('../main');
  return { start, cdktf, providers, lib, constructed, synthesized };
}

async function main(): Promise<void> {
  const bootMs = performance.now();
  const [mode, count, outdir, reportFile] = process.argv.slice(2);
  if ((mode !== 'ours' && mode !== 'baseline' && mode !== 'main') || !outdir || !reportFile) {
    throw new Error('usage: synth-child <ours|baseline|main> <environments> <outdir> <report.json>');
  }
  let current: Phase | 'load' = 'load';
  // With AGC_LIVE_HEAP=1 and --expose-gc (untimed runs): the heap the built tree keeps alive, collected before and after construct.
  const collect = process.env.AGC_LIVE_HEAP === '1' ? (globalThis as { gc?: () => void }).gc : undefined;
  const heap: number[] = [];
  const phase = (p: Phase) => {
    if (collect && (p === 'construct' || p === 'synth')) {
      collect();
      heap.push(process.memoryUsage().heapUsed);
    }
    current = p;
  };
  const fsMs = fsTimer(() => current === 'synth');
  const traces = process.env.AGC_STACK_TRACES === 'count' ? stackTraceCounter(() => current === 'construct' || current === 'synth') : undefined;
  // An experiment, never a real synth: without the captures, what is left of the difference between the sides?
  // The traces only feed cdktf's error messages, so the output is the same.
  if (process.env.AGC_STACK_TRACES === 'off') stackTraceModule().captureStackTrace = () => [];
  // GC pauses, to tell the growth of the heap apart from the work that grows with N.
  const pauses: Array<{ start: number; end: number }> = [];
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, end: e.startTime + e.duration });
  });
  gc.observe({ entryTypes: ['gc'] });
  const m = mode === 'main' ? await runMain(outdir, phase) : await runSide(mode, Number(count), outdir, phase);
  // Entries arrive on the event loop, after the synchronous synth has finished.
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc.disconnect();
  const gcMs = pauses.filter((p) => p.start >= m.lib && p.end <= m.synthesized + 1).reduce((a, p) => a + (p.end - p.start), 0);
  const report: ChildReport = {
    mode,
    environments: mode === 'main' ? 0 : Number(count),
    bootMs,
    loadCdktfMs: m.cdktf - m.start,
    loadProvidersMs: m.providers - m.cdktf,
    loadLibMs: m.lib - m.providers,
    constructMs: m.constructed - m.lib,
    synthMs: m.synthesized - m.constructed,
    synthFsMs: fsMs(),
    gcMs,
    maxRssKiB: process.resourceUsage().maxRSS,
    heapUsedBytes: process.memoryUsage().heapUsed,
    cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
    stackTraces: traces?.(),
    liveHeapBytes: heap.length === 2 ? heap[1] - heap[0] : undefined,
  };
  fs.writeFileSync(reportFile, JSON.stringify(report));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
