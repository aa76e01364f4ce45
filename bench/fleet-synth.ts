/**
 * One stack per branch at fleet scale: N preview environments (the
 * synth-scale workload) synthesized as N AirgapStacks, each with its state in
 * the cluster (KubernetesStateBackend), against the same N environments in one
 * stack, in the same run. Each run is a fresh `node` process on precompiled
 * JavaScript; the sides alternate which goes first. Goal: the fleet takes
 * under 2x the time of the one stack.
 *
 *   npm run bench -- fleet-synth                 # N = 200, 5 pairs
 *   BENCH_FLEET_N=50 BENCH_RUNS=3 npm run bench -- fleet-synth
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { median, saveResult } from './results';
import { compile, runChild } from './synth-scale';

const N = Number(process.env.BENCH_FLEET_N ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The goal: the fleet synthesizes in under 2x the time of one stack of N environments. */
const GOAL_RATIO = 2;

interface Sample {
  wallMs: number;
  workMs: number;
  cpuMs: number;
  rssMiB: number;
}

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'agc-fleet-synth-'));
  try {
    const { jsRoot } = compile(work);
    const sides = { one: { ...process.env, AGC_FLEET: '0' }, fleet: { ...process.env, AGC_FLEET: '1' } };
    // One untimed run per side, for the disk cache.
    for (const env of Object.values(sides)) runChild(jsRoot, work, 'ours', N, false, [], env);
    const pairs: Array<Record<'one' | 'fleet', Sample>> = [];
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? (['one', 'fleet'] as const) : (['fleet', 'one'] as const);
      const got = {} as Record<'one' | 'fleet', Sample>;
      for (const side of order) {
        const r = runChild(jsRoot, work, 'ours', N, false, [], sides[side]);
        got[side] = { wallMs: r.wallMs, workMs: r.report.constructMs + r.report.synthMs, cpuMs: r.report.cpuMs, rssMiB: r.report.maxRssKiB / 1024 };
        console.log(`fleet-synth: N=${N} run ${i + 1} ${side}: work ${got[side].workMs.toFixed(0)} ms, wall ${r.wallMs.toFixed(0)} ms, rss ${got[side].rssMiB.toFixed(0)} MiB`);
      }
      pairs.push(got);
    }
    const m = (f: (p: (typeof pairs)[number]) => number) => Math.round(median(pairs.map(f)) * 10) / 10;
    const side = (k: 'one' | 'fleet') => ({ workMs: m((p) => p[k].workMs), wallMs: m((p) => p[k].wallMs), cpuMs: m((p) => p[k].cpuMs), maxRssMiB: m((p) => p[k].rssMiB) });
    const figures = {
      environments: N,
      runs: RUNS,
      oneStack: side('one'),
      fleet: side('fleet'),
      workRatio: Math.round(median(pairs.map((p) => p.fleet.workMs / p.one.workMs)) * 1000) / 1000,
      wallRatio: Math.round(median(pairs.map((p) => p.fleet.wallMs / p.one.wallMs)) * 1000) / 1000,
      rssRatio: Math.round(median(pairs.map((p) => p.fleet.rssMiB / p.one.rssMiB)) * 1000) / 1000,
      pairs,
      goal: GOAL_RATIO,
      commands: ['npm ci', 'npm run bench -- fleet-synth'],
    };
    saveResult('fleet-synth', figures);
    console.log(`fleet-synth: ${figures.wallRatio < GOAL_RATIO ? 'MET' : 'MISS'} ${N} stacks / one stack of ${N}: ${figures.wallRatio} (wall), ${figures.workRatio} (construct + synth); goal under ${GOAL_RATIO}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) main();
