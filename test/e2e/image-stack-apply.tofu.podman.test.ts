/**
 * Engines: OpenTofu with the docker provider from the filesystem mirror, and
 * podman's Docker API plus the registry, all inside one network namespace with
 * only loopback (scripts/engine/netns-run.sh). The image stack is applied for
 * real in both build modes: hello-go from the generated Dockerfile through the
 * engine, and ko-style with the host's Go as a linux/amd64 + linux/arm64 index
 * with SPDX referrers (airgap-kit build-image, from a terraform_data). Each is
 * run as a docker_container from the pushed digest; then plan must show no
 * drift and destroy must leave nothing behind that the mode owns.
 */
import { createHash } from 'crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Container } from '@cdktf/provider-docker/lib/container';
import { Image } from '@cdktf/provider-docker/lib/image';
import { App } from 'cdktf';
import { ImageStack } from '../../examples/preview-app';
import { engineUp, inEngineNetns, kitBinary, REGISTRY } from '../support/engine';
import { copyHelloGo } from '../support/scratch';
import { goTool, toolchain } from '../support/toolchain';

jest.setTimeout(30 * 60 * 1000);

const HOST_PORT = 18080;
/** The capabilities podman grants by default, i.e. everything a container can hold. */
const PODMAN_DEFAULT_CAPABILITIES = ['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'NET_RAW', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT'];
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A file the script left in the logs folder, or ''. */
function logFile(dir: string, name: string): string {
  const f = join(dir, name);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

/** The example image stack on the local registry; with platforms, hello-go is built with hostGo on the runtime index. */
function imageStack(platforms?: string[], moduleDir?: string): { app: App; stack: ImageStack; outdir: string } {
  const t = toolchain();
  const info = engineUp();
  const outdir = mkdtempSync(join(tmpdir(), 'agc-apply-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const stack = new ImageStack(app, 'images', {
    registry: REGISTRY,
    plainHttpRegistry: true,
    builderDigest: info.builderDigest,
    runtimeDigest: info.runtimeDigest,
    providerVersions: { docker: t.versions.docker },
    moduleDir,
    hostGo: platforms ? { platforms, runtime: info.runtimeIndex } : undefined,
    // From the Dockerfile, the SBOM comes from airgap-kit sbom after the push.
    sbom: platforms === undefined,
  });
  return { app, stack, outdir };
}

describe.each([
  ['dockerfile', false],
  ['hostGo (linux/amd64 + linux/arm64)', true],
])('tofu apply of the image stack, %s', (_mode, hostGo) => {
  test('builds, pushes and runs hello-go healthy as uid 65532; no drift; destroy leaves nothing it owns', () => {
    const t = toolchain();
    const { app, stack, outdir } = imageStack(hostGo ? ['linux/amd64', 'linux/arm64'] : undefined);
    // hostGo pushes without the engine, so the engine pulls the index (picking linux/amd64) to run it.
    const pulled = hostGo ? new Image(stack, 'pull', { name: stack.hello.imageRef, keepLocally: false }) : undefined;
    new Container(stack, 'smoke', {
      name: 'agc-hello-smoke',
      image: pulled ? pulled.imageId : stack.hello.imageRef,
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
      // No user: the image's own USER must make it 65532.
    });
    app.synth();
    symlinkSync(t.mirror, join(outdir, 'providers'));
    const dir = join(outdir, 'stacks', 'images');
    const tag = stack.hello.tag;
    const pin = stack.offlineKit?.sumsDigest as string;
    const repo = `${REGISTRY}/examples/hello-go`;
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
      report image_user "$(docker image inspect -f '{{.Config.User}}' "$(docker inspect -f '{{.Image}}' "$cid")")"
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
      # What was pushed, read with a third-party client (oras), before destroy.
      oras=${JSON.stringify(goTool('oras'))}
      "$oras" discover --plain-http --format json "$(docker inspect -f '{{.Config.Image}}' "$cid")" >"$LOGS/referrers-run.json" || true
      if ${hostGo ? 'true' : 'false'}; then
        "$oras" manifest fetch --plain-http ${repo}:${tag} >"$LOGS/index.json"
        for d in $(grep -o "sha256:[0-9a-f]*" "$LOGS/index.json"); do
          "$oras" manifest fetch --plain-http ${repo}@$d >"$LOGS/manifest-\${d#sha256:}.json"
          "$oras" discover --plain-http --format json ${repo}@$d >"$LOGS/referrers-\${d#sha256:}.json"
        done
      fi
      "$tofu" destroy -auto-approve -input=false -no-color >"$LOGS/destroy.log" 2>&1 || { cat "$LOGS/destroy.log"; exit 1; }
      report destroy ok
      report containers_left "$(docker ps -aq --filter name=agc-hello-smoke | wc -l)"
      report images_left "$(docker images -q ${repo}:${tag} | wc -l)"
      report registry_tags "$(curl -s http://${repo.replace('/examples/hello-go', '')}/v2/examples/hello-go/tags/list)"
    `;
    const r = inEngineNetns(script, dir, outdir, { AIRGAP_KIT: kitBinary() });
    const plan = logFile(outdir, 'plan.log');
    expect({ status: r.status, log: r.status === 0 ? '' : r.log }).toEqual({ status: 0, log: '' });
    expect(r.report).toMatchObject({ init: 'ok', apply: 'ok', running: 'true', healthz: '200', readyz: '200', health: 'healthy', uid: '65532:65532:65532:65532', image_user: '65532:65532', destroy: 'ok' });
    expect({ plan_exit: r.report.plan_exit, plan: r.report.plan_exit === '0' ? '' : plan }).toEqual({ plan_exit: '0', plan: '' });
    expect(r.report.containers_left).toBe('0');
    expect(r.report.images_left).toBe('0');
    if (!hostGo) {
      expect(r.report.image).toMatch(new RegExp(`^${REGISTRY.replace(/\./g, '\\.')}/examples/hello-go@sha256:[0-9a-f]{64}$`));
      expect(r.report.registry_tags).not.toContain(tag);
      // sbom: true from the Dockerfile: airgap-kit sbom attached the document to the pushed image after the push.
      const referrers = JSON.parse(logFile(outdir, 'referrers-run.json') || '{}') as { manifests?: Array<{ artifactType: string }>; referrers?: Array<{ artifactType: string }> };
      expect((referrers.manifests ?? referrers.referrers ?? []).map((x) => x.artifactType)).toEqual(['application/spdx+json']);
      expect(logFile(outdir, 'apply.log')).toMatch(/sbom sha256:[0-9a-f]{64} attached to /);
      return;
    }
    // hostGo keeps its pushed index (keepRemotely is not supported), and its apply log shows the build.
    expect(r.report.registry_tags).toContain(tag);
    const apply = logFile(outdir, 'apply.log');
    expect(apply).toMatch(/linux\/arm64: compiled \d+ packages/);
    const index = JSON.parse(logFile(outdir, 'index.json')) as { mediaType: string; manifests: Array<{ digest: string; platform: { os: string; architecture: string } }> };
    expect(index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`)).toEqual(['linux/amd64', 'linux/arm64']);
    const indexDigest = `sha256:${createHash('sha256').update(readFileSync(join(outdir, 'index.json'))).digest('hex')}`;
    // The index's digest is what flowed into the container (through the docker_image pull).
    expect(apply).toContain(indexDigest);
    for (const m of index.manifests) {
      const referrers = JSON.parse(logFile(outdir, `referrers-${m.digest.slice(7)}.json`)) as { manifests?: Array<{ artifactType: string }>; referrers?: Array<{ artifactType: string }> };
      expect((referrers.manifests ?? referrers.referrers ?? []).map((x) => x.artifactType)).toEqual(['application/spdx+json']);
    }
  });
  test('a broken source fails the apply, and the apply error shows the compiler\'s message', () => {
    const t = toolchain();
    const moduleDir = copyHelloGo();
    const file = join(moduleDir, 'main.go');
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nfunc broken() int { return undefinedName }\n`);
    const { app, stack, outdir } = imageStack(hostGo ? ['linux/amd64'] : undefined, moduleDir);
    app.synth();
    symlinkSync(t.mirror, join(outdir, 'providers'));
    const script = `
      export TF_CLI_CONFIG_FILE=offline/tofurc TF_IN_AUTOMATION=1
      tofu=${JSON.stringify(t.tofu)}
      "$tofu" init -input=false -no-color >"$LOGS/init.log" 2>&1 || { cat "$LOGS/init.log"; exit 1; }
      set +e
      "$tofu" apply -auto-approve -input=false -no-color >"$LOGS/apply.log" 2>&1
      echo "apply_exit=$?" >>"$REPORT"
      "$tofu" destroy -auto-approve -input=false -no-color >"$LOGS/destroy.log" 2>&1
    `;
    const r = inEngineNetns(script, join(outdir, 'stacks', 'images'), outdir, { AIRGAP_KIT: kitBinary() });
    expect(r.status).toBe(0);
    expect(r.report.apply_exit).toBe('1');
    // The error block itself (after "Error:"), not only the streamed output, names the cause.
    const apply = logFile(outdir, 'apply.log');
    const error = apply.slice(apply.indexOf('Error: '));
    // hostGo: the error carries go's output. dockerfile: the provider keeps only the step's
    // text, which names the file on the engine's host that holds the output.
    const named = /whole output is on the engine host in (\S+\.log)/.exec(error)?.[1];
    const shown = hostGo ? error : named && existsSync(named) ? readFileSync(named, 'utf8') : '';
    expect({ found: /main\.go:\d+:\d+: undefined: undefinedName/.test(shown), error: error.slice(0, 4000) }).toEqual({ found: true, error: error.slice(0, 4000) });
    expect(stack.hello.tag).toMatch(/^ctx-/);
  });
});
