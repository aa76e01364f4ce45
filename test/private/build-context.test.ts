import { tmp } from '../support/scratch';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'fs';
import { dirname, join } from 'path';
import { contextHash, ContextFile, readModuleFiles, writeContext } from '../../lib/private/build-context';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(files: Record<string, string>): string {
  const root = tmp('agc-ctx-');
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

const MODULE = {
  'go.mod': 'module example.com/app\n',
  'go.sum': '',
  'main.go': 'package main\nfunc main() {}\n',
  'main_test.go': 'package main\n',
  'internal/x/x.go': 'package x\n',
  'internal/x/testdata/big.bin': 'xx',
  '.git/HEAD': 'ref: refs/heads/main\n',
  'vendor/modules.txt': '# none\n',
  'Dockerfile': 'FROM scratch\n',
  'README.md': 'docs\n',
};

function paths(files: ContextFile[]): string[] {
  return files.map((f) => f.path);
}

function read(root: string, vendor: boolean): ContextFile[] {
  const r = readModuleFiles(root, vendor);
  if (!r.ok) throw new Error(r.problem);
  return r.files;
}

describe('readModuleFiles', () => {
  test('keeps what the build needs, in sorted order', () => {
    const root = tree(MODULE);
    expect(paths(read(root, true))).toEqual(['README.md', 'go.mod', 'go.sum', 'internal/x/x.go', 'main.go', 'vendor/modules.txt']);
    expect(paths(read(root, false))).toEqual(['README.md', 'go.mod', 'go.sum', 'internal/x/x.go', 'main.go']);
  });

  test('executables keep an exec bit, everything else is 0644', () => {
    const root = tree({ 'go.mod': 'module a\n', 'tool.sh': '#!/bin/sh\n' });
    chmodSync(join(root, 'tool.sh'), 0o700);
    chmodSync(join(root, 'go.mod'), 0o600);
    expect(read(root, false).map((f) => [f.path, f.mode.toString(8)])).toEqual([
      ['go.mod', '644'],
      ['tool.sh', '755'],
    ]);
  });

  test('a symlink is refused', () => {
    const root = tree({ 'go.mod': 'module a\n' });
    symlinkSync('/etc/passwd', join(root, 'passwd'));
    expect(readModuleFiles(root, false)).toEqual({ ok: false, problem: expect.stringContaining('contains a symlink at "passwd"') });
  });
});

describe('contextHash', () => {
  test('is the same for copies at other paths with other times', () => {
    const a = tree(MODULE);
    const b = tree(MODULE);
    utimesSync(join(b, 'main.go'), 1000, 1000);
    expect(contextHash(read(a, true))).toBe(contextHash(read(b, true)));
    expect(contextHash(read(a, true))).toMatch(/^[0-9a-f]{64}$/);
  });

  test('changes with any content, name or mode', () => {
    const base = read(tree(MODULE), true);
    const h = contextHash(base);
    const changed = (fn: (f: ContextFile) => ContextFile) => contextHash(base.map((f) => (f.path === 'main.go' ? fn(f) : f)));
    expect(changed((f) => ({ ...f, content: Buffer.from('package main\nfunc main() { }\n') }))).not.toBe(h);
    expect(changed((f) => ({ ...f, path: 'main2.go' }))).not.toBe(h);
    expect(changed((f) => ({ ...f, mode: 0o755 }))).not.toBe(h);
    expect(changed((f) => f)).toBe(h);
  });
});

describe('writeContext', () => {
  test('writes exactly the files, replacing what was there', () => {
    const out = join(tree({ 'stale/old.txt': 'x' }), 'stale');
    writeContext(out, [
      { path: 'a/b.go', mode: 0o644, content: Buffer.from('b') },
      { path: 'run', mode: 0o755, content: Buffer.from('r') },
    ]);
    expect(readdirSync(out).sort()).toEqual(['a', 'run']);
    expect(readFileSync(join(out, 'a/b.go'), 'utf8')).toBe('b');
    expect(statSync(join(out, 'run')).mode & 0o777).toBe(0o755);
  });
});
