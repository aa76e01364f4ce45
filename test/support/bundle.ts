/** Offline bundles for tests, made by `airgap-kit bundle` from the install-time module cache (no network). */
import { execFileSync } from 'child_process';
import { join } from 'path';
import { ROOT } from './engine';
import { tmp } from './scratch';

/** hello-go's module graph as a bundle folder, readable by uid 65532, and its pin (sha256 of SHA256SUMS). */
export function makeHelloBundle(): { dir: string; hash: string } {
  const cache = execFileSync('bash', [join(ROOT, 'scripts/go-modcache.sh')], { encoding: 'utf8' }).trim();
  const dir = join(tmp('agc-bundle-'), 'bundle');
  const hash = execFileSync(process.execPath, ['--require', 'ts-node/register/transpile-only', join(ROOT, 'lib/cli/airgap-kit.ts'), 'bundle', '-out', dir, join(ROOT, 'examples/hello-go')], {
    encoding: 'utf8',
    cwd: ROOT,
    env: { ...process.env, GOPROXY: `file://${cache}/cache/download`, GOSUMDB: 'off', GOFLAGS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
  // Readable by uid 65532 through a bind mount, as an emptyDir would be.
  execFileSync('chmod', ['-R', 'a+rX', join(dir, '..')]);
  return { dir, hash };
}
