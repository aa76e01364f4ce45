#!/usr/bin/env node
/**
 * `airgap-kit`: the command line of airgap-go-constructs. Each command runs
 * one of our Go programs, built from the Go source this package ships on
 * first use (see go-tool.ts), so the installed package is all it needs.
 */
import { spawnSync } from 'child_process';
import { existsSync, readdirSync, readFileSync } from 'fs';
import { basename, join, resolve } from 'path';
import { ensureGoTool, GoToolSpec, KIT_TOOL, ToolError } from './go-tool';

/** One subcommand. */
interface Command {
  readonly summary: string;
  readonly help: string;
  run(args: string[]): number;
}

const OFFLINE_BUNDLE: GoToolSpec = { module: 'mirror', mainPackage: './cmd/offline-bundle', name: 'offline-bundle' };
const KIT = KIT_TOOL;

/** The help of a command the Go kit implements: its own -h, with what this wrapper adds. */
function kitHelp(command: string, extra = ''): string {
  const r = spawnSync(ensureGoTool(KIT), [command, '-h'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}${extra}`;
}

/** A command run by the Go kit as is. */
function kitCommand(command: string, summary: string): Command {
  return {
    summary,
    get help() {
      return kitHelp(command);
    },
    run: (args) => runTool(KIT, [command, ...args]),
  };
}

/** Provider platforms (`linux_amd64`) of every synthesized stack: where tofu, and so airgap-kit, runs on the far side. */
function farSidePlatforms(cdktfOut: string): string[] {
  const stacks = join(cdktfOut, 'stacks');
  const found = new Set<string>();
  for (const name of existsSync(stacks) ? readdirSync(stacks) : []) {
    const file = join(stacks, name, 'offline', 'providers.json');
    if (!existsSync(file)) continue;
    for (const p of (JSON.parse(readFileSync(file, 'utf8')) as { platforms?: string[] }).platforms ?? []) found.add(p.replace('_', '/'));
  }
  return [...found].sort();
}

/** The value of `-flag V` or `-flag=V` in args. */
function flagValue(args: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    for (const f of [`-${flag}`, `--${flag}`]) {
      if (args[i] === f) return args[i + 1];
      if (args[i].startsWith(`${f}=`)) return args[i].slice(f.length + 1);
    }
  }
  return undefined;
}

const COMMANDS: Record<string, Command> = {
  pack: {
    summary: 'connected side: one signed archive of every image, provider and stack the app needs',
    get help() {
      return kitHelp(
        'pack',
        `
From npx, the archive also carries a static airgap-kit for each platform the
far side runs tofu on (the stacks' providerPlatforms), built from this
package's Go source, so verify and push need neither Go nor Node there.
  -binary-platform P   build and carry it for P instead (repeatable, such as linux/arm64)
  -no-binaries         carry none
`,
      );
    },
    run(args) {
      const rest: string[] = [];
      const platforms: string[] = [];
      let binaries = true;
      for (let i = 0; i < args.length; i++) {
        if (args[i] === '-no-binaries' || args[i] === '--no-binaries') binaries = false;
        else if (args[i] === '-binary-platform' || args[i] === '--binary-platform') platforms.push(args[++i]);
        else rest.push(args[i]);
      }
      if (binaries && !rest.some((a) => a.startsWith('-binary') || a.startsWith('--binary'))) {
        const cdktfOut = flagValue(rest, 'cdktf-out') ?? 'cdktf.out';
        for (const p of platforms.length > 0 ? platforms : farSidePlatforms(cdktfOut)) {
          const [goos, goarch] = p.split('/');
          rest.unshift('-binary', `${p}=${ensureGoTool(KIT, { goos, goarch })}`);
        }
      }
      return runTool(KIT, ['pack', ...rest]);
    },
  },
  verify: kitCommand('verify', 'far side: check an archive against the trusted key and its pinned sha256, touching nothing'),
  push: kitCommand('push', 'far side: verify, push every image digest for digest, lay the stacks and providers out'),
  'build-image': kitCommand('build-image', 'where tofu applies a GoImage built with GoImageBuild.hostGo(): go build per platform, push one index, attach SBOMs'),
  sbom: kitCommand('sbom', 'where tofu applies a Dockerfile-built GoImage with sbom: read the binary out of the pushed image, attach its SPDX SBOM'),
  previews: kitCommand('previews', 'in the cluster: list preview environments and their expiry; reap the expired ones through Terraform (list | reap [-dry-run] [-now T])'),
  'built-images': kitCommand('built-images', 'connected side, after applying the image stack: the digests it pushed, to pin them at synth'),
  bundle: {
    summary: 'make an offline Go module bundle (connected side), or verify one',
    help: `usage: airgap-kit bundle [-out DIR] [-toolchain PATH[=NAME]]... MODULE_DIR...
       airgap-kit bundle -verify DIR -sha256sums-hash HEX

Downloads the whole module graph ("go mod download all") of each MODULE_DIR,
with the checksum database data for it, and seals it as a bundle folder that
OfflineMirror serves inside the air gap. Run it on the connected side: go runs
with your GOPROXY, GOSUMDB, GONOSUMDB and GOPRIVATE. The pin (the sha256 of
the bundle's SHA256SUMS) is printed on stdout, and written to DIR.sha256sums-hash;
pass it to OfflineBundleImage's sha256sumsHash.

  -out DIR               where to write the bundle (default: bundles/<name of the first MODULE_DIR>);
                         it must not exist or be empty
  -toolchain PATH[=NAME] also carry a file, such as a Go toolchain tarball, served under files/NAME
  -verify DIR            check a bundle against its pin instead (exit 1 naming each bad file)
  -sha256sums-hash HEX   the pin, with -verify

offline-bundle is built from the Go source in this package on first use
(needs Go 1.26+) and cached in ~/.cache/airgap-go-constructs/tools.
`,
    run(args) {
      const passthrough = [...args];
      const verifying = passthrough.includes('-verify') || passthrough.includes('--verify');
      const hasOut = passthrough.some((a) => a === '-out' || a === '--out' || a.startsWith('-out=') || a.startsWith('--out='));
      if (!verifying && !hasOut) {
        const first = firstPositional(passthrough, ['-out', '--out', '-toolchain', '--toolchain']);
        if (first === undefined) return usageError('bundle', 'no MODULE_DIR given');
        passthrough.unshift('-out', `bundles/${basename(resolve(first))}`);
      }
      return runTool(OFFLINE_BUNDLE, passthrough);
    },
  },
};

const MAIN_HELP = `usage: airgap-kit <command> [options]

Tools for shipping Go services into air-gapped Kubernetes clusters with
airgap-go-constructs.

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(13)} ${c.summary}`)
  .join('\n')}

Run "airgap-kit <command> --help" for a command's options.
`;

/** The first argument that is neither a flag nor a flag's value. */
function firstPositional(args: readonly string[], flagsWithValue: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (flagsWithValue.includes(args[i])) i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return undefined;
}

function usageError(command: string, problem: string): number {
  process.stderr.write(`airgap-kit ${command}: ${problem}\n\n${COMMANDS[command].help}`);
  return 2;
}

/** Builds the tool if needed, runs it with our stdio, and returns its exit status. */
function runTool(spec: GoToolSpec, args: readonly string[]): number {
  const binary = ensureGoTool(spec);
  const r = spawnSync(binary, [...args], { stdio: 'inherit' });
  if (r.error) throw new ToolError(`could not run ${binary}: ${r.error.message}`);
  return r.status ?? 1;
}

/** Runs the command line and returns the exit status. */
export function main(argv: readonly string[]): number {
  const [name, ...rest] = argv;
  if (name === undefined) {
    process.stderr.write(MAIN_HELP);
    return 2;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    process.stdout.write(topic && COMMANDS[topic] ? COMMANDS[topic].help : MAIN_HELP);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`airgap-kit: unknown command "${name}"\n\n${MAIN_HELP}`);
    return 2;
  }
  if (rest.includes('-h') || rest.includes('--help')) {
    process.stdout.write(command.help);
    return 0;
  }
  try {
    return command.run(rest);
  } catch (e) {
    if (e instanceof ToolError) {
      process.stderr.write(`airgap-kit ${name}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
