/**
 * State safety across API changes: the Terraform a user's state was made from
 * must not change under them. The goldens in test/fixtures/state-safety were
 * written by the release before the 0.4 API redesign (main.ts, the bench
 * workload and the consumer app, each through the API of its day); the same
 * apps written against today's API must synthesize to the same bytes, so an
 * upgrade plans no change at all. `UPDATE_STATE_GOLDENS=1` rewrites them, which
 * a change that keeps state safe never needs.
 */
import { execFileSync } from 'child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join, resolve } from 'path';
import { App } from 'cdktf';
import { buildOurs } from '../../bench/synth-workload';
import { buildStacks } from '../fixtures/consumer-app/stacks';
import { tmp } from '../support/scratch';

const ROOT = resolve(__dirname, '../..');
const GOLDENS = join(ROOT, 'test/fixtures/state-safety');
const BUNDLE = join(GOLDENS, 'bundle');
const BUNDLE_PIN = '01524a3954b40fd36a1c48308aee784cb3713cb531eba4da2304f5c232fd2fa0';
const UPDATE = process.env.UPDATE_STATE_GOLDENS === '1';

/** main.ts's environment for its two shapes: the defaults, and the offline mirror sidecar from a bundle. */
export const MAIN_ENVS: Record<string, Record<string, string>> = {
  'main-default': {},
  'main-mirror': {
    OFFLINE_BUNDLE_DIR: BUNDLE,
    OFFLINE_BUNDLE_SHA256SUMS_HASH: BUNDLE_PIN,
    PREVIEW_BRANCH: 'feature/Checkout-v2',
    PREVIEW_CREATED_AT: '2026-11-21T10:00:00Z',
    SOURCE_DATE_EPOCH: '1700000000',
    KUBERNETES_PROVIDER_VERSION: '3.2.1',
  },
};

/** Runs main.ts the way cdktf.json does, with only `env` on top of a clean environment; returns the outdir. */
export function synthMain(env: Record<string, string>): string {
  const outdir = tmp('agc-main-');
  const clean: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, CDKTF_OUTDIR: outdir, ...env };
  execFileSync(process.execPath, ['--require', 'ts-node/register/transpile-only', 'main.ts'], { cwd: ROOT, env: clean, stdio: 'pipe' });
  return outdir;
}

/** The files of each stack that state and the carry depend on: cdk.tf.json and SHA256SUMS (which covers every other file). */
function stackFiles(outdir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const stack of readdirSync(join(outdir, 'stacks')).sort()) {
    for (const name of ['cdk.tf.json', 'SHA256SUMS']) {
      const p = join(outdir, 'stacks', stack, name);
      if (existsSync(p)) files.set(`${stack}/${name}`, readFileSync(p));
    }
  }
  return files;
}

function expectGolden(name: string, outdir: string): void {
  const files = stackFiles(outdir);
  expect(files.size).toBeGreaterThan(0);
  const dir = join(GOLDENS, name);
  if (UPDATE) {
    for (const [rel, bytes] of files) {
      mkdirSync(join(dir, rel, '..'), { recursive: true });
      writeFileSync(join(dir, rel), bytes);
    }
  }
  const golden = [...readdirSync(dir, { recursive: true, encoding: 'utf8' })].filter((f) => f.endsWith('cdk.tf.json') || f.endsWith('SHA256SUMS')).sort();
  expect([...files.keys()].sort()).toEqual(golden);
  for (const [rel, bytes] of files) {
    const want = readFileSync(join(dir, rel));
    // Compare as text first, so a failure shows the diff; then the bytes.
    expect({ file: `${name}/${rel}`, text: bytes.toString('utf8') }).toEqual({ file: `${name}/${rel}`, text: want.toString('utf8') });
    expect(bytes.equals(want)).toBe(true);
  }
}

describe('state safety: cdk.tf.json and SHA256SUMS are those of the release before the redesign', () => {
  for (const [name, env] of Object.entries(MAIN_ENVS)) {
    test(`main.ts (${name})`, () => expectGolden(name, synthMain(env)));
  }

  test('the bench workload (3 environments)', () => {
    const outdir = tmp('agc-bench-');
    const app = new App({ outdir });
    buildOurs(app, 3);
    app.synth();
    expectGolden('bench', outdir);
  });

  test('the consumer app', () => {
    const outdir = tmp('agc-consumer-');
    const app = new App({ outdir });
    buildStacks(app, BUNDLE, BUNDLE_PIN);
    app.synth();
    expectGolden('consumer', outdir);
  });
});
