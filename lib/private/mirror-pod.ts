import { Cpu, Size } from '../core/size';
import { Duration } from '../core/duration';
import { Container, Pod, Volume } from '../kubernetes/pod';
import { Probe } from '../kubernetes/probe';
import { ContainerResources } from '../kubernetes/resources';
import { Token } from 'cdktf';
import { ImageReference } from '../core/image-reference';
import { OfflineBundle, ChecksumDatabase } from '../offline/offline-bundle';
import type { OfflineMirrorProps } from '../offline/offline-mirror';
import { PropChecker } from './prop-checker';
import { resolveResources, resourceProblems } from './resources';
import { checkPort } from './validation';

/** Where GoImage puts the mirror server's binary (its `binaryName` is `offline-mirror`). */
export const MIRROR_BINARY = '/usr/local/bin/offline-mirror';
/** Where the pod sees the verified copy of the bundle. */
export const BUNDLE_MOUNT = '/var/run/offline-mirror/bundle';
/** Where the first init container leaves the server binary for the second. */
const TOOLS_MOUNT = '/var/run/offline-mirror/tools';

/** The mirror's own sizing: it keeps only an index in memory. */
export function mirrorResources(r: ContainerResources | undefined): ContainerResources {
  return {
    cpu: { request: r?.cpu?.request ?? Cpu.millicores(10), limit: r?.cpu?.limit ?? Cpu.millicores(200) },
    memory: { request: r?.memory?.request ?? Size.mebibytes(32), limit: r?.memory?.limit ?? Size.mebibytes(128) },
    ephemeralStorage: r?.ephemeralStorage,
  };
}

/** What both mirror modes are made from. */
export interface MirrorParts {
  readonly image: string;
  readonly bundle: OfflineBundle;
  readonly port: number;
  readonly resources: ContainerResources;
}

/** The server's arguments. */
export function serverArgs(parts: MirrorParts, listen: string): string[] {
  return ['-bundle', BUNDLE_MOUNT, '-listen', listen, '-sha256sums-hash', parts.bundle.sha256sumsHash];
}

/** A health check through the server's own binary (distroless: no shell, no curl). */
export function mirrorProbe(port: number, path: string, period?: Duration): Probe {
  return Probe.exec([MIRROR_BINARY, '-healthcheck', `http://127.0.0.1:${port}${path}`], period ? { period } : {});
}

/** `go`'s environment for a mirror at `url`. */
export function goEnvFor(url: string, db: ChecksumDatabase): { [name: string]: string } {
  return { GOPROXY: `${url},off`, ...db._env(url), GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
}

/**
 * Adds the bundle's volumes and the two init containers that install it to
 * `pod`: the mirror image hands its binary to a shared emptyDir, then the
 * bundle image runs it to copy the bundle and verify it against the pin.
 * Returns the volume holding the verified bundle.
 */
export function installBundle(pod: Pod, parts: MirrorParts): Volume {
  const bundleVolume = Volume.emptyDir('offline-mirror-bundle', { sizeLimit: parts.bundle.sizeLimit });
  const tools = Volume.emptyDir('offline-mirror-tools', { sizeLimit: Size.mebibytes(64) });
  pod.addVolume(bundleVolume);
  pod.addVolume(tools);
  const handOver = new Container({ name: 'offline-mirror-tools', image: parts.image, args: ['-install-self', `${TOOLS_MOUNT}/offline-mirror`], resources: parts.resources });
  handOver.mount(TOOLS_MOUNT, tools);
  const install = new Container({
    name: 'offline-mirror-bundle',
    image: parts.bundle.image,
    command: [`${TOOLS_MOUNT}/offline-mirror`],
    args: ['-install', OfflineBundle.IMAGE_PATH, '-to', BUNDLE_MOUNT, '-sha256sums-hash', parts.bundle.sha256sumsHash],
    resources: parts.resources,
  });
  install.mount(TOOLS_MOUNT, tools, { readOnly: true });
  install.mount(BUNDLE_MOUNT, bundleVolume);
  pod.addInitContainer(handOver);
  pod.addInitContainer(install);
  return bundleVolume;
}

/**
 * Checks the props both mirror modes share and returns what they are built from.
 */
export function mirrorParts(c: PropChecker, props: OfflineMirrorProps): MirrorParts {
  const port = props.port ?? 8686;
  const resources = mirrorResources(props.resources);
  c.check('port', port, checkPort(port), 'Use a free port such as 8686.');
  if (!Token.isUnresolved(props.image)) {
    const parsed = ImageReference._check(props.image);
    if (!parsed.ok) {
      c.fail('image', props.image, parsed.problem, 'Use the mirror image GoImage pushed, such as its imageRef.');
    } else if (!parsed.image.digest) {
      c.fail('image', props.image, 'is not pinned by digest', `Pin it: ${parsed.image.name}@sha256:<digest>, or pass a GoImage's imageRef.`);
    }
  }
  if (!OfflineBundle.isOfflineBundle(props.bundle)) {
    c.fail('bundle', props.bundle, 'is not an OfflineBundle', 'Use OfflineBundle.fromImage(image, { sha256sumsHash }).');
  } else {
    c.addAll(props.bundle._problems());
  }
  c.addAll((props.checksumDatabase ?? ChecksumDatabase.mirrored())._problems());
  c.addAll(resourceProblems('resources', resolveResources(resources)));
  return { image: props.image, bundle: props.bundle, port, resources };
}
