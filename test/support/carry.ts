/**
 * The connected side's public registry, for carry tests: the locally built
 * bases, copied with skopeo under their public repository paths into a
 * registry storage folder of their own. The runtime base becomes a
 * two-platform OCI index (linux/amd64 and linux/arm64; the runtime has no
 * binaries, so the arm64 image is the same files with an arm64 config), as
 * published distroless images are.
 */
import { execFileSync, spawn } from 'child_process';
import { createHash } from 'crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { createServer } from 'net';
import { tmpdir } from 'os';
import { join } from 'path';
import { engineUp, REGISTRY } from './engine';

/** What the source registry holds. */
export interface SourceRegistry {
  /** Registry storage folder; serve it with docker-registry on any address. */
  readonly storage: string;
  /** Digest of the builder image (a manifest) under library/golang:1.26-bookworm. */
  readonly builderDigest: string;
  /** Digest of the runtime index under distroless/static-debian13:nonroot. */
  readonly runtimeIndexDigest: string;
  /** Digests of the index's two manifests, by platform. */
  readonly runtimePlatforms: Readonly<Record<string, string>>;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Writes a blob into an OCI layout and returns its descriptor. */
function writeBlob(layout: string, mediaType: string, data: Buffer): { mediaType: string; digest: string; size: number } {
  const hex = sha256(data);
  writeFileSync(join(layout, 'blobs', 'sha256', hex), data);
  return { mediaType, digest: `sha256:${hex}`, size: data.length };
}

/** Fills a fresh registry storage below `work` with the bases, through skopeo and a registry on loopback. */
export async function seedSourceRegistry(work: string = mkdtempSync(join(tmpdir(), 'agc-src-'))): Promise<SourceRegistry> {
  engineUp();
  const storage = join(work, 'storage');
  mkdirSync(storage, { recursive: true });
  const layout = join(work, 'oci');
  const skopeo = (args: readonly string[]) => execFileSync('skopeo', ['--insecure-policy', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  skopeo(['copy', '--src-tls-verify=false', `docker://${REGISTRY}/distroless/static-debian13:nonroot`, `oci:${layout}:amd64`]);

  // The arm64 twin: the same layers, an arm64 config.
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; mediaType: string; size: number }> };
  const amd64 = index.manifests[0];
  const manifestOf = (d: string) => JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', d.slice(7)), 'utf8')) as { config: { digest: string; mediaType: string }; layers: unknown[]; mediaType?: string; schemaVersion: number };
  const amdManifest = manifestOf(amd64.digest);
  const config = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', amdManifest.config.digest.slice(7)), 'utf8')) as Record<string, unknown>;
  const armConfig = writeBlob(layout, amdManifest.config.mediaType, Buffer.from(JSON.stringify({ ...config, architecture: 'arm64', variant: 'v8' })));
  const arm64 = writeBlob(layout, amd64.mediaType, Buffer.from(JSON.stringify({ ...amdManifest, config: armConfig })));
  const indexBytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        { ...amd64, annotations: undefined, platform: { architecture: 'amd64', os: 'linux' } },
        { ...arm64, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
      ],
    }),
  );
  const indexDesc = writeBlob(layout, 'application/vnd.oci.image.index.v1+json', indexBytes);
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...indexDesc, annotations: { 'org.opencontainers.image.ref.name': 'nonroot' } }] }));

  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  const cfg = join(work, 'registry.yml');
  writeFileSync(cfg, `version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: ${storage}}\nhttp:\n  addr: ${addr}\n`);
  const registry = spawn('docker-registry', ['serve', cfg], { stdio: 'ignore' });
  try {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://${addr}/v2/`)).ok) break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    skopeo(['copy', '--all', '--preserve-digests', '--dest-tls-verify=false', `oci:${layout}:nonroot`, `docker://${addr}/distroless/static-debian13:nonroot`]);
    skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${REGISTRY}/library/golang:1.26-bookworm`, `docker://${addr}/library/golang:1.26-bookworm`]);
    const digestOf = (ref: string) => `sha256:${sha256(Buffer.from(skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${addr}/${ref}`]), 'utf8'))}`;
    const runtimeIndexDigest = digestOf('distroless/static-debian13:nonroot');
    if (runtimeIndexDigest !== indexDesc.digest) throw new Error(`the source registry changed the index: ${runtimeIndexDigest} is not ${indexDesc.digest}`);
    return {
      storage,
      builderDigest: digestOf('library/golang:1.26-bookworm'),
      runtimeIndexDigest,
      runtimePlatforms: { 'linux/amd64': amd64.digest, 'linux/arm64': arm64.digest },
    };
  } finally {
    registry.kill('SIGTERM');
    await new Promise((r) => registry.once('exit', r));
  }
}
