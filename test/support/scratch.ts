/** Temporary folders removed after the test file, and a changeable copy of hello-go. */
import { cpSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { HELLO_GO_DIR } from '../../examples/preview-app';

const scratch: string[] = [];
afterAll(() => scratch.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A new temporary folder, removed after the test file. */
export function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

/** A copy of hello-go that a test may change; `vendor` false drops vendor/. */
export function copyHelloGo(vendor = true): string {
  const dir = join(tmp('agc-hello-'), 'hello-go');
  cpSync(HELLO_GO_DIR, dir, { recursive: true, filter: (src) => !src.endsWith('/hello-go/hello-go') && (vendor || !src.includes('/vendor')) });
  return dir;
}
