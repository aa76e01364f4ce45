import { existsSync, readFileSync, statSync } from 'fs';
import { join, resolve } from 'path';
import { PropProblem } from '../core/errors';

/**
 * A Go module on disk, as GoImage builds it: what its go.mod says and
 * whether it carries its dependencies in vendor/.
 */
export class GoModule {
  /** Reads the module in `dir` (relative paths resolve against the working directory). */
  static fromDirectory(dir: string): GoModule {
    const root = resolve(dir);
    const goModPath = join(root, 'go.mod');
    const hasGoMod = existsSync(goModPath) && statSync(goModPath).isFile();
    const goMod = hasGoMod ? readFileSync(goModPath, 'utf8') : '';
    return new GoModule(dir, root, hasGoMod, goMod);
  }

  /** The folder as given. */
  public readonly dir: string;
  /** The folder, absolute. */
  public readonly root: string;
  /** Whether the folder has a go.mod file. */
  public readonly hasGoMod: boolean;
  /** The module path from the `module` line, if any. */
  public readonly modulePath?: string;
  /** Whether go.mod requires other modules. */
  public readonly requiresModules: boolean;
  /** Whether vendor/modules.txt is present. */
  public readonly hasVendor: boolean;

  private constructor(dir: string, root: string, hasGoMod: boolean, goMod: string) {
    this.dir = dir;
    this.root = root;
    this.hasGoMod = hasGoMod;
    this.modulePath = /^module\s+("?)([^\s"]+)\1\s*$/m.exec(goMod)?.[2];
    this.requiresModules = /^\s*require\b/m.test(goMod);
    this.hasVendor = existsSync(join(root, 'vendor', 'modules.txt'));
  }

  /**
   * Problems with the module as the value of `prop`.
   * @internal
   */
  _problems(prop: string): PropProblem[] {
    if (!this.hasGoMod) {
      return [{ prop, value: this.dir, problem: `has no go.mod (looked for ${join(this.root, 'go.mod')})`, fix: 'Point moduleDir at the folder that holds go.mod, or run `go mod init` there.' }];
    }
    if (!this.modulePath) return [{ prop, value: this.dir, problem: 'has a go.mod without a module line', fix: 'Fix go.mod so it starts with `module <path>`.' }];
    return [];
  }
}
