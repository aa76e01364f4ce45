import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { cpus, totalmem } from 'os';
import { join } from 'path';

const RESULTS = join(__dirname, 'results');

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The machine a figure was measured on. */
export function machine(): Record<string, string | number> {
  return { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString().slice(0, 10) };
}

/** Writes one benchmark's raw figures as JSON beside the others. */
export function saveResult(name: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, `${name}.json`), JSON.stringify({ name, machine: machine(), figures }, null, 2) + '\n');
  console.log(`bench: wrote bench/results/${name}.json`);
}

/** All saved results, by name. */
export function loadResults(): Record<string, { machine: Record<string, unknown>; figures: Record<string, unknown> }> {
  const out: Record<string, { machine: Record<string, unknown>; figures: Record<string, unknown> }> = {};
  for (const f of readdirSync(RESULTS).filter((n) => n.endsWith('.json')).sort()) {
    const r = JSON.parse(readFileSync(join(RESULTS, f), 'utf8')) as { name: string; machine: Record<string, unknown>; figures: Record<string, unknown> };
    out[r.name] = r;
  }
  return out;
}
