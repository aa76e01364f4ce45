import { DockerfileSpec, renderDockerfile, renderDockerignore } from '../../lib/private/dockerfile';
import { ModuleSource } from '../../lib/image/module-source';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const SPEC: DockerfileSpec = {
  builder: `127.0.0.1:5000/library/golang:1.26-bookworm@${D1}`,
  runtime: `127.0.0.1:5000/distroless/static-debian13:nonroot@${D2}`,
  binaryName: 'hello-go',
  mainPackage: '.',
  moduleSource: ModuleSource.vendor(),
  hasGoSum: true,
  ldflags: [],
  buildTags: [],
  ports: [8080],
  sourceDateEpoch: 0,
  labels: {},
  user: '65532:65532',
  cacheMounts: true,
  logName: '127.0.0.1_5000_team_hello-go',
};

function lines(text: string): string[] {
  return text.split('\n');
}

describe('renderDockerfile', () => {
  test('vendor mode snapshot, with the properties that matter pinned', () => {
    const text = renderDockerfile(SPEC);
    expect(text).toMatchSnapshot();
    const l = lines(text);
    const froms = l.filter((x) => x.startsWith('FROM '));
    expect(froms).toEqual([`FROM ${SPEC.builder} AS build`, `FROM ${SPEC.runtime}`]);
    expect(text).toContain('CGO_ENABLED=0');
    expect(text).toContain('GOTOOLCHAIN=local');
    expect(text).toContain('GOFLAGS=-mod=vendor');
    expect(text).toContain('GOPROXY=off');
    // Module layer strictly before the source.
    const modLine = l.indexOf('COPY ["go.mod","go.sum","./"]');
    const vendorLine = l.indexOf('COPY ["vendor/", "vendor/"]');
    const srcLine = l.indexOf('COPY [".", "./"]');
    expect(modLine).toBeGreaterThan(0);
    expect(vendorLine).toBeGreaterThan(modLine);
    expect(srcLine).toBeGreaterThan(vendorLine);
    // One build step, with Go's build cache and the kept log mounted, whose text names the log on the engine host.
    const build = l.filter((x) => x.includes('go build'));
    expect(build).toHaveLength(1);
    expect(build[0]).toMatch(/^RUN --mount=type=cache,target=\/root\/\.cache\/go-build --mount=type=cache,id=airgap-go-constructs-build-logs,target=\/var\/log\/airgap-go-constructs \["sh","-c",/);
    expect(build[0]).toContain('go build -v -trimpath -buildvcs=false \'-ldflags=-s -w -buildid=\' -o /out/rootfs/usr/local/bin/hello-go . >/var/log/airgap-go-constructs/127.0.0.1_5000_team_hello-go.log 2>&1');
    expect(build[0]).toContain('on the engine host in /var/tmp/buildah-cache/airgap-go-constructs-build-logs/127.0.0.1_5000_team_hello-go.log');
    expect(build[0]).toContain('chmod 0555 /out/rootfs/usr/local/bin/hello-go && find /out/rootfs -exec touch -h -d @0 {} +');
    expect(text).toContain('GOCACHE=/root/.cache/go-build');
    expect(text).toContain('COPY --from=build ["/out/rootfs/","/"]');
    expect(l).toContain('USER 65532:65532');
    expect(l).toContain('EXPOSE 8080/tcp');
    expect(l).toContain('ENTRYPOINT ["/usr/local/bin/hello-go"]');
    expect(text).toContain('org.opencontainers.image.created="1970-01-01T00:00:00Z"');
    expect(text).toContain(`org.opencontainers.image.base.digest="${D2}"`);
    expect(text).toContain('org.opencontainers.image.base.name="127.0.0.1:5000/distroless/static-debian13:nonroot"');
    // Only the binary reaches the runtime stage.
    const runtimePart = text.slice(text.indexOf(`FROM ${SPEC.runtime}`));
    expect(runtimePart.match(/^COPY /gm)).toHaveLength(1);
    expect(runtimePart).not.toMatch(/^RUN /m);
  });

  test('proxy mode downloads modules in their own layer, offline-only', () => {
    const text = renderDockerfile({ ...SPEC, moduleSource: ModuleSource.proxy('http://127.0.0.1:3000', { sumdb: 'sum.golang.org http://127.0.0.1:3000/sumdb/sum.golang.org', noSumdb: ['corp.internal'] }) });
    const l = lines(text);
    expect(text).toContain('GOPROXY=http://127.0.0.1:3000,off');
    expect(text).toContain('GOFLAGS=-mod=readonly');
    expect(text).toContain('GOSUMDB="sum.golang.org http://127.0.0.1:3000/sumdb/sum.golang.org"');
    expect(text).toContain('GONOSUMDB=corp.internal');
    expect(l.indexOf('RUN ["go", "mod", "download", "-x"]')).toBeGreaterThan(l.indexOf('COPY ["go.mod","go.sum","./"]'));
    expect(l.indexOf('COPY [".", "./"]')).toBeGreaterThan(l.indexOf('RUN ["go", "mod", "verify"]'));
    expect(text).not.toContain('vendor');
  });

  test('none mode copies go.mod alone when there is no go.sum', () => {
    const text = renderDockerfile({ ...SPEC, moduleSource: ModuleSource.none(), hasGoSum: false });
    expect(text).toContain('COPY ["go.mod","./"]');
    expect(text).toContain('GOPROXY=off');
    expect(text).not.toContain('go mod download');
  });

  test('user flags, tags, ports, labels and epoch reach the text, and nothing reads the clock', () => {
    const text = renderDockerfile({
      ...SPEC,
      mainPackage: './cmd/api',
      binaryName: 'api',
      ldflags: ['-X', 'main.version=1.2.3'],
      buildTags: ['netgo', 'osusergo'],
      ports: [8080, 9090],
      sourceDateEpoch: 1790000000,
      labels: { 'org.opencontainers.image.source': 'https://git.internal/team/api', 'a.label': 'x' },
    });
    expect(text).toContain("-tags=netgo,osusergo '-ldflags=-s -w -buildid= -X main.version=1.2.3' -o /out/rootfs/usr/local/bin/api ./cmd/api >");
    expect(text).toContain('EXPOSE 8080/tcp 9090/tcp');
    expect(text).toContain('org.opencontainers.image.created="2026-09-21T14:13:20Z"');
    expect(text).toContain('find /out/rootfs -exec touch -h -d @1790000000 {} +');
    expect(text.indexOf('a.label')).toBeLessThan(text.indexOf('org.opencontainers.image.source'));
    expect(renderDockerfile(SPEC)).toBe(renderDockerfile({ ...SPEC }));
  });
});

describe('renderDockerfile without cache mounts (Docker\'s legacy builder)', () => {
  test('plain exec-form steps, no --mount, no GOCACHE', () => {
    const text = renderDockerfile({ ...SPEC, cacheMounts: false, ldflags: ['-X', 'main.v=a;b'] });
    expect(text).not.toContain('--mount');
    expect(text).not.toContain('GOCACHE');
    expect(text).toContain('RUN ["go","build","-v","-trimpath","-buildvcs=false","-ldflags=-s -w -buildid= -X main.v=a;b","-o","/out/rootfs/usr/local/bin/hello-go","."]');
    expect(text).toContain('RUN ["sh","-c","chmod 0555 /out/rootfs/usr/local/bin/hello-go && find /out/rootfs -exec touch -h -d @0 {} +"]');
  });

  test('a user value never reaches the shell unquoted', () => {
    const text = renderDockerfile({ ...SPEC, ldflags: ['-X', 'main.v=a;touch$x'], mainPackage: "./it's" });
    expect(text).toContain("'-ldflags=-s -w -buildid= -X main.v=a;touch$x'");
    expect(text).toContain("'./it'\\\\''s'");
  });
});

describe('renderDockerignore', () => {
  test('leaves out VCS, tests and testdata, and vendor unless used', () => {
    const withVendor = lines(renderDockerignore(true));
    expect(withVendor).toEqual(expect.arrayContaining(['**/.git', '**/*_test.go', '**/testdata', '**/node_modules']));
    expect(withVendor).not.toContain('vendor');
    expect(withVendor).not.toContain('**/Dockerfile');
    expect(lines(renderDockerignore(false))).toContain('vendor');
  });
});
