/**
 * Engines: OpenTofu with the docker provider from the filesystem mirror, and
 * podman's Docker API plus the registry, all inside one network namespace with
 * only loopback (scripts/engine/netns-run.sh). The image stack is applied for
 * real: hello-go is built from the generated Dockerfile, pushed, and run as a
 * docker_container from the pushed digest; then plan must show no drift and
 * destroy must leave nothing behind.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Container } from '@cdktf/provider-docker/lib/container';
import { App } from 'cdktf';
import { ImageStack } from '../../examples/preview-app';
import { engineUp, REGISTRY, ROOT } from '../support/engine';
import { toolchain } from '../support/toolchain';

jest.setTimeout(30 * 60 * 1000);

const HOST_PORT = 18080;
/** The capabilities podman grants by default, i.e. everything a container can hold. */
const PODMAN_DEFAULT_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
let outdir: string;
afterAll(() => outdir && rmSync(outdir, { recursive: true, force: true }));

/** Runs `script` with bash inside the loopback-only namespace; returns its key=value report and log. */
function inNetns(script: string, cwd: string, logs: string): { status: number; report: Record<string, string>; log: string } {
  // Outside the stack directory: verify.sh refuses any file SHA256SUMS does not list.
  const reportFile = join(logs, 'report.env');
  writeFileSync(reportFile, '');
  const r = spawnSync(join(ROOT, 'scripts/engine/netns-run.sh'), ['--', 'bash', '-euo', 'pipefail', '-c', script], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, REPORT: reportFile, LOGS: logs },
    maxBuffer: 64 << 20,
  });
  const report: Record<string, string> = {};
  try {
    for (const line of readFileSync(reportFile, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) report[line.slice(0, i)] = line.slice(i + 1);
    }
  } catch {
    // No report: the log says why.
  }
  return { status: r.status ?? -1, report, log: `${r.stdout}\n${r.stderr}` };
}

test('tofu apply of the image stack builds, pushes and runs hello-go healthy as uid 65532; no drift; destroy leaves nothing', () => {
  const t = toolchain();
  const info = engineUp();
  outdir = mkdtempSync(join(tmpdir(), 'agc-apply-'));
  const app = new App({ outdir });
  const stack = new ImageStack(app, 'images', {
    registry: REGISTRY,
    plainHttpRegistry: true,
    builderDigest: info.builderDigest,
    runtimeDigest: info.runtimeDigest,
    providerVersions: { docker: t.versions.docker },
  });
  new Container(stack, 'smoke', {
    name: 'agc-hello-smoke',
    image: stack.hello.imageRef,
    ports: [{ internal: 8080, external: HOST_PORT, ip: '127.0.0.1' }],
    healthcheck: { test: ['CMD', '/usr/local/bin/hello-go', '-healthcheck'], interval: '2s', timeout: '3s', retries: 3 },
    mustRun: true,
    // As locked down as the Pod: no capabilities, read-only root, no privilege gain. podman
    // reports "ALL" back as its whole default set, so that set is written out: "ALL" would
    // be a perpetual diff that replaces the container on every plan.
    capabilities: { drop: PODMAN_DEFAULT_CAPABILITIES },
    readOnly: true,
    // podman mounts these tmpfs on a read-only root by default; stated, so plans show no diff.
    tmpfs: Object.fromEntries(['/run', '/tmp', '/var/tmp'].map((p) => [p, 'rw,rprivate,nosuid,nodev,tmpcopyup'])),
    securityOpts: ['no-new-privileges'],
    user: '65532:65532',
  });
  app.synth();
  symlinkSync(t.mirror, join(outdir, 'providers'));
  const dir = join(outdir, 'stacks', 'images');
  const tag = stack.hello.tag;
  const pin = stack.offlineKit?.sumsDigest as string;
  const script = `
    report() { echo "$1=$2" >>"$REPORT"; }
    export TF_CLI_CONFIG_FILE=offline/tofurc TF_IN_AUTOMATION=1
    tofu=${JSON.stringify(t.tofu)}
    sh offline/verify.sh ${pin}
    "$tofu" init -input=false -no-color >"$LOGS/init.log" 2>&1 || { cat "$LOGS/init.log"; exit 1; }
    report init ok
    "$tofu" apply -auto-approve -input=false -no-color >"$LOGS/apply.log" 2>&1 || { cat "$LOGS/apply.log"; exit 1; }
    report apply ok
    cid=$(docker ps -q --filter name=agc-hello-smoke)
    report running "$(docker inspect -f '{{.State.Running}}' "$cid")"
    report image "$(docker inspect -f '{{.Config.Image}}' "$cid")"
    for i in $(seq 1 30); do code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${HOST_PORT}/healthz || true); [ "$code" = 200 ] && break; sleep 1; done
    report healthz "$code"
    report readyz "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:${HOST_PORT}/readyz)"
    # podman runs healthchecks from systemd timers; with no systemd here, run it the way a timer would.
    podman healthcheck run "$cid" >/dev/null && report health "$(podman inspect -f '{{.State.Health.Status}}' "$cid")" || report health failed
    report uid "$(awk '/^Uid:/ {print $2":"$3":"$4":"$5}' /proc/$(docker inspect -f '{{.State.Pid}}' "$cid")/status)"
    set +e
    "$tofu" plan -detailed-exitcode -input=false -no-color >"$LOGS/plan.log" 2>&1
    report plan_exit $?
    set -e
    "$tofu" destroy -auto-approve -input=false -no-color >"$LOGS/destroy.log" 2>&1 || { cat "$LOGS/destroy.log"; exit 1; }
    report destroy ok
    report containers_left "$(docker ps -aq --filter name=agc-hello-smoke | wc -l)"
    report images_left "$(docker images -q ${REGISTRY}/examples/hello-go:${tag} | wc -l)"
    report registry_tags "$(curl -s http://${REGISTRY}/v2/examples/hello-go/tags/list)"
  `;
  const r = inNetns(script, dir, outdir);
  const plan = (() => {
    try {
      return readFileSync(join(outdir, 'plan.log'), 'utf8');
    } catch {
      return '';
    }
  })();
  expect({ status: r.status, log: r.status === 0 ? '' : r.log }).toEqual({ status: 0, log: '' });
  expect(r.report).toMatchObject({ init: 'ok', apply: 'ok', running: 'true', healthz: '200', readyz: '200', health: 'healthy', uid: '65532:65532:65532:65532', destroy: 'ok' });
  expect(r.report.image).toMatch(new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/examples/hello-go@sha256:[0-9a-f]{64}$`));
  expect({ plan_exit: r.report.plan_exit, plan: r.report.plan_exit === '0' ? '' : plan }).toEqual({ plan_exit: '0', plan: '' });
  expect(r.report.containers_left).toBe('0');
  expect(r.report.images_left).toBe('0');
  expect(r.report.registry_tags).not.toContain(tag);
});
