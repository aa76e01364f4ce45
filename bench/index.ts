/**
 * `npm run bench [-- section ... --flag ...]`: runs each benchmark in its own process and
 * rewrites BENCHMARKS.md from every result saved so far.
 */
import { execFileSync } from 'child_process';
import { join } from 'path';
import { renderBenchmarks } from './render';

const SECTIONS = ['go-image', 'offline-mirror', 'synth-scale', 'policy-cost', 'fleet-synth', 'carry'];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// Flags such as --quick go to every section run.
const flags = process.argv.slice(2).filter((a) => a.startsWith('-'));
for (const name of wanted.length > 0 ? wanted : SECTIONS) {
  if (!SECTIONS.includes(name)) throw new Error(`unknown benchmark "${name}"; known: ${SECTIONS.join(', ')}`);
  console.log(`bench: ${name}`);
  execFileSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(__dirname, `${name}.ts`), ...flags], { stdio: 'inherit' });
}
renderBenchmarks();
