/**
 * `npm run bench [-- section ...]`: runs each benchmark in its own process and
 * rewrites BENCHMARKS.md from every result saved so far.
 */
import { execFileSync } from 'child_process';
import { join } from 'path';
import { renderBenchmarks } from './render';

const SECTIONS = ['go-image'];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length > 0 ? wanted : SECTIONS) {
  if (!SECTIONS.includes(name)) throw new Error(`unknown benchmark "${name}"; known: ${SECTIONS.join(', ')}`);
  console.log(`bench: ${name}`);
  execFileSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(__dirname, `${name}.ts`)], { stdio: 'inherit' });
}
renderBenchmarks();
