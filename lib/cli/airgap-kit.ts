#!/usr/bin/env node
/**
 * `airgap-kit`: the command line of airgap-go-constructs. Each command runs
 * one of our Go programs, built from the Go source this package ships on
 * first use (see go-tool.ts), so the installed package is all it needs.
 */
import { spawnSync } from 'child_process';
import { basename, resolve } from 'path';
import { ensureGoTool, GoToolSpec, ToolError } from './go-tool';

/** One subcommand. */
interface Command {
  readonly summary: string;
  readonly help: string;
  run(args: string[]): number;
}

const OFFLINE_BUNDLE: GoToolSpec = { module: 'mirror', mainPackage: './cmd/offline-bundle', name: 'offline-bundle' };

const COMMANDS: Record<string, Command> = {
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
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
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
