/**
 * State safety across API changes: the Terraform a user's state was made from
 * must not change under them unnoticed. The goldens in
 * test/fixtures/state-safety hold the output of the last release that changed
 * it on purpose (0.5.0: ephemeral storage, the managed default ServiceAccount,
 * LimitRange bounds, replica anti-affinity; 0.6.0 added
 * offline/policy-report.json to SHA256SUMS and left cdk.tf.json alone; 0.7.0 changed the
 * generated Dockerfile, so every GoImage's context hash and tag; 0.8.0 added the janitor/expires
 * annotation to every preview namespace with an expiry; the 0.4 API redesign before it
 * kept 0.3.1's bytes) for main.ts, the bench workload and the consumer app.
 * `UPDATE_STATE_GOLDENS=1` rewrites them: only for a change the CHANGELOG
 * announces as changing plans.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { App } from 'cdktf';
import { buildOurs } from '../../bench/synth-workload';
import { buildStacks } from '../fixtures/consumer-app/stacks';
import { GOLDEN_BUNDLE, GOLDEN_BUNDLE_PIN, MAIN_ENVS, ROOT, stackFiles, synthMain } from '../support/main-synth';
import { tmp } from '../support/scratch';

const GOLDENS = join(ROOT, 'test/fixtures/state-safety');
const UPDATE = process.env.UPDATE_STATE_GOLDENS === '1';

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

describe('state safety: cdk.tf.json and SHA256SUMS are those of the last release that changed them on purpose', () => {
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
    buildStacks(app, GOLDEN_BUNDLE, GOLDEN_BUNDLE_PIN);
    app.synth();
    expectGolden('consumer', outdir);
  });
});
