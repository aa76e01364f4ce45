import { createHash } from 'crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'fs';
import { join, posix } from 'path';
import { inflateRawSync } from 'zlib';

/**
 * Provider lock files (`.terraform.lock.hcl`) for carried providers, computed
 * at synth from a provider mirror on the synth machine, so `tofu init` on the
 * far side verifies what the carried mirror holds.
 *
 * The `h1:` hash is Go's dirhash "Hash1", the one OpenTofu and Terraform use:
 * the sha256 of the sorted lines `<sha256 hex of file>  <name>\n` over every
 * file of the unpacked package (or every entry of its zip), base64-encoded.
 */

/** One provider to lock. */
export interface LockedProvider {
  /** `namespace/type`. */
  readonly source: string;
  /** The exact version. */
  readonly version: string;
  /** The constraint the configuration gives. */
  readonly constraints: string;
  /** `h1:` hashes, one per platform's package. */
  readonly hashes: readonly string[];
}

/** h1 over (name, content) pairs, as dirhash.Hash1 computes it. */
export function hash1(files: ReadonlyArray<{ readonly name: string; readonly content: Buffer }>): string {
  const lines = [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => `${createHash('sha256').update(f.content).digest('hex')}  ${f.name}\n`)
    .join('');
  return `h1:${createHash('sha256').update(lines).digest('base64')}`;
}

/** h1 of an unpacked provider package folder (names relative to it). */
export function hashPackageDir(dir: string): string {
  const files: Array<{ name: string; content: Buffer }> = [];
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(dir, rel))) {
      const path = rel ? posix.join(rel, entry) : entry;
      const stat = lstatSync(join(dir, path));
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) files.push({ name: path, content: readFileSync(join(dir, path)) });
      else throw new Error(`${join(dir, path)} is not a regular file; a provider package holds only files`);
    }
  };
  walk('');
  return hash1(files);
}

/** h1 of a provider zip: every entry, with its uncompressed content. */
export function hashPackageZip(zipPath: string): string {
  return hash1(readZip(readFileSync(zipPath)));
}

/** The entries of a zip archive (stored or deflated), read from its central directory. */
export function readZip(data: Buffer): Array<{ name: string; content: Buffer }> {
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65535); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory record)');
  const count = data.readUInt16LE(eocd + 10);
  let p = data.readUInt32LE(eocd + 16);
  const out: Array<{ name: string; content: Buffer }> = [];
  for (let n = 0; n < count; n++) {
    if (data.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = data.readUInt16LE(p + 10);
    const compressed = data.readUInt32LE(p + 20);
    const nameLen = data.readUInt16LE(p + 28);
    const extraLen = data.readUInt16LE(p + 30);
    const commentLen = data.readUInt16LE(p + 32);
    const local = data.readUInt32LE(p + 42);
    const name = data.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    const localNameLen = data.readUInt16LE(local + 26);
    const localExtraLen = data.readUInt16LE(local + 28);
    const start = local + 30 + localNameLen + localExtraLen;
    const raw = data.subarray(start, start + compressed);
    let content: Buffer;
    if (method === 0) content = Buffer.from(raw);
    else if (method === 8) content = inflateRawSync(raw);
    else throw new Error(`zip entry ${name} uses compression method ${method}, which providers do not use`);
    out.push({ name, content });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** Where a provider package sits in a filesystem mirror, packed or unpacked. */
export function findPackage(mirror: string, host: string, source: string, version: string, platform: string): string | undefined {
  const [namespace, type] = source.split('/');
  const typeDir = join(mirror, host, namespace, type);
  const unpacked = join(typeDir, version, platform);
  if (existsSync(unpacked) && statSync(unpacked).isDirectory()) return unpacked;
  const zip = join(typeDir, `terraform-provider-${type}_${version}_${platform}.zip`);
  if (existsSync(zip) && statSync(zip).isFile()) return zip;
  return undefined;
}

/** h1 of a package found by {@link findPackage}. */
export function hashPackage(location: string): string {
  return statSync(location).isDirectory() ? hashPackageDir(location) : hashPackageZip(location);
}

/** The lock file text, as the CLI itself writes it. */
export function renderLockFile(host: string, cli: string, providers: readonly LockedProvider[]): string {
  const blocks = [...providers]
    .sort((a, b) => a.source.localeCompare(b.source))
    .map((p) =>
      [
        `provider "${host}/${p.source}" {`,
        `  version     = "${p.version}"`,
        `  constraints = "${p.constraints}"`,
        '  hashes = [',
        ...[...new Set(p.hashes)].sort().map((h) => `    "${h}",`),
        '  ]',
        '}',
      ].join('\n'),
    );
  return [`# This file is maintained automatically by "${cli} init".`, '# Manual edits may be lost in future updates.', '', blocks.join('\n\n'), ''].join('\n');
}
