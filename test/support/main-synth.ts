/** main.ts (and its Python twin) run as their users run them, in a clean environment. */
import { execFileSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join, resolve } from 'path';
import { tmp } from './scratch';

export const ROOT = resolve(__dirname, '../..');
/** The small bundle the goldens were made with, and its pin. */
export const GOLDEN_BUNDLE = join(ROOT, 'test/fixtures/state-safety/bundle');
export const GOLDEN_BUNDLE_PIN = '01524a3954b40fd36a1c48308aee784cb3713cb531eba4da2304f5c232fd2fa0';

/** main.ts's environment for its two shapes: the defaults, and the offline mirror sidecar from a bundle. */
export const MAIN_ENVS: Record<string, Record<string, string>> = {
  'main-default': {},
  'main-mirror': {
    OFFLINE_BUNDLE_DIR: GOLDEN_BUNDLE,
    OFFLINE_BUNDLE_SHA256SUMS_HASH: GOLDEN_BUNDLE_PIN,
    PREVIEW_BRANCH: 'feature/Checkout-v2',
    PREVIEW_CREATED_AT: '2026-11-21T10:00:00Z',
    SOURCE_DATE_EPOCH: '1700000000',
    KUBERNETES_PROVIDER_VERSION: '3.2.1',
  },
  // hello-go built with GoImageBuild.hostGo() as a two-platform index.
  'main-host-go': { GO_IMAGE_PLATFORMS: 'linux/amd64,linux/arm64' },
  // A fleet: one preview stack per branch, each with its state in the cluster.
  'main-fleet': { PREVIEW_BRANCHES: 'feature/Login,PR-42', PREVIEW_CREATED_AT: '2026-12-03T10:00:00Z' },
};

/** Only `env` on top of what any program needs, plus the outdir; nothing of the test runner's own environment. */
function cleanEnv(outdir: string, env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, CDKTF_OUTDIR: outdir, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20', ...env };
}

/** Runs main.ts the way cdktf.json does; returns the outdir. */
export function synthMain(env: Record<string, string>): string {
  const outdir = tmp('agc-main-');
  execFileSync(process.execPath, ['--require', 'ts-node/register/transpile-only', 'main.ts'], { cwd: ROOT, env: cleanEnv(outdir, env), stdio: 'pipe' });
  return outdir;
}

/** Runs `python main.py` in examples/python with `python` and the wheel's folder on PYTHONPATH; returns the outdir. */
export function synthPython(python: string, pythonPath: string, env: Record<string, string>): string {
  const outdir = tmp('agc-py-');
  execFileSync(python, ['main.py'], { cwd: join(ROOT, 'examples/python'), env: cleanEnv(outdir, { ...env, PYTHONPATH: pythonPath }), stdio: 'pipe' });
  return outdir;
}

/** The files of each stack that state and the carry depend on: cdk.tf.json and SHA256SUMS (which covers every other file). */
export function stackFiles(outdir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const stack of readdirSync(join(outdir, 'stacks')).sort()) {
    for (const name of ['cdk.tf.json', 'SHA256SUMS']) {
      const p = join(outdir, 'stacks', stack, name);
      if (existsSync(p)) files.set(`${stack}/${name}`, readFileSync(p));
    }
  }
  return files;
}
