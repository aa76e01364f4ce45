/**
 * What the rule packs cost: the synth-scale workload (bench/synth-workload.ts)
 * at N environments, with every pack on (the default) and with
 * `StackPolicy.only(reason)` (no packs), run pairs alternating which goes
 * first, each run a fresh `node` process on precompiled JavaScript.
 *
 *   npm run bench -- policy-cost                 # N = 1000, 5 pairs
 *   BENCH_POLICY_N=100 BENCH_RUNS=3 npm run bench -- policy-cost
 */
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { median, saveResult } from './results';
import { compile, runChild } from './synth-scale';

const N = Number(process.env.BENCH_POLICY_N ?? 1000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
/** The target: the packs cost at most 5 % of synth. */
const TARGET_RATIO = 1.05;

function main(): void {
  const work = mkdtempSync(join(tmpdir(), 'agc-policy-cost-'));
  try {
    const { jsRoot } = compile(work);
    const on = { ...process.env, AGC_POLICY: 'on' };
    const off = { ...process.env, AGC_POLICY: 'off' };
    // One untimed run per side, for the disk cache.
    runChild(jsRoot, work, 'ours', N, false, [], on);
    runChild(jsRoot, work, 'ours', N, false, [], off);
    const pairs: Array<{ on: { wallMs: number; workMs: number; cpuMs: number; rssMiB: number }; off: { wallMs: number; workMs: number; cpuMs: number; rssMiB: number } }> = [];
    for (let i = 0; i < RUNS; i++) {
      const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      const got: Record<string, { wallMs: number; workMs: number; cpuMs: number; rssMiB: number }> = {};
      for (const side of order) {
        const r = runChild(jsRoot, work, 'ours', N, false, [], side === 'on' ? on : off);
        got[side] = { wallMs: r.wallMs, workMs: r.report.constructMs + r.report.synthMs, cpuMs: r.report.cpuMs, rssMiB: r.report.maxRssKiB / 1024 };
        console.log(`policy-cost: N=${N} run ${i + 1} packs ${side}: work ${got[side].workMs.toFixed(0)} ms, wall ${r.wallMs.toFixed(0)} ms`);
      }
      pairs.push({ on: got.on, off: got.off });
    }
    const m = (f: (p: (typeof pairs)[number]) => number) => Math.round(median(pairs.map(f)) * 10) / 10;
    const figures = {
      environments: N,
      runs: RUNS,
      withPacks: { workMs: m((p) => p.on.workMs), wallMs: m((p) => p.on.wallMs), cpuMs: m((p) => p.on.cpuMs), maxRssMiB: m((p) => p.on.rssMiB) },
      withoutPacks: { workMs: m((p) => p.off.workMs), wallMs: m((p) => p.off.wallMs), cpuMs: m((p) => p.off.cpuMs), maxRssMiB: m((p) => p.off.rssMiB) },
      workRatio: Math.round(median(pairs.map((p) => p.on.workMs / p.off.workMs)) * 1000) / 1000,
      wallRatio: Math.round(median(pairs.map((p) => p.on.wallMs / p.off.wallMs)) * 1000) / 1000,
      pairs,
      target: TARGET_RATIO,
      commands: ['npm ci', 'npm run bench -- policy-cost'],
    };
    saveResult('policy-cost', figures);
    console.log(`policy-cost: ${figures.workRatio <= TARGET_RATIO ? 'MET' : 'MISS'} packs on / off at N=${N}: ${figures.workRatio} (construct + synth), ${figures.wallRatio} (wall); target at most ${TARGET_RATIO}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) main();
