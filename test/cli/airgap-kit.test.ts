/** The airgap-kit command line, run as a process the way npx runs it, and its Go tool builder. */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { goVersionAtLeast, parseGoVersion, requiredGoVersion } from '../../lib/cli/go-tool';
import { ROOT } from '../support/engine';
import { tmp } from '../support/scratch';

const CLI = join(ROOT, 'lib/cli/airgap-kit.ts');

function kit(args: readonly string[], env: Record<string, string> = {}, cwd = ROOT): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--require', require.resolve('ts-node/register/transpile-only'), CLI, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('airgap-kit', () => {
  test('--help lists the commands and exits 0; no command is a usage error', () => {
    const help = kit(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: airgap-kit <command> \[options\]/);
    expect(help.stdout).toMatch(/^ {2}bundle +make an offline Go module bundle/m);
    for (const c of ['pack', 'verify', 'push', 'built-images', 'previews']) expect(help.stdout).toMatch(new RegExp(`^ {2}${c} +`, "m"));
    const none = kit([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('usage: airgap-kit <command>');
  });

  test('every command has --help, also as "help <command>"', () => {
    const a = kit(['bundle', '--help']);
    expect(a.status).toBe(0);
    expect(a.stdout).toMatch(/^usage: airgap-kit bundle \[-out DIR\]/);
    expect(kit(['help', 'bundle']).stdout).toBe(a.stdout);
  });

  test('previews: help names both subcommands; a bad -now or subcommand is a usage error; no cluster is a clear failure', () => {
    const help = kit(['previews', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: airgap-kit previews list \[flags\]\n {7}airgap-kit previews reap \[-dry-run\] \[flags\]/);
    expect(help.stdout).toContain('is never touched');
    const badNow = kit(['previews', 'reap', '-now', 'yesterday']);
    expect(badNow.status).toBe(2);
    expect(badNow.stderr).toBe('airgap-kit previews reap: -now is "yesterday", not an RFC 3339 time such as 2026-12-03T10:00:00Z\n');
    const badSub = kit(['previews', 'delete']);
    expect(badSub.status).toBe(2);
    expect(badSub.stderr).toMatch(/^usage: airgap-kit previews list/);
    // -dry-run belongs to reap only.
    expect(kit(['previews', 'list', '-dry-run']).status).toBe(2);
    const noCluster = kit(['previews', 'list', '-kubeconfig', join(tmp('agc-kit-'), 'missing.kubeconfig')]);
    expect(noCluster.status).toBe(1);
    expect(noCluster.stderr).toMatch(/^airgap-kit previews list: no cluster to talk to: .*missing\.kubeconfig.* \(pass -kubeconfig, set KUBECONFIG, or run in a pod\)\n$/);
  });

  test('an unknown command and a missing module folder are usage errors', () => {
    const unknown = kit(['pakc']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/^airgap-kit: unknown command "pakc"/);
    const bare = kit(['bundle']);
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/^airgap-kit bundle: no MODULE_DIR given/);
  });

  test('without a usable go, the error says which Go is needed and how to get it', () => {
    const r = kit(['bundle', '-out', join(tmp('agc-kit-'), 'b'), 'mirror'], { AIRGAP_KIT_GO: '/nonexistent/go', AIRGAP_KIT_CACHE: tmp('agc-kit-cache-') });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'airgap-kit bundle: offline-bundle is built from its shipped Go source on first use, which needs Go 1.26.0 or newer, but "/nonexistent/go" could not be run. Install Go 1.26.0 or newer (https://go.dev/dl/), or point AIRGAP_KIT_GO at its go binary.\n',
    );
  });

  test('builds offline-bundle from the shipped source once, caches it by source hash, and bundles a module', () => {
    const cache = tmp('agc-kit-cache-');
    const out = join(tmp('agc-kit-'), 'bundle');
    // The mirror's own module needs nothing but the standard library, so no download happens.
    const first = kit(['bundle', '-out', out, join(ROOT, 'mirror')], { AIRGAP_KIT_CACHE: cache, GOFLAGS: '', GOPROXY: 'off' });
    expect(first.stderr).toMatch(/^airgap-kit: building offline-bundle with go1\.\d+/m);
    expect(first.status).toBe(0);
    const pin = first.stdout.trim();
    expect(pin).toBe(createHash('sha256').update(readFileSync(join(out, 'SHA256SUMS'))).digest('hex'));
    expect(readFileSync(`${out}.sha256sums-hash`, 'utf8').trim()).toBe(pin);
    const built = readdirSync(cache);
    expect(built).toEqual([expect.stringMatching(/^offline-bundle-[0-9a-f]{16}$/)]);
    expect(existsSync(join(cache, built[0], 'offline-bundle'))).toBe(true);

    // Second use: no rebuild, and the verify mode passes through.
    const again = kit(['bundle', '-verify', out, '-sha256sums-hash', pin], { AIRGAP_KIT_CACHE: cache });
    expect(again.stderr).not.toContain('building offline-bundle');
    expect(again.status).toBe(0);
    expect(readdirSync(cache)).toEqual(built);
    const wrong = kit(['bundle', '-verify', out, '-sha256sums-hash', '0'.repeat(64)], { AIRGAP_KIT_CACHE: cache });
    expect(wrong.status).toBe(1);
  });

  test('the default -out is bundles/<module folder name> in the working directory', () => {
    const cwd = tmp('agc-kit-cwd-');
    const r = kit(['bundle', join(ROOT, 'mirror')], { GOFLAGS: '', GOPROXY: 'off' }, cwd);
    expect(r.status).toBe(0);
    expect(existsSync(join(cwd, 'bundles', 'mirror', 'SHA256SUMS'))).toBe(true);
  });
});

describe('Go versions', () => {
  test.each([
    ['go1.26.8', '1.26.0', true],
    ['go1.26.0', '1.26.0', true],
    ['go1.25.9', '1.26.0', false],
    ['go1.27rc1', '1.26.0', true],
    ['go1.3', '1.26', false],
    ['devel +abc', '1.26', false],
  ])('%s against %s', (found, required, ok) => {
    expect(goVersionAtLeast(found, required)).toBe(ok);
  });

  test('the go directive is read from go.mod', () => {
    expect(requiredGoVersion('module x\n\ngo 1.26.0\n')).toBe('1.26.0');
    expect(parseGoVersion('go1.26')).toEqual([1, 26, 0]);
  });
});
