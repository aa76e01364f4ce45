/**
 * Engines: POSIX sh with coreutils and findutils (offline/verify.sh) and the
 * airgap-kit binary (`verify -stack`), built from kit/ with no download. One
 * table of hostile stack folders runs against both verifiers: both follow the
 * same rules, so each row must be refused (or accepted) by both, naming the
 * problem. The unreadable-folder row runs them as a non-root user.
 */
import { spawnSync } from 'child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'fs';
import { createHash } from 'crypto';
import { join } from 'path';
import { KubernetesProvider } from '@cdktf/provider-kubernetes/lib/provider';
import { App } from 'cdktf';
import { ensureGoTool } from '../../lib/cli/go-tool';
import { AirgapStack, GoService } from '../../lib';
import { tmp } from '../support/scratch';

const D = `sha256:${'b'.repeat(64)}`;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

let stackDir: string;
let pin: string;
let kit: string;

interface Verdict {
  readonly status: number;
  readonly out: string;
}

/** One hostile folder: how to make it, whether each verifier must accept it, and what the refusal names. */
interface Row {
  readonly name: string;
  /** Changes the copy; returns the pin to check against (the recorded one unless the attacker controls the list). */
  readonly make: (dir: string) => string | void;
  readonly initialised?: boolean;
  /** Run both verifiers as this uid (for the unreadable folder). */
  readonly asUser?: number;
  /** What both refusals must mention; undefined when both must pass. */
  readonly refused?: { readonly sh: RegExp; readonly go: RegExp };
  /** Only the outside checker can see it (the script checks itself from inside). */
  readonly onlyGo?: boolean;
}

/** Rewrites SHA256SUMS to `text` and returns its sha256: an attacker who also controls the pin. */
function forgeSums(dir: string, text: string): string {
  writeFileSync(join(dir, 'SHA256SUMS'), text);
  return sha256(text);
}

const sumsLine = (name: string, content = 'x') => `${sha256(content)}  ${name}\n`;

const ROWS: Row[] = [
  { name: 'the untouched stack', make: () => undefined },
  {
    name: 'an initialised stack, with --initialised',
    initialised: true,
    make: (dir) => {
      mkdirSync(join(dir, '.terraform/providers'), { recursive: true });
      writeFileSync(join(dir, '.terraform/providers/p'), 'provider');
      writeFileSync(join(dir, 'terraform.test.tfstate'), '{}');
      writeFileSync(join(dir, '.terraform.lock.hcl'), '# lock');
    },
  },
  { name: 'an unlisted symlink', make: (dir) => symlinkSync('/etc/passwd', join(dir, 'zz.tf.json')), refused: { sh: /not regular files.*zz\.tf\.json/, go: /zz\.tf\.json is not a regular file/ } },
  { name: 'a symlinked folder', make: (dir) => symlinkSync('/tmp', join(dir, 'extra')), refused: { sh: /not regular files.*\.\/extra/, go: /extra is not a regular file/ } },
  { name: 'a FIFO', make: (dir) => {
      spawnSync('mkfifo', [join(dir, 'pipe')]);
    }, refused: { sh: /not regular files.*\.\/pipe/, go: /pipe is not a regular file/ } },
  {
    name: 'a listed file swapped for a symlink to the same content',
    make: (dir) => {
      copyFileSync(join(dir, 'cdk.tf.json'), join(dir, '..', 'same.json'));
      rmSync(join(dir, 'cdk.tf.json'));
      symlinkSync(join(dir, '..', 'same.json'), join(dir, 'cdk.tf.json'));
    },
    refused: { sh: /not regular files.*cdk\.tf\.json/, go: /cdk\.tf\.json is not a regular file/ },
  },
  {
    name: 'a planted .terraform/ provider',
    make: (dir) => {
      mkdirSync(join(dir, '.terraform/providers/registry.opentofu.org/hashicorp/kubernetes/9.9.9/linux_amd64'), { recursive: true });
      writeFileSync(join(dir, '.terraform/providers/registry.opentofu.org/hashicorp/kubernetes/9.9.9/linux_amd64/terraform-provider-kubernetes'), 'evil');
    },
    refused: { sh: /Terraform's own files.*\.terraform\//, go: /Terraform's own files.*\.terraform/ },
  },
  { name: 'a planted state file', make: (dir) => writeFileSync(join(dir, 'terraform.test.tfstate'), '{}'), refused: { sh: /Terraform's own files.*terraform\.test\.tfstate/, go: /Terraform's own files.*terraform\.test\.tfstate/ } },
  { name: 'a planted lock file', make: (dir) => writeFileSync(join(dir, '.terraform.lock.hcl'), '# lock'), refused: { sh: /Terraform's own files.*\.terraform\.lock\.hcl/, go: /Terraform's own files.*\.terraform\.lock\.hcl/ } },
  {
    name: 'a changed cdk.tf.json with SHA256SUMS regenerated (the pin no longer matches)',
    make: (dir) => {
      writeFileSync(join(dir, 'cdk.tf.json'), '{"resource":{}}');
      const sums = readFileSync(join(dir, 'SHA256SUMS'), 'utf8').replace(/^[0-9a-f]{64}(?=  cdk\.tf\.json$)/m, sha256('{"resource":{}}'));
      writeFileSync(join(dir, 'SHA256SUMS'), sums);
    },
    refused: { sh: /not the pinned/, go: /not the pinned/ },
  },
  { name: 'a ".." name in SHA256SUMS', make: (dir) => forgeSums(dir, sumsLine('../outside/evil.json')), refused: { sh: /"\.\."|empty segment/, go: /"\.\." segment/ } },
  { name: 'an absolute name in SHA256SUMS', make: (dir) => forgeSums(dir, sumsLine('/etc/passwd')), refused: { sh: /not "<64 hex>  <relative name>"/, go: /is absolute/ } },
  { name: 'a name escaped for a newline in SHA256SUMS', make: (dir) => forgeSums(dir, `\\${sumsLine('a\\nb')}`), refused: { sh: /not "<64 hex>  <relative name>"/, go: /is not "<64 hex>  <path>"/ } },
  { name: 'a carriage return in SHA256SUMS', make: (dir) => forgeSums(dir, sumsLine('cdk.tf.json\r')), refused: { sh: /control characters/, go: /control character/ } },
  { name: 'a name listed twice', make: (dir) => forgeSums(dir, readFileSync(join(dir, 'SHA256SUMS'), 'utf8') + sumsLine('cdk.tf.json')), refused: { sh: /twice/, go: /a second time/ } },
  { name: 'a file named only by newlines', make: (dir) => writeFileSync(join(dir, '\n\n'), 'x'), refused: { sh: /names with a newline/, go: /control character/ } },
  { name: 'an unlisted file', make: (dir) => writeFileSync(join(dir, 'backdoor.tf'), 'resource "null" "x" {}'), refused: { sh: /files not in SHA256SUMS: backdoor\.tf/, go: /backdoor\.tf is not in SHA256SUMS/ } },
  { name: 'a listed file missing', make: (dir) => rmSync(join(dir, 'offline/images.txt')), refused: { sh: /images\.txt/, go: /offline\/images\.txt is listed in SHA256SUMS but missing/ } },
  {
    name: 'one flipped byte',
    make: (dir) => {
      const b = readFileSync(join(dir, 'cdk.tf.json'));
      b[10] ^= 1;
      writeFileSync(join(dir, 'cdk.tf.json'), b);
    },
    refused: { sh: /cdk\.tf\.json: FAILED/, go: /cdk\.tf\.json has sha256/ },
  },
  {
    name: 'an unreadable folder, for a non-root user',
    asUser: 65534,
    make: (dir) => {
      mkdirSync(join(dir, 'locked'));
      writeFileSync(join(dir, 'locked/hidden.tf.json'), '{}');
      chmodSync(join(dir, 'locked'), 0o000);
    },
    refused: { sh: /find:.*Permission denied/, go: /locked.*permission denied/ },
  },
  {
    name: 'verify.sh itself replaced by "echo OK"',
    onlyGo: true,
    make: (dir) => writeFileSync(join(dir, 'offline/verify.sh'), '#!/bin/sh\necho "verify: OK"\n'),
    refused: { sh: /^$/, go: /offline\/verify\.sh has sha256/ },
  },
];

/** Runs a command, as `uid` when given (setpriv), in `cwd`. */
function run(file: string, args: readonly string[], cwd: string, uid?: number): Verdict {
  const [f, a] = uid === undefined ? [file, args] : ['setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', file, ...args]];
  const r = spawnSync(f, [...a], { cwd, encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  const outdir = tmp('agc-stack-verify-');
  const app = new App({ outdir });
  const stack = new AirgapStack(app, 'test');
  new KubernetesProvider(stack, 'kubernetes', {});
  new GoService(stack, 'api', { image: `registry.internal/team/api@${D}` });
  app.synth();
  stackDir = join(outdir, 'stacks', 'test');
  pin = stack.offlineKit?.sumsDigest as string;
  // A copy anyone may run: the non-root row needs it outside root's home.
  const built = ensureGoTool({ module: 'kit', mainPackage: './cmd/airgap-kit', name: 'airgap-kit' }, undefined, { ...process.env, GOPROXY: 'off', GOFLAGS: '' });
  const bin = tmp('agc-kit-bin-');
  chmodSync(bin, 0o755);
  kit = join(bin, 'airgap-kit');
  copyFileSync(built, kit);
  chmodSync(kit, 0o755);
});

describe('one table of hostile stack folders, against verify.sh and airgap-kit verify -stack alike', () => {
  const tally: string[] = [];
  afterAll(() => process.stdout.write(`stack-verify table:\n${tally.join('\n')}\n`));

  test.each(ROWS.map((r) => [r.name, r] as const))('%s', (_name, row) => {
    const parent = tmp('agc-hostile-');
    chmodSync(parent, 0o755);
    const dir = join(parent, 'stack');
    cpSync(stackDir, dir, { recursive: true });
    spawnSync('chmod', ['-R', 'a+rX', dir]);
    const usedPin = row.make(dir) ?? pin;
    const flag = row.initialised ? ['--initialised'] : [];
    const sh = run('sh', ['offline/verify.sh', usedPin, ...flag], dir, row.asUser);
    const go = run(kit, ['verify', '-stack', dir, '-sha256sums-hash', usedPin, ...flag.map((f) => f.replace('--', '-'))], dir, row.asUser);
    spawnSync('chmod', ['-R', 'u+rwX', dir]);
    tally.push(`  ${row.refused ? 'refused' : 'passed '} sh ${sh.status} go ${go.status}  ${row.name}`);
    if (!row.refused) {
      expect(sh).toMatchObject({ status: 0 });
      expect(sh.out).toContain(`whose sha256 is the pinned ${pin}`);
      expect(go).toMatchObject({ status: 0 });
      return;
    }
    expect(go.status).toBe(1);
    expect(go.out).toMatch(row.refused.go);
    if (row.onlyGo) {
      // The replaced script says OK: that is why the README sends the operator to airgap-kit verify.
      expect(sh.status).toBe(0);
      return;
    }
    expect(sh.status).toBe(1);
    expect(sh.out).toMatch(/verify: FAILED: /);
    expect(sh.out).toMatch(row.refused.sh);
  });
});

test('verify.sh needs the pin, and says how to pass it', () => {
  const r = run('sh', ['offline/verify.sh'], stackDir);
  expect(r.status).toBe(2);
  expect(r.out).toContain('usage: offline/verify.sh SHA256SUMS_HASH [--initialised] (or --pin-file FILE)');
  const pinFile = join(tmp('agc-pin-'), 'pin');
  writeFileSync(pinFile, `${pin}\n`);
  expect(run('sh', ['offline/verify.sh', '--pin-file', pinFile], stackDir).status).toBe(0);
  expect(run('sh', ['offline/verify.sh', 'not-a-pin'], stackDir).out).toContain('is not 64 lowercase hex digits');
});
