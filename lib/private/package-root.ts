import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';

/** The npm package name, as package.json spells it. */
const PACKAGE_NAME = 'airgap-go-constructs';

let cached: string | undefined;

/**
 * The folder of this package's package.json: the repository root when run
 * from source, `node_modules/airgap-go-constructs` when installed. Shipped
 * assets (the Go modules of our tools) are found from here, never from the
 * working directory, so they resolve the same from `lib/` and `dist/`.
 */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) {
      cached = dir;
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} above ${__dirname}`);
  }
}
