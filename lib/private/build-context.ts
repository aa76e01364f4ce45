import { createHash } from 'crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { dirname, join, posix, sep } from 'path';
import { GENERATED_FILES, IGNORED_DIRS, IGNORED_FILES, IGNORED_SUFFIXES } from './dockerfile';

/** One file of a build context. */
export interface ContextFile {
  /** POSIX path relative to the context root. */
  readonly path: string;
  /** 0o755 for executables, else 0o644: the only modes that reach the context. */
  readonly mode: number;
  /** The bytes. */
  readonly content: Buffer;
}

/** The files read, or a "which …" phrase saying why they could not be. */
export type ReadResult = { readonly ok: true; readonly files: ContextFile[] } | { readonly ok: false; readonly problem: string };

/**
 * Reads the files of a Go module that belong in its build context, in sorted
 * order, leaving out VCS folders, tests, testdata and editor files, and
 * `vendor/` unless `includeVendor`. A symlink is an error: Go module zips
 * cannot hold one, and following it could pull in files from outside.
 */
export function readModuleFiles(root: string, includeVendor: boolean): ReadResult {
  const files: ContextFile[] = [];
  let problem: string | undefined;
  const walk = (rel: string): void => {
    const entries = readdirSync(join(root, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (problem !== undefined) return;
      const relPath = rel === '' ? entry.name : posix.join(rel, entry.name);
      const full = join(root, relPath.split('/').join(sep));
      const stat = lstatSync(full);
      if (stat.isSymbolicLink()) {
        problem = `contains a symlink at "${relPath}", which a build context cannot hold safely`;
        return;
      }
      if (stat.isDirectory()) {
        if (IGNORED_DIRS.includes(entry.name)) continue;
        if (relPath === 'vendor' && !includeVendor) continue;
        walk(relPath);
      } else if (stat.isFile()) {
        if (rel === '' && GENERATED_FILES.includes(entry.name)) continue;
        if (IGNORED_FILES.includes(entry.name) || IGNORED_SUFFIXES.some((s) => entry.name.endsWith(s))) continue;
        files.push({ path: relPath, mode: stat.mode & 0o111 ? 0o755 : 0o644, content: readFileSync(full) });
      }
    }
  };
  walk('');
  return problem === undefined ? { ok: true, files } : { ok: false, problem };
}

/**
 * The content hash of a context: sha256 over each file's path, mode and
 * content hash, in path order. Times, owners and the folder's location do not
 * count, so every clone of the same tree gives the same hash.
 */
export function contextHash(files: readonly ContextFile[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const digest = createHash('sha256').update(f.content).digest('hex');
    h.update(`${f.path}\0${f.mode.toString(8)}\0${digest}\n`);
  }
  return h.digest('hex');
}

/** Writes `files` into `dir`, which is emptied first. */
export function writeContext(dir: string, files: readonly ContextFile[]): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const f of files) {
    const target = join(dir, f.path.split('/').join(sep));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, f.content);
    chmodSync(target, f.mode);
  }
}
