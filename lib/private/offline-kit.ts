import { createHash } from 'crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join, posix, sep } from 'path';
import { AirgapError } from '../core/errors';
import { imageFields } from './image-fields';
import { ImageReference } from '../core/image-reference';
import { ImageLine, KitContents, KitImage, KitImageUse, RequiredProvider } from '../stack/kit-contents';
import { findPackage, hashPackage, LockedProvider, renderLockFile } from './provider-lock';

/** Folder of the kit inside each stack directory. */
export const KIT_DIR = 'offline';

/**
 * Where the operator puts the provider mirror, relative to the stack directory
 * (where Terraform runs): beside the `stacks/` folder of the carried bundle.
 */
export const PROVIDER_MIRROR_PATH = '../../providers';

/** Files that Terraform creates in a stack directory; they are not part of the bundle. */
const RUNTIME_FILES = [/^\.terraform\//, /\.tfstate(\.backup)?$/, /^\.terraform\.tfstate\.lock\.info$/];

/** Format version of `offline/images.json` and `offline/providers.json`. */
export const KIT_FORMAT_VERSION = 1;


/** What a construct recorded about an image it needs, beyond what cdk.tf.json shows. */
export interface ImageRecord {
  /** The reference used inside the gap. */
  readonly target: string;
  /** Where it comes from on the connected side, when that differs. */
  readonly source?: string;
  /** How it is used. */
  readonly use: KitImageUse;
  /** Construct path that needs it. */
  readonly neededBy: string;
  /** Whether the digest is known to be an index. */
  readonly index?: boolean;
  /** Its digest, when known at synth though the target is a tag (an image built outside the gap). */
  readonly digest?: string;
  /** The platforms to carry of an index; absent means the stack's. */
  readonly platforms?: readonly string[];
  /** Artifact types (`application/spdx+json`) every carried platform image has a referrer of. */
  readonly referrers?: readonly string[];
}


/** What the kit needs besides the stack's cdk.tf.json. */
export interface KitOptions {
  /** Platforms of the cluster's nodes, `os/arch`. */
  readonly platforms: readonly string[];
  /** Platforms where tofu runs on the far side, `os_arch`. */
  readonly providerPlatforms: readonly string[];
  /** A provider filesystem mirror on the synth machine, for the lock files. */
  readonly providerMirror?: string;
  /** Images constructs recorded (bases, mirror rewrites). */
  readonly records: readonly ImageRecord[];
  /** Construct path of the stack, for errors. */
  readonly stackPath: string;
}




/** The providers a synthesized stack requires, sorted by source. */
export function requiredProviders(stackJson: StackJson): RequiredProvider[] {
  const required = stackJson.terraform?.required_providers ?? {};
  return Object.entries(required)
    .map(([name, p]) => {
      const source = p.source ?? name;
      return { source: source.includes('/') ? source : `hashicorp/${source}`, version: p.version ?? 'any' };
    })
    .sort((a, b) => a.source.localeCompare(b.source));
}

/** Every image a synthesized stack refers to, in resource order. */
export function stackImages(stackJson: StackJson): ImageLine[] {
  const out: ImageLine[] = [];
  for (const [type, byId] of Object.entries(stackJson.resource ?? {})) {
    if (!type.startsWith('kubernetes_') && !type.startsWith('docker_')) continue;
    for (const [id, config] of Object.entries(byId)) {
      for (const f of imageFields(type, config)) out.push({ address: `${type}.${id}`, field: f.path, image: f.value });
    }
  }
  return out.sort((a, b) => (a.address + a.field).localeCompare(b.address + b.field));
}

/** The parts of cdk.tf.json the kit reads. */
export interface StackJson {
  readonly terraform?: { readonly required_providers?: Record<string, { readonly source?: string; readonly version?: string }> };
  readonly resource?: Record<string, Record<string, unknown>>;
}

/**
 * Every image the far side needs: the images of the stack's resources (with
 * the source each had before the AirgapPolicy rewrite), and the ones constructs
 * recorded, such as GoImage's bases. Merged by target and use, sorted.
 */
export function kitImages(stackJson: StackJson, records: readonly ImageRecord[]): KitImage[] {
  const sources = new Map<string, string>();
  for (const r of records) if (r.source !== undefined && r.source !== r.target) sources.set(r.target, r.source);
  type Merged = Omit<ImageRecord, 'neededBy' | 'source'> & { source?: string; neededBy: Set<string> };
  const merged = new Map<string, Merged>();
  const add = (target: string, use: KitImageUse, neededBy: string, record: Partial<ImageRecord> = {}): void => {
    const key = `${use} ${target}`;
    const cur = merged.get(key) ?? { target, source: sources.get(target), use, neededBy: new Set<string>() };
    // A construct's record adds what the resource alone does not say (an SBOM, the platforms).
    merged.set(key, { ...record, ...cur, source: cur.source ?? record.source, index: cur.index ?? record.index, digest: cur.digest ?? record.digest, platforms: cur.platforms ?? record.platforms, referrers: cur.referrers ?? record.referrers, neededBy: cur.neededBy.add(neededBy) });
  };
  for (const [type, byId] of Object.entries(stackJson.resource ?? {})) {
    if (!type.startsWith('kubernetes_') && !type.startsWith('docker_')) continue;
    for (const [id, config] of Object.entries(byId)) {
      const path = ((config as { '//'?: { metadata?: { path?: string } } })['//']?.metadata?.path) ?? `${type}.${id}`;
      for (const f of imageFields(type, config)) {
        if (type === 'docker_registry_image') continue;
        add(f.value, f.rewrite ? KitImageUse.RUN : KitImageUse.BUILD, path);
      }
    }
  }
  for (const r of records) if (r.use !== KitImageUse.RUN) add(r.target, r.use, r.neededBy, r);
  return [...merged.values()]
    .map((m) => {
      const parsed = m.target.includes('${') ? undefined : ImageReference._check(m.target);
      const digest = (parsed?.ok ? parsed.image.digest : undefined) ?? m.digest;
      const image: KitImage = { target: m.target, source: m.source, digest, index: m.index, use: m.use, neededBy: [...m.neededBy].sort() };
      return { ...image, ...(m.platforms ? { platforms: [...m.platforms] } : {}), ...(m.referrers ? { referrers: [...m.referrers] } : {}) };
    })
    .sort((a, b) => (a.use + a.target).localeCompare(b.use + b.target));
}

/** The platform this process runs on, as Go names it: [os, arch]. */
export function hostPlatform(): [string, string] {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const os: Record<string, string> = { win32: 'windows' };
  return [os[process.platform] ?? process.platform, arch[process.arch] ?? process.arch];
}

/** Hosts each CLI resolves bare provider sources under, and its lock file's place in the stack. */
const LOCK_FILES: ReadonlyArray<{ host: string; cli: string; file: string }> = [
  { host: 'registry.opentofu.org', cli: 'tofu', file: '.terraform.lock.hcl' },
  { host: 'registry.terraform.io', cli: 'terraform', file: 'offline/terraform.lock.hcl' },
];

/**
 * The lock files' providers, hashed from the mirror for every platform. A
 * package missing from the mirror is an error naming it.
 */
export function lockedProviders(providers: readonly RequiredProvider[], options: KitOptions): LockedProvider[] {
  const mirror = options.providerMirror as string;
  const out: LockedProvider[] = [];
  for (const p of providers) {
    if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(p.version)) {
      throw new AirgapError(options.stackPath, 'AirgapStack', [
        { prop: 'providerMirror', value: mirror, problem: `cannot lock ${p.source} at "${p.version}", which is not an exact version`, fix: 'Pin the version the mirror holds with providerVersions, such as { kubernetes: "3.2.1" }.' },
      ]);
    }
    const hashes: string[] = [];
    for (const platform of options.providerPlatforms) {
      const found = LOCK_FILES.map((l) => findPackage(mirror, l.host, p.source, p.version, platform)).find((x) => x !== undefined);
      if (found === undefined) {
        throw new AirgapError(options.stackPath, 'AirgapStack', [
          {
            prop: 'providerMirror',
            value: mirror,
            problem: `holds no ${p.source} ${p.version} for ${platform} (neither unpacked nor as a zip, under registry.opentofu.org or registry.terraform.io)`,
            fix: `Add it on the connected side: tofu providers mirror -platform=${platform} ${mirror}; or drop ${platform} from providerPlatforms.`,
          },
        ]);
      }
      try {
        hashes.push(hashPackage(found));
      } catch (e) {
        // A damaged package (not a zip, a link inside it) is the mirror's problem, reported like the others.
        throw new AirgapError(options.stackPath, 'AirgapStack', [
          {
            prop: 'providerMirror',
            value: found,
            problem: `holds a ${p.source} ${p.version} package for ${platform} that cannot be hashed: ${(e as Error).message}`,
            fix: `Mirror it again on the connected side: tofu providers mirror -platform=${platform} ${mirror}.`,
          },
        ]);
      }
    }
    out.push({ source: p.source, version: p.version, constraints: p.version, hashes });
  }
  return out;
}

/** The OpenTofu or Terraform CLI configuration for installing providers from the carried mirror only. */
export function cliConfig(registryHost: string, tool: string): string {
  return [
    `# ${tool} CLI configuration for this stack, on the air-gapped side.`,
    '# Providers come only from the carried filesystem mirror; there is no `direct` block,',
    '# so nothing is fetched from a registry. The path is relative to the stack directory.',
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = "${PROVIDER_MIRROR_PATH}"`,
    `    include = ["${registryHost}/*/*"]`,
    '  }',
    '}',
    'disable_checkpoint = true',
    '',
  ].join('\n');
}

/**
 * The verify command, for the far side with nothing but POSIX sh and
 * coreutils: the pin first, then SHA256SUMS's own grammar, then every entry
 * of the folder (anything but a regular file is refused, and so are
 * Terraform's runtime files unless the folder is initialised), then every
 * listed file's content. The same rules as `airgap-kit verify -stack`.
 */
export const VERIFY_SCRIPT = `#!/bin/sh
# Verifies this stack directory before anything is initialised or applied.
#
#   offline/verify.sh SHA256SUMS_HASH [--initialised]
#   offline/verify.sh --pin-file FILE [--initialised]
#
# SHA256SUMS_HASH is the sha256 of this stack's SHA256SUMS, recorded on the
# connected side (airgap-kit push prints it; it is in the signed archive).
# Check this script with a tool you trust before you run it: it sits inside
# what it checks. airgap-kit verify is the stronger check (a signature, and a
# checker from outside the folder).
#
# Refused: a SHA256SUMS whose sha256 is not the pin; a line that is not
# "<64 hex>  <name>", a name that is absolute, has a "." or ".." or empty
# segment or a backslash escape (a newline in the name), or appears twice;
# any entry that is not a folder or a regular file (symlink, FIFO, socket,
# device); a name with a newline; a file not listed; a listed file missing or
# changed; Terraform's own files (.terraform/, *.tfstate, *.tfstate.backup,
# .terraform.tfstate.lock.info, an unlisted .terraform.lock.hcl) unless
# --initialised says tofu init already ran here; any error of find itself.
set -eu
LC_ALL=C
export LC_ALL
fail() { echo "verify: FAILED: $*" >&2; exit 1; }
usage() { echo "usage: offline/verify.sh SHA256SUMS_HASH [--initialised] (or --pin-file FILE)" >&2; exit 2; }
pin="" initialised=0
while [ $# -gt 0 ]; do
  case "$1" in
    --initialised|--initialized) initialised=1 ;;
    --pin-file) [ $# -ge 2 ] || usage; pin=$(head -c64 "$2"); shift ;;
    -*) usage ;;
    *) [ -z "$pin" ] || usage; pin="$1" ;;
  esac
  shift
done
[ -n "$pin" ] || usage
printf '%s\\n' "$pin" | grep -qxE '[0-9a-f]{64}' || fail "the pin \\"$pin\\" is not 64 lowercase hex digits"
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The pin, on SHA256SUMS itself (a regular file, not a link).
{ [ -f SHA256SUMS ] && [ ! -L SHA256SUMS ]; } || fail "SHA256SUMS is missing or not a regular file"
actual=$(sha256sum SHA256SUMS | cut -c1-64)
[ "$actual" = "$pin" ] || fail "SHA256SUMS has sha256 $actual, not the pinned $pin: this is not the stack that was recorded"

# 2. SHA256SUMS's grammar.
if [ -s SHA256SUMS ] && [ "$(tail -c1 SHA256SUMS | od -An -c | tr -d ' ')" != '\\n' ]; then fail "SHA256SUMS does not end in a newline"; fi
if grep -n '[[:cntrl:]]' SHA256SUMS >"$tmp/bad"; then fail "SHA256SUMS has control characters (a CR, a tab): $(head -3 "$tmp/bad")"; fi
if grep -nvE '^[0-9a-f]{64} [ *][^/\\\\]' SHA256SUMS >"$tmp/bad"; then fail "SHA256SUMS lines that are not \\"<64 hex>  <relative name>\\": $(head -3 "$tmp/bad")"; fi
cut -c67- SHA256SUMS >"$tmp/names"
if grep -nE '(^|/)\\.\\.?(/|$)|//|/$' "$tmp/names" >"$tmp/bad"; then fail "SHA256SUMS names with a \\".\\", \\"..\\" or empty segment: $(head -3 "$tmp/bad")"; fi
if [ -n "$(sort "$tmp/names" | uniq -d | head -3)" ]; then fail "SHA256SUMS lists a name twice: $(sort "$tmp/names" | uniq -d | head -3)"; fi

# 3. Every entry of the folder (find's own errors fail the run, too). .terraform/
#    is Terraform's own (its provider links among them): judged as a whole below.
find . -path ./.terraform -prune -o -name '*
*' -print >"$tmp/newline" 2>"$tmp/err" || fail "find: $(cat "$tmp/err")"
[ ! -s "$tmp/newline" ] || fail "names with a newline: $(cat "$tmp/newline")"
find . -path ./.terraform -prune -o ! -type d ! -type f -print >"$tmp/special" 2>"$tmp/err" || fail "find: $(cat "$tmp/err")"
[ ! -s "$tmp/special" ] || fail "entries that are not regular files (symlinks, FIFOs, devices): $(paste -sd' ' "$tmp/special")"
find . -path ./.terraform -prune -o -type f ! -path ./SHA256SUMS -print >"$tmp/all" 2>"$tmp/err" || fail "find: $(cat "$tmp/err")"
sed 's|^\\./||' "$tmp/all" | sort >"$tmp/present"
grep -E '\\.tfstate$|\\.tfstate\\.backup$|^\\.terraform\\.tfstate\\.lock\\.info$' "$tmp/present" >"$tmp/runtime" || true
if [ -e .terraform ] || [ -L .terraform ]; then echo .terraform/ >>"$tmp/runtime"; fi
if ! grep -qx '.terraform.lock.hcl' "$tmp/names" && grep -qx '.terraform.lock.hcl' "$tmp/present"; then echo .terraform.lock.hcl >>"$tmp/runtime"; fi
sort -o "$tmp/runtime" "$tmp/runtime"
if [ -s "$tmp/runtime" ]; then
  [ "$initialised" = 1 ] || fail "Terraform's own files, which a freshly carried stack does not have (pass --initialised after tofu init): $(paste -sd' ' "$tmp/runtime")"
  comm -23 "$tmp/present" "$tmp/runtime" >"$tmp/kept"
  mv "$tmp/kept" "$tmp/present"
fi
sort "$tmp/names" >"$tmp/listed"
extra=$(comm -13 "$tmp/listed" "$tmp/present")
[ -z "$extra" ] || fail "files not in SHA256SUMS: $(printf '%s\\n' "$extra" | paste -sd' ' -)"

# 4. Every listed file's content.
sha256sum --check --strict --quiet SHA256SUMS >"$tmp/check" 2>&1 || fail "$(cat "$tmp/check")"
echo "verify: OK, $(wc -l <SHA256SUMS | tr -d ' ') files match SHA256SUMS, whose sha256 is the pinned $pin"
`;

/**
 * Writes the offline apply kit into `stackDir`: CLI configs for a filesystem
 * provider mirror (OpenTofu and Terraform), the required providers, every
 * image, a verify command, and SHA256SUMS over the whole stack directory.
 * Nothing in it names a path of the synth machine.
 */
export function writeOfflineKit(stackDir: string, options: KitOptions): KitContents {
  const stackJson = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackJson;
  const providers = requiredProviders(stackJson);
  const images = stackImages(stackJson);
  const needed = kitImages(stackJson, options.records);
  const kit = join(stackDir, KIT_DIR);
  mkdirSync(kit, { recursive: true });
  const json = (value: unknown) => JSON.stringify(value, null, 2) + '\n';
  writeFileSync(join(kit, 'images.json'), json({ formatVersion: KIT_FORMAT_VERSION, platforms: options.platforms, images: needed }));
  writeFileSync(
    join(kit, 'providers.json'),
    json({ formatVersion: KIT_FORMAT_VERSION, platforms: options.providerPlatforms, providers: providers.map((p) => ({ source: p.source, version: p.version })) }),
  );
  const lockFile = options.providerMirror !== undefined && providers.length > 0;
  if (lockFile) {
    const locked = lockedProviders(providers, options);
    for (const l of LOCK_FILES) writeFileSync(join(stackDir, l.file), renderLockFile(l.host, l.cli, locked));
  }
  writeFileSync(join(kit, 'tofurc'), cliConfig('registry.opentofu.org', 'OpenTofu'));
  writeFileSync(join(kit, 'terraformrc'), cliConfig('registry.terraform.io', 'Terraform'));
  writeFileSync(
    join(kit, 'providers.txt'),
    ['# Providers this stack needs in the filesystem mirror: source version', ...providers.map((p) => `${p.source} ${p.version}`), ''].join('\n'),
  );
  writeFileSync(
    join(kit, 'images.txt'),
    [
      '# Images this stack refers to: address field image',
      '# A ${...} part is resolved by Terraform, such as a digest pushed by another stack.',
      ...images.map((i) => `${i.address} ${i.field} ${i.image}`),
      '',
    ].join('\n'),
  );
  writeFileSync(join(kit, 'verify.sh'), VERIFY_SCRIPT);
  chmodSync(join(kit, 'verify.sh'), 0o755);
  const sums = sha256sums(stackDir, options.stackPath);
  writeFileSync(join(stackDir, 'SHA256SUMS'), sums);
  return { providers, images, kitImages: needed, lockFile, sumsDigest: createHash('sha256').update(sums).digest('hex') };
}

/**
 * `sha256sum`-format lines for every file below `dir`, sorted by path, leaving
 * out Terraform's own files. Anything but a folder or a regular file (a
 * symlink, a FIFO) is an error naming it: verify.sh would refuse the stack.
 */
export function sha256sums(dir: string, owner = 'the stack'): string {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? posix.join(rel, name) : name;
      const stat = lstatSync(join(dir, path.split('/').join(sep)));
      if (stat.isDirectory()) {
        if (path === '.terraform') continue;
        walk(path);
      } else if (!stat.isFile()) {
        throw new AirgapError(owner, 'offline kit', [
          {
            prop: 'stack directory',
            value: path,
            problem: `is a ${stat.isSymbolicLink() ? 'symlink' : 'special file'}, which SHA256SUMS cannot vouch for and verify.sh refuses`,
            fix: 'Write regular files only into the stack directory (copy what a link points to).',
          },
        ]);
      } else if (path !== 'SHA256SUMS' && !RUNTIME_FILES.some((re) => re.test(path))) {
        if (/[\n\r\\]/.test(path)) {
          throw new AirgapError(owner, 'offline kit', [
            { prop: 'stack directory', value: path, problem: 'has a newline, carriage return or backslash in its name, which SHA256SUMS cannot list plainly', fix: 'Rename the file.' },
          ]);
        }
        lines.push(`${createHash('sha256').update(readFileSync(join(dir, path.split('/').join(sep)))).digest('hex')}  ${path}`);
      }
    }
  };
  walk('');
  // Sorted as `LC_ALL=C sort` sorts, so verify.sh's comparison lines up.
  return lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : a.slice(66) > b.slice(66) ? 1 : 0)).join('\n') + '\n';
}
