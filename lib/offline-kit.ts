import { createHash } from 'crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import { join, posix, sep } from 'path';
import { imageFields } from './image-fields';

/** Folder of the kit inside each stack directory. */
export const KIT_DIR = 'offline';

/**
 * Where the operator puts the provider mirror, relative to the stack directory
 * (where Terraform runs): beside the `stacks/` folder of the carried bundle.
 */
export const PROVIDER_MIRROR_PATH = '../../providers';

/** Files that Terraform creates in a stack directory; they are not part of the bundle. */
const RUNTIME_FILES = [/^\.terraform\//, /^\.terraform\.lock\.hcl$/, /\.tfstate(\.backup)?$/, /^\.terraform\.tfstate\.lock\.info$/];

/** A provider a stack requires. */
export interface RequiredProvider {
  /** `namespace/type`, with bare names read as `hashicorp/<name>` as both CLIs do. */
  readonly source: string;
  readonly version: string;
}

/** An image a stack refers to. */
export interface ImageLine {
  /** `resource_type.logical_id`. */
  readonly address: string;
  /** The field holding it. */
  readonly field: string;
  /** The reference, as Terraform will see it. */
  readonly image: string;
}

/** What the kit found in one stack. */
export interface KitContents {
  readonly providers: readonly RequiredProvider[];
  readonly images: readonly ImageLine[];
  /** sha256 of the SHA256SUMS file, to record out of band. */
  readonly sumsDigest: string;
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

/** The verify command: checks every file against SHA256SUMS and refuses unlisted ones. */
export const VERIFY_SCRIPT = `#!/bin/sh
# Verifies this stack directory before anything is initialised or applied:
# every listed file must match SHA256SUMS, and no unlisted file may ride along.
# Compare the sha256 of SHA256SUMS itself with the value recorded at synth.
set -eu
cd "$(dirname "$0")/.."
sha256sum --check --strict --quiet SHA256SUMS
listed=$(mktemp)
present=$(mktemp)
trap 'rm -f "$listed" "$present"' EXIT
sed 's/^[0-9a-f]*  //' SHA256SUMS | LC_ALL=C sort >"$listed"
find . -type f ! -path './SHA256SUMS' ! -path './.terraform/*' ! -name '.terraform.lock.hcl' \\
  ! -name '*.tfstate' ! -name '*.tfstate.backup' ! -name '.terraform.tfstate.lock.info' \\
  | sed 's|^\\./||' | LC_ALL=C sort >"$present"
extra=$(LC_ALL=C comm -13 "$listed" "$present")
if [ -n "$extra" ]; then
  echo "verify: files not in SHA256SUMS:" >&2
  echo "$extra" >&2
  exit 1
fi
echo "verify: OK, $(wc -l <"$listed") files match SHA256SUMS (sha256 of SHA256SUMS: $(sha256sum SHA256SUMS | cut -d' ' -f1))"
`;

/**
 * Writes the offline apply kit into `stackDir`: CLI configs for a filesystem
 * provider mirror (OpenTofu and Terraform), the required providers, every
 * image, a verify command, and SHA256SUMS over the whole stack directory.
 * Nothing in it names a path of the synth machine.
 */
export function writeOfflineKit(stackDir: string): KitContents {
  const stackJson = JSON.parse(readFileSync(join(stackDir, 'cdk.tf.json'), 'utf8')) as StackJson;
  const providers = requiredProviders(stackJson);
  const images = stackImages(stackJson);
  const kit = join(stackDir, KIT_DIR);
  mkdirSync(kit, { recursive: true });
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
  const sums = sha256sums(stackDir);
  writeFileSync(join(stackDir, 'SHA256SUMS'), sums);
  return { providers, images, sumsDigest: createHash('sha256').update(sums).digest('hex') };
}

/** `sha256sum`-format lines for every file below `dir`, sorted by path, leaving out Terraform's own files. */
export function sha256sums(dir: string): string {
  const lines: string[] = [];
  const walk = (rel: string): void => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? posix.join(rel, name) : name;
      const stat = lstatSync(join(dir, path.split('/').join(sep)));
      if (stat.isDirectory()) {
        if (path === '.terraform') continue;
        walk(path);
      } else if (stat.isFile() && path !== 'SHA256SUMS' && !RUNTIME_FILES.some((re) => re.test(path))) {
        lines.push(`${createHash('sha256').update(readFileSync(join(dir, path.split('/').join(sep)))).digest('hex')}  ${path}`);
      }
    }
  };
  walk('');
  // Sorted as `LC_ALL=C sort` sorts, so verify.sh's comparison lines up.
  return lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : a.slice(66) > b.slice(66) ? 1 : 0)).join('\n') + '\n';
}
