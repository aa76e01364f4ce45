import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'fs';
import { homedir } from 'os';
import { join, posix, relative, sep } from 'path';
import { packageRoot } from '../private/package-root';

/** One Go program of ours, shipped as source in the package. */
export interface GoToolSpec {
  /** Folder of its Go module, relative to the package root (`mirror`). */
  readonly module: string;
  /** Main package inside the module (`./cmd/offline-bundle`). */
  readonly mainPackage: string;
  /** Binary name. */
  readonly name: string;
}

/** The airgap-kit Go program (kit/). */
export const KIT_TOOL: GoToolSpec = { module: 'kit', mainPackage: './cmd/airgap-kit', name: 'airgap-kit' };

/** Where to build for, when not for this machine. */
export interface GoTarget {
  readonly goos: string;
  readonly goarch: string;
}

/** A failure the command line reports as one message and exit status 2, with no stack trace. */
export class ToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ToolError';
  }
}

/** `go1.26.8` / `go1.26` / `1.26.0` as [major, minor, patch]; undefined for anything else (`devel`). */
export function parseGoVersion(text: string): [number, number, number] | undefined {
  const m = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** True when Go version `found` is at least `required`. */
export function goVersionAtLeast(found: string, required: string): boolean {
  const f = parseGoVersion(found);
  const r = parseGoVersion(required);
  if (!f || !r) return false;
  for (let i = 0; i < 3; i++) if (f[i] !== r[i]) return f[i] > r[i];
  return true;
}

/** The `go` directive of a go.mod: the oldest Go that builds the module. */
export function requiredGoVersion(goMod: string): string {
  return /^go\s+(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(goMod)?.[1] ?? '1.21';
}

/**
 * The folder binaries are cached in: `$AIRGAP_KIT_CACHE`, else
 * `$XDG_CACHE_HOME/airgap-go-constructs/tools`, else `~/.cache/...`.
 */
export function toolCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AIRGAP_KIT_CACHE) return env.AIRGAP_KIT_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'airgap-go-constructs', 'tools');
}

/** The Go source files that make up a tool, as sorted POSIX paths relative to the module. */
function sourceFiles(moduleDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'testdata' && !entry.name.startsWith('.')) walk(full);
      } else if (entry.isFile() && ((entry.name.endsWith('.go') && !entry.name.endsWith('_test.go')) || ['go.mod', 'go.sum', 'modules.txt'].includes(entry.name))) {
        out.push(relative(moduleDir, full).split(sep).join(posix.sep));
      }
    }
  };
  walk(moduleDir);
  return out.sort();
}

/** Runs `go env GOVERSION` with the given binary; undefined when it cannot be run. */
function goVersionOf(go: string): string | undefined {
  const r = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', env: { ...process.env, GOTOOLCHAIN: 'local' } });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * The path of a built tool, building it with the local `go` on first use.
 *
 * The binary is cached under {@link toolCacheDir}, keyed by the sha256 of the
 * tool's shipped source, the Go version and the target, so an upgrade of the
 * package or of Go builds anew and nothing stale is ever run. Builds are
 * static (`CGO_ENABLED=0`), `-trimpath` and written to a temporary name
 * first, so two processes building at once never run half a binary.
 */
export function ensureGoTool(spec: GoToolSpec, target?: GoTarget, env: NodeJS.ProcessEnv = process.env): string {
  const moduleDir = join(packageRoot(), spec.module);
  const goModPath = join(moduleDir, 'go.mod');
  if (!existsSync(goModPath)) {
    throw new ToolError(`${spec.name}: its Go source is missing (looked for ${goModPath}). Reinstall airgap-go-constructs; the package ships the source of its Go tools.`);
  }
  const required = requiredGoVersion(readFileSync(goModPath, 'utf8'));
  const go = env.AIRGAP_KIT_GO || 'go';
  const found = goVersionOf(go);
  const install = `Install Go ${required} or newer (https://go.dev/dl/), or point AIRGAP_KIT_GO at its go binary.`;
  if (found === undefined) {
    throw new ToolError(`${spec.name} is built from its shipped Go source on first use, which needs Go ${required} or newer, but "${go}" could not be run. ${install}`);
  }
  if (!goVersionAtLeast(found, required)) {
    throw new ToolError(`${spec.name} needs Go ${required} or newer to build from its shipped source, but "${go}" is ${found}. ${install}`);
  }
  const files = sourceFiles(moduleDir);
  const hash = createHash('sha256');
  hash.update(`${spec.mainPackage}\0${found}\0${target ? `${target.goos}/${target.goarch}` : 'host'}\n`);
  for (const f of files) hash.update(`${f}\0${createHash('sha256').update(readFileSync(join(moduleDir, f))).digest('hex')}\n`);
  const key = hash.digest('hex').slice(0, 16);
  const suffix = target ? `-${target.goos}-${target.goarch}` : '';
  const dir = join(toolCacheDir(env), `${spec.name}${suffix}-${key}`);
  const binary = join(dir, spec.name);
  if (existsSync(binary) && statSync(binary).isFile()) return binary;

  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.partial`;
  process.stderr.write(`airgap-kit: building ${spec.name}${target ? ` for ${target.goos}/${target.goarch}` : ''} with ${found} (first use; cached in ${dir})\n`);
  const vendored = existsSync(join(moduleDir, 'vendor', 'modules.txt'));
  const r = spawnSync(go, ['build', '-trimpath', '-ldflags=-s -w -buildid=', '-o', partial, spec.mainPackage], {
    cwd: moduleDir,
    encoding: 'utf8',
    env: {
      ...env,
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
      GOWORK: 'off',
      GOFLAGS: vendored ? '-mod=vendor' : '-mod=readonly',
      ...(target ? { GOOS: target.goos, GOARCH: target.goarch } : {}),
    },
  });
  if (r.status !== 0) {
    rmSync(partial, { force: true });
    throw new ToolError(`building ${spec.name} from ${moduleDir} failed (go build exited ${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
  }
  chmodSync(partial, 0o755);
  renameSync(partial, binary);
  return binary;
}
