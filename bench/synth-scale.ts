/**
 * Synth time and memory of N preview environments in one stack, built with
 * the library and written by hand against the raw provider classes
 * (bench/synth-baseline.ts); and the cold start of `npm run synth`.
 *
 *   npm run bench -- synth-scale              # N = 10, 100, 500, 1000, 2000; 5 runs each
 *   npm run bench -- synth-scale --quick      # N = 10, 100; 3 runs; for development
 *   BENCH_SYNTH_N=10,500 BENCH_RUNS=3 BENCH_SYNTH_COLD=0 npm run bench -- synth-scale
 *
 * Every measured synth runs in a fresh `node` process on JavaScript that tsc
 * compiled into a temp dir (bench/synth-child.ts), ours and the baseline
 * alternating, so neither a TypeScript hook nor machine drift favours a side.
 * The bench refuses to report when the two sides do not synthesize the same
 * Terraform (bench/synth-fairness.ts).
 */
import { spawnSync, SpawnSyncOptions } from 'child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { loadavg, tmpdir } from 'os';
import { join } from 'path';
import { median, saveResult } from './results';
import type { ChildMode, ChildReport } from './synth-child';
import { checkFairness, compareSynthesized, FairnessResult, stackJsonPath } from './synth-fairness';
import { ProfileSummary, summarizeCpuProfile } from './synth-profile';

const REPO = join(__dirname, '..');
const QUICK = process.argv.includes('--quick');
const SIZES = process.env.BENCH_SYNTH_N ? process.env.BENCH_SYNTH_N.split(',').map(Number) : QUICK ? [10, 100] : [10, 100, 500, 1000, 2000];
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 3 : 5));
const COLD_START = process.env.BENCH_SYNTH_COLD !== '0';
/** Resources one environment synthesizes to: namespace, 3 network policies, quota, limit range, the managed default and the workload service account; deployment, service, PDB, ingress-controller policy, ingress. */
export const RESOURCES_PER_ENVIRONMENT = 13;

/** Targets of issue 7. */
const TARGET = { ratio: 1.1, perResourceGrowth: 1.2, n1000Seconds: 15, n1000RssGiB: 1.5, npmSynthSeconds: 5 };

/** Medians (and the runs behind them) of one side at one N. */
export interface SideStats {
  readonly wallMs: number;
  readonly bootMs: number;
  readonly loadMs: number;
  readonly constructMs: number;
  readonly synthMs: number;
  readonly synthFsMs: number;
  /** Main-thread GC pauses during construct + synth. */
  readonly gcMs: number;
  /** construct + synth: the part that grows with N. */
  readonly workMs: number;
  readonly maxRssMiB: number;
  /** User + system CPU of the child process, all threads. */
  readonly cpuMs: number;
  readonly resources: number;
  /** Size of the written cdk.tf.json. */
  readonly jsonBytes: number;
  /** workMs per resource, microseconds. */
  readonly usPerResource: number;
  /** workMs less GC pauses, per resource, microseconds. */
  readonly usPerResourceWithoutGc: number;
  readonly runs: ReadonlyArray<{ readonly wallMs: number; readonly workMs: number; readonly cpuMs: number; readonly maxRssMiB: number }>;
}

/** One N of the scaling table. */
export interface ScaleRow {
  readonly environments: number;
  readonly ours: SideStats;
  readonly baseline: SideStats;
  /** Median wall time, ours over baseline. */
  readonly wallRatio: number;
  /** Median over the run pairs of ours over baseline wall time; pairs ran back to back. */
  readonly pairedWallRatio: number;
  /** Median process CPU time, ours over baseline: less sensitive to other load on the machine. */
  readonly cpuRatio: number;
  /** Median construct + synth, ours over baseline. */
  readonly workRatio: number;
  /** Median construct alone, ours over baseline. */
  readonly constructRatio: number;
}

/** A target of the issue and whether this run met it. */
export interface TargetResult {
  readonly target: string;
  readonly value: string;
  /** undefined: not measured in this run (quick mode, a size left out). */
  readonly met?: boolean;
}

/** One command of the cold-start comparison. */
export interface ColdVariant {
  readonly key: string;
  readonly command: string;
  readonly medianMs: number;
  readonly runsMs: readonly number[];
}

/** cdktf's stack-trace captures of one side, and the heap its built tree keeps alive with and without them. */
export interface StackTraceFigures {
  readonly capturesPerEnvironment: number;
  readonly framesPerCapture: number;
  readonly liveHeapKiBPerEnvironment: number;
  readonly liveHeapKiBPerEnvironmentWithoutTraces: number;
}

/** Everything bench/render.ts needs; saved as bench/results/synth-scale.json. */
export interface SynthScaleFigures {
  readonly quick: boolean;
  readonly runs: number;
  readonly sizes: readonly number[];
  readonly execution: string;
  readonly compileSeconds: number;
  readonly machineDetail: { readonly nproc: number; readonly memTotalGiB: number; readonly cpuModel: string; readonly node: string; readonly loadAverageBefore: readonly number[]; readonly loadAverageAfter: readonly number[] };
  readonly benchSeconds: number;
  readonly fairness: { readonly smallN: FairnessResult; readonly measured: ReadonlyArray<Pick<FairnessResult, 'environments' | 'ok' | 'byteIdentical' | 'resources'>> };
  readonly scale: readonly ScaleRow[];
  /** cdktf's stack-trace captures (one per token and complex attribute object) per environment, from one untimed run per side. */
  readonly stackTraces?: {
    readonly environments: number;
    readonly ours: StackTraceFigures;
    readonly baseline: StackTraceFigures;
  };
  /** The stack-trace experiment: both sides with cdktf's capture stubbed out, against the measured row at the same N. */
  readonly withoutStackTraces?: {
    readonly environments: number;
    readonly runs: number;
    readonly ours: SideStats;
    readonly baseline: SideStats;
    readonly wallRatio: number;
    readonly cpuRatio: number;
    readonly measured: ScaleRow;
  };
  readonly profile?: {
    readonly environments: number;
    readonly ours: ProfileSummary;
    readonly baseline: ProfileSummary;
    /** Functions where ours spends the most self time beyond the baseline's. */
    readonly extraSelf: ReadonlyArray<{ readonly name: string; readonly oursMs: number; readonly baselineMs: number }>;
  };
  readonly coldStart?: {
    readonly variants: readonly ColdVariant[];
    /** Medians of the instrumented run of the compiled main.ts, and of its process wall time. */
    readonly probe: Omit<ChildReport, 'mode' | 'environments'> & { readonly wallMs: number };
    readonly breakdown: ReadonlyArray<{ readonly part: string; readonly ms: number }>;
    readonly profiles: { readonly cli: ProfileSummary; readonly app: ProfileSummary };
  };
  readonly targets: readonly TargetResult[];
  readonly commands: readonly string[];
}

function log(message: string): void {
  console.log(`synth-scale: ${message}`);
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Runs a command to completion and returns its wall time; throws with its output when it fails. */
function timed(command: string, args: readonly string[], options: SpawnSyncOptions = {}): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20, ...options });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${String(r.stdout)}\n${String(r.stderr)}`.slice(0, 4000));
  return ms;
}

/**
 * Compiles the child script, main.ts and everything they import (lib/,
 * examples/) with the project's compiler options into `dir/js`, links the
 * project's node_modules beside it and copies examples/hello-go, which the
 * image stack stages from `__dirname`.
 */
export function compile(dir: string): { jsRoot: string; ms: number } {
  const jsRoot = join(dir, 'js');
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(REPO, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir: jsRoot, rootDir: REPO, declaration: false, sourceMap: false, types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')] },
      files: [join(REPO, 'bench', 'synth-child.ts'), join(REPO, 'main.ts')],
      include: [],
    }),
  );
  const ms = timed(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig]);
  symlinkSync(join(REPO, 'node_modules'), join(jsRoot, 'node_modules'));
  cpSync(join(REPO, 'examples', 'hello-go'), join(jsRoot, 'examples', 'hello-go'), { recursive: true, filter: (src) => !src.endsWith('/hello-go/hello-go') });
  return { jsRoot, ms };
}

/** One run of the child script in a fresh process. */
export function runChild(
  jsRoot: string,
  work: string,
  mode: ChildMode,
  environments: number,
  keepJson: boolean,
  nodeFlags: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): { wallMs: number; report: ChildReport; resources: number; jsonBytes: number; json?: string } {
  const outdir = mkdtempSync(join(work, `out-${mode}-`));
  const reportFile = join(outdir, 'report.json');
  try {
    const wallMs = timed(process.execPath, [...nodeFlags, join(jsRoot, 'bench', 'synth-child.js'), mode, String(environments), outdir, reportFile], { cwd: work, env });
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as ChildReport;
    if (mode === 'main') return { wallMs, report, resources: 0, jsonBytes: 0 };
    const json = readFileSync(stackJsonPath(outdir), 'utf8');
    const parsed = JSON.parse(json) as { resource?: Record<string, Record<string, unknown>> };
    const resources = Object.values(parsed.resource ?? {}).reduce((n, byId) => n + Object.keys(byId).length, 0);
    return { wallMs, report, resources, jsonBytes: Buffer.byteLength(json), json: keepJson ? json : undefined };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

function sideStats(runs: ReadonlyArray<{ wallMs: number; report: ChildReport; resources: number; jsonBytes: number }>): SideStats {
  const m = (f: (r: { wallMs: number; report: ChildReport }) => number) => median(runs.map(f));
  const work = (r: { report: ChildReport }) => r.report.constructMs + r.report.synthMs;
  const rss = (r: { report: ChildReport }) => r.report.maxRssKiB / 1024;
  const resources = runs[0].resources;
  return {
    wallMs: round(m((r) => r.wallMs)),
    bootMs: round(m((r) => r.report.bootMs)),
    loadMs: round(m((r) => r.report.loadCdktfMs + r.report.loadProvidersMs + r.report.loadLibMs)),
    constructMs: round(m((r) => r.report.constructMs)),
    synthMs: round(m((r) => r.report.synthMs)),
    synthFsMs: round(m((r) => r.report.synthFsMs)),
    gcMs: round(m((r) => r.report.gcMs)),
    workMs: round(m(work)),
    maxRssMiB: round(m(rss)),
    cpuMs: round(m((r) => r.report.cpuMs)),
    resources,
    jsonBytes: runs[0].jsonBytes,
    usPerResource: round((m(work) * 1000) / resources),
    usPerResourceWithoutGc: round((m((r) => work(r) - r.report.gcMs) * 1000) / resources),
    runs: runs.map((r) => ({ wallMs: round(r.wallMs), workMs: round(work(r)), cpuMs: round(r.report.cpuMs), maxRssMiB: round(rss(r)) })),
  };
}

/** The scaling table: every N, RUNS runs per side, alternating which side goes first. */
function measureScale(jsRoot: string, work: string): { rows: ScaleRow[]; measured: Array<Pick<FairnessResult, 'environments' | 'ok' | 'byteIdentical' | 'resources'>> } {
  // One untimed run per side, so the first measured one does not pay for a cold disk cache.
  for (const side of ['ours', 'baseline'] as const) runChild(jsRoot, work, side, SIZES[0], false);
  const rows: ScaleRow[] = [];
  const measured: Array<Pick<FairnessResult, 'environments' | 'ok' | 'byteIdentical' | 'resources'>> = [];
  for (const n of SIZES) {
    const results = { ours: [] as Array<ReturnType<typeof runChild>>, baseline: [] as Array<ReturnType<typeof runChild>> };
    for (let run = 0; run < RUNS; run++) {
      const order = run % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const);
      for (const side of order) results[side].push(runChild(jsRoot, work, side, n, run === 0));
      log(`N=${n} run ${run + 1}/${RUNS}: ours ${(results.ours[run].wallMs / 1000).toFixed(2)} s, baseline ${(results.baseline[run].wallMs / 1000).toFixed(2)} s`);
      if (run === 0) {
        // The outputs actually measured are compared too, not only the small in-process check.
        const fair = compareSynthesized(results.ours[0].json as string, results.baseline[0].json as string, n);
        if (!fair.ok) throw new Error(`fairness check failed at N=${n}:\n${fair.differences.join('\n')}`);
        if (fair.resources.ours !== RESOURCES_PER_ENVIRONMENT * n) throw new Error(`N=${n} synthesized ${fair.resources.ours} resources, not ${RESOURCES_PER_ENVIRONMENT * n}`);
        measured.push({ environments: n, ok: fair.ok, byteIdentical: fair.byteIdentical, resources: fair.resources });
        results.ours[0].json = undefined;
        results.baseline[0].json = undefined;
      }
    }
    const ours = sideStats(results.ours);
    const baseline = sideStats(results.baseline);
    rows.push({
      environments: n,
      ours,
      baseline,
      wallRatio: round(ours.wallMs / baseline.wallMs, 3),
      pairedWallRatio: round(median(results.ours.map((o, i) => o.wallMs / results.baseline[i].wallMs)), 3),
      cpuRatio: round(ours.cpuMs / baseline.cpuMs, 3),
      workRatio: round(ours.workMs / baseline.workMs, 3),
      constructRatio: round(ours.constructMs / baseline.constructMs, 3),
    });
  }
  return { rows, measured };
}

/** Runs the child once under `node --cpu-prof` and summarizes the profile. */
function profileChild(jsRoot: string, work: string, mode: ChildMode, environments: number, top: number, inclusiveOf: readonly RegExp[]): ProfileSummary {
  const dir = mkdtempSync(join(work, 'prof-'));
  try {
    runChild(jsRoot, work, mode, environments, false, ['--cpu-prof', '--cpu-prof-dir', dir]);
    return summarizeCpuProfile(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) as string), top, inclusiveOf);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Functions whose inclusive time the profiles record: cdktf's phases, the stack-trace capture, and each construct. */
const INCLUSIVE = [
  /^synth \(cdktf\/lib\/app\.js/,
  /^prepareStack \(cdktf/,
  /^toTerraform \(cdktf\/lib\/terraform-stack\.js/,
  /^captureStackTrace /,
  /^(buildOurs|buildBaseline) /,
  /^(PreviewEnvironment|GoService|addService) /,
  /^(DeploymentV1|NamespaceV1|NetworkPolicyV1|IngressV1|ServiceV1|ServiceAccountV1|PodDisruptionBudgetV1|ResourceQuotaV1|LimitRangeV1) /,
  /^get name \(@cdktf\/provider-kubernetes/,
  /^writeOfflineKit /,
];

/**
 * cdktf's stack-trace captures per environment and their depth, and the heap
 * the built tree keeps alive with and without them: untimed runs, two per side.
 */
function countStackTraces(jsRoot: string, work: string): NonNullable<SynthScaleFigures['stackTraces']> {
  // Captures and heap per environment do not depend on N; 100 keeps these runs short.
  const n = SIZES.includes(100) ? 100 : SIZES[0];
  const count = (mode: 'ours' | 'baseline') => {
    const counted = runChild(jsRoot, work, mode, n, false, ['--expose-gc'], { ...process.env, AGC_STACK_TRACES: 'count', AGC_LIVE_HEAP: '1' }).report;
    const without = runChild(jsRoot, work, mode, n, false, ['--expose-gc'], { ...process.env, AGC_STACK_TRACES: 'off', AGC_LIVE_HEAP: '1' }).report;
    const t = counted.stackTraces;
    if (!t || counted.liveHeapBytes === undefined || without.liveHeapBytes === undefined) throw new Error('the child did not count stack traces or measure the heap');
    return {
      capturesPerEnvironment: round(t.captures / n),
      framesPerCapture: round(t.frames / t.captures),
      liveHeapKiBPerEnvironment: round(counted.liveHeapBytes / n / 1024),
      liveHeapKiBPerEnvironmentWithoutTraces: round(without.liveHeapBytes / n / 1024),
    };
  };
  return { environments: n, ours: count('ours'), baseline: count('baseline') };
}

/** The largest N up to 1000: where the profile and the stack-trace experiment run. */
function probeSize(): number {
  return SIZES.filter((x) => x <= 1000).pop() ?? SIZES[0];
}

/**
 * Both sides again at one N with cdktf's stack-trace capture replaced by a
 * no-op (AGC_STACK_TRACES=off): how much of the time, and of the difference
 * between the sides, those captures are. Three pairs, alternating.
 */
function measureWithoutStackTraces(jsRoot: string, work: string, rows: readonly ScaleRow[]): NonNullable<SynthScaleFigures['withoutStackTraces']> {
  const n = probeSize();
  log(`N=${n} with cdktf's stack-trace capture stubbed out`);
  const env = { ...process.env, AGC_STACK_TRACES: 'off' };
  const results = { ours: [] as Array<ReturnType<typeof runChild>>, baseline: [] as Array<ReturnType<typeof runChild>> };
  for (let run = 0; run < 3; run++) {
    for (const side of run % 2 === 0 ? (['ours', 'baseline'] as const) : (['baseline', 'ours'] as const)) results[side].push(runChild(jsRoot, work, side, n, false, [], env));
  }
  const ours = sideStats(results.ours);
  const baseline = sideStats(results.baseline);
  if (ours.resources !== baseline.resources || ours.resources !== RESOURCES_PER_ENVIRONMENT * n) throw new Error(`N=${n} without stack traces: ${ours.resources} and ${baseline.resources} resources`);
  const measured = rows.find((r) => r.environments === n) as ScaleRow;
  return { environments: n, runs: 3, ours, baseline, wallRatio: round(ours.wallMs / baseline.wallMs, 3), cpuRatio: round(ours.cpuMs / baseline.cpuMs, 3), measured };
}

/** Profiles both sides once at the largest N up to 1000, and lists where ours spends more self time. */
function profileScale(jsRoot: string, work: string): NonNullable<SynthScaleFigures['profile']> {
  const n = probeSize();
  log(`profiling both sides at N=${n}`);
  // A long list for the comparison; the saved summaries keep the top 15.
  const ours = profileChild(jsRoot, work, 'ours', n, 400, INCLUSIVE);
  const baseline = profileChild(jsRoot, work, 'baseline', n, 400, INCLUSIVE);
  const baselineSelf = new Map(baseline.top.map((e) => [e.name, e.selfMs]));
  const extraSelf = ours.top
    .map((e) => ({ name: e.name, oursMs: e.selfMs, baselineMs: baselineSelf.get(e.name) ?? 0 }))
    .sort((a, b) => b.oursMs - b.baselineMs - (a.oursMs - a.baselineMs))
    .slice(0, 10);
  const trim = (s: ProfileSummary): ProfileSummary => ({ ...s, top: s.top.slice(0, 15) });
  return { environments: n, ours: trim(ours), baseline: trim(baseline), extraSelf };
}

/** The cold start of `npm run synth` against its parts, RUNS rounds, the commands interleaved. */
function measureColdStart(jsRoot: string, work: string): NonNullable<SynthScaleFigures['coldStart']> {
  const cli = join(REPO, 'node_modules', 'cdktf-cli', 'bundle', 'bin', 'cdktf');
  const quiet = { CHECKPOINT_DISABLE: '1', DISABLE_VERSION_CHECK: '1' };
  const variants: Array<{ key: string; command: string; run: (out: string) => number }> = [
    { key: 'npmRunSynth', command: 'npm run synth -- --output <tmp>', run: (out) => timed('npm', ['run', 'synth', '--', '--output', out], { cwd: REPO }) },
    { key: 'npmVersion', command: 'npm --version (npm start-up alone)', run: () => timed('npm', ['--version'], { cwd: REPO }) },
    { key: 'cdktfSynth', command: 'cdktf synth --output <tmp> (the CLI without npm)', run: (out) => timed(process.execPath, [cli, 'synth', '--output', out], { cwd: REPO, env: { ...process.env, ...quiet } }) },
    {
      key: 'cdktfSynthPrecompiled',
      command: 'cdktf synth --app "node main.js" --output <tmp> (the CLI on the precompiled app)',
      run: (out) => timed(process.execPath, [cli, 'synth', '--app', `${process.execPath} ${join(jsRoot, 'main.js')}`, '--output', out], { cwd: REPO, env: { ...process.env, ...quiet } }),
    },
    { key: 'cdktfVersion', command: 'cdktf --version (CLI start-up alone)', run: () => timed(process.execPath, [cli, '--version'], { cwd: REPO, env: { ...process.env, ...quiet } }) },
    {
      key: 'appTsNode',
      command: 'node --require ts-node/register/transpile-only main.ts (the app command of cdktf.json)',
      run: (out) => timed(process.execPath, ['--require', 'ts-node/register/transpile-only', 'main.ts'], { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: out } }),
    },
    { key: 'appJs', command: 'node main.js (precompiled)', run: (out) => timed(process.execPath, [join(jsRoot, 'main.js')], { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: out } }) },
    { key: 'nodeBare', command: 'node -e 0 (node start-up alone)', run: () => timed(process.execPath, ['-e', '0']) },
  ];
  const times = new Map<string, number[]>(variants.map((v) => [v.key, []]));
  const probes: ChildReport[] = [];
  const probeWalls: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const v of run % 2 === 0 ? variants : [...variants].reverse()) {
      const out = mkdtempSync(join(work, 'cold-'));
      (times.get(v.key) as number[]).push(v.run(out));
      rmSync(out, { recursive: true, force: true });
    }
    const probeRun = runChild(jsRoot, work, 'main', 0, false);
    probes.push(probeRun.report);
    probeWalls.push(probeRun.wallMs);
    log(`cold start run ${run + 1}/${RUNS}: npm run synth ${((times.get('npmRunSynth') as number[])[run] / 1000).toFixed(2)} s`);
  }
  const med = (key: string) => median(times.get(key) as number[]);
  const p = (f: (r: ChildReport) => number) => round(median(probes.map(f)));
  const probe = {
    wallMs: round(median(probeWalls)),
    bootMs: p((r) => r.bootMs),
    loadCdktfMs: p((r) => r.loadCdktfMs),
    loadProvidersMs: p((r) => r.loadProvidersMs),
    loadLibMs: p((r) => r.loadLibMs),
    constructMs: p((r) => r.constructMs),
    synthMs: p((r) => r.synthMs),
    synthFsMs: p((r) => r.synthFsMs),
    gcMs: p((r) => r.gcMs),
    cpuMs: p((r) => r.cpuMs),
    maxRssKiB: p((r) => r.maxRssKiB),
    heapUsedBytes: p((r) => r.heapUsedBytes),
  };
  const inApp = probe.bootMs + probe.loadCdktfMs + probe.loadProvidersMs + probe.loadLibMs + probe.constructMs + probe.synthMs;
  const breakdown = [
    { part: 'npm start-up (`npm --version`, measured alone)', ms: med('npmVersion') },
    { part: 'cdktf CLI (its start-up, `terraform version` checks, spawning the app, reading the manifest)', ms: med('cdktfSynth') - med('appTsNode') },
    { part: 'TypeScript transpile (ts-node, transpile-only)', ms: med('appTsNode') - med('appJs') },
    { part: 'node start-up', ms: probe.bootMs },
    { part: 'require cdktf + constructs', ms: probe.loadCdktfMs },
    { part: 'require provider modules', ms: probe.loadProvidersMs },
    { part: 'require lib/ and the example app', ms: probe.loadLibMs },
    { part: 'construct', ms: probe.constructMs },
    { part: 'synth (resolve, JSON, kit, assets), without file I/O', ms: probe.synthMs - probe.synthFsMs },
    { part: 'file I/O during synth', ms: probe.synthFsMs },
    // Within the probe's own process, so the parts add up to its wall time.
    { part: 'process exit and the rest', ms: median(probeWalls) - inApp },
  ].map((x) => ({ part: x.part, ms: round(x.ms) }));
  log('profiling the cdktf CLI and the app under ts-node');
  const cliProf = mkdtempSync(join(work, 'prof-cli-'));
  const appProf = mkdtempSync(join(work, 'prof-app-'));
  const out = mkdtempSync(join(work, 'cold-'));
  timed(process.execPath, ['--cpu-prof', '--cpu-prof-dir', cliProf, cli, 'synth', '--output', out], { cwd: REPO, env: { ...process.env, ...quiet } });
  timed(process.execPath, ['--cpu-prof', '--cpu-prof-dir', appProf, '--require', 'ts-node/register/transpile-only', 'main.ts'], { cwd: REPO, env: { ...process.env, CDKTF_OUTDIR: out } });
  const first = (dir: string) => join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) as string);
  const profiles = {
    cli: summarizeCpuProfile(first(cliProf), 10),
    app: summarizeCpuProfile(first(appProf), 10, [/^compile \(typescript/, /^transpileModule /, /^synth \(cdktf\/lib\/app\.js/, /^Module\._load /]),
  };
  for (const d of [cliProf, appProf, out]) rmSync(d, { recursive: true, force: true });
  return {
    variants: variants.map((v) => ({ key: v.key, command: v.command, medianMs: round(med(v.key)), runsMs: (times.get(v.key) as number[]).map((x) => round(x)) })),
    probe,
    breakdown,
    profiles,
  };
}

function targets(rows: readonly ScaleRow[], cold: SynthScaleFigures['coldStart']): TargetResult[] {
  const at = (n: number) => rows.find((r) => r.environments === n);
  const out: TargetResult[] = [];
  const full = SIZES.length === 5 && [10, 100, 500, 1000, 2000].every((n) => SIZES.includes(n));
  const worst = rows.reduce((w, r) => (r.wallRatio > w.wallRatio ? r : w), rows[0]);
  out.push({
    target: `ours / baseline wall time ≤ ${TARGET.ratio} at every N`,
    value: `worst ${worst.wallRatio.toFixed(3)} at N=${worst.environments}` + (full ? '' : ' (not every N measured)'),
    met: full ? rows.every((r) => r.wallRatio <= TARGET.ratio) : undefined,
  });
  const [n100, n2000, n1000] = [at(100), at(2000), at(1000)];
  out.push({
    target: `time per resource at N=2000 within ${TARGET.perResourceGrowth}× of N=100 (ours, construct + synth)`,
    value: n100 && n2000 ? `${n2000.ours.usPerResource} µs vs ${n100.ours.usPerResource} µs: ${(n2000.ours.usPerResource / n100.ours.usPerResource).toFixed(2)}×` : 'not measured',
    met: n100 && n2000 ? n2000.ours.usPerResource <= TARGET.perResourceGrowth * n100.ours.usPerResource : undefined,
  });
  out.push({
    target: `N=1000 synth ≤ ${TARGET.n1000Seconds} s (ours, process wall time)`,
    value: n1000 ? `${(n1000.ours.wallMs / 1000).toFixed(1)} s` : 'not measured',
    met: n1000 ? n1000.ours.wallMs <= TARGET.n1000Seconds * 1000 : undefined,
  });
  out.push({
    target: `N=1000 peak RSS ≤ ${TARGET.n1000RssGiB} GB (ours)`,
    value: n1000 ? `${n1000.ours.maxRssMiB.toFixed(0)} MiB` : 'not measured',
    met: n1000 ? n1000.ours.maxRssMiB <= TARGET.n1000RssGiB * 1024 : undefined,
  });
  const npm = cold?.variants.find((v) => v.key === 'npmRunSynth');
  out.push({
    target: `\`npm run synth\` of main.ts ≤ ${TARGET.npmSynthSeconds} s`,
    value: npm ? `${(npm.medianMs / 1000).toFixed(2)} s` : 'not measured',
    met: npm ? npm.medianMs <= TARGET.npmSynthSeconds * 1000 : undefined,
  });
  return out;
}

function machineDetail(): Omit<SynthScaleFigures['machineDetail'], 'loadAverageAfter'> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const nproc = spawnSync('nproc', [], { encoding: 'utf8' });
  return {
    nproc: Number(nproc.stdout.trim()),
    memTotalGiB: round(Number(/MemTotal:\s+(\d+) kB/.exec(meminfo)?.[1] ?? 0) / 2 ** 20),
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    node: process.version,
    loadAverageBefore: loadavg().map((x) => round(x, 2)),
  };
}

function main(): void {
  const started = Date.now();
  const before = machineDetail();
  log(`sizes ${SIZES.join(', ')}; ${RUNS} runs each${QUICK ? ' (quick)' : ''}; load average ${before.loadAverageBefore.join(' ')}`);

  // The bench refuses to report numbers for two programs that do not do the same work.
  const smallN = checkFairness(3);
  if (!smallN.ok) {
    console.error(`synth-scale: fairness check failed, ours and the baseline differ:\n  ${smallN.differences.join('\n  ')}`);
    process.exit(1);
  }
  log(`fairness at N=3: ${smallN.resources.ours} resources each, byte-identical after id normalization`);

  const work = mkdtempSync(join(tmpdir(), 'agc-bench-synth-'));
  try {
    const { jsRoot, ms: compileMs } = compile(work);
    log(`compiled with tsc in ${(compileMs / 1000).toFixed(1)} s`);
    if (!existsSync(join(jsRoot, 'bench', 'synth-child.js'))) throw new Error('tsc wrote no bench/synth-child.js');

    const { rows, measured } = measureScale(jsRoot, work);
    const stackTraces = countStackTraces(jsRoot, work);
    const withoutStackTraces = measureWithoutStackTraces(jsRoot, work, rows);
    const profile = profileScale(jsRoot, work);
    const coldStart = COLD_START ? measureColdStart(jsRoot, work) : undefined;
    const figures: SynthScaleFigures = {
      quick: QUICK,
      runs: RUNS,
      sizes: SIZES,
      execution: 'precompiled JavaScript: tsc with the project tsconfig into a temp dir, each run a fresh `node` process without flags',
      compileSeconds: round(compileMs / 1000),
      machineDetail: { ...before, loadAverageAfter: loadavg().map((x) => round(x, 2)) },
      benchSeconds: round((Date.now() - started) / 1000),
      fairness: { smallN, measured },
      scale: rows,
      stackTraces,
      withoutStackTraces,
      profile,
      coldStart,
      targets: targets(rows, coldStart),
      commands: ['npm ci', 'npm run bench -- synth-scale'],
    };
    saveResult('synth-scale', figures as unknown as Record<string, unknown>);
    for (const t of figures.targets) log(`${t.met === undefined ? 'n/a ' : t.met ? 'MET ' : 'MISS'} ${t.target}: ${t.value}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) main();
