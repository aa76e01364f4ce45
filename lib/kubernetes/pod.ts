import { IConstruct } from 'constructs';
import { AirgapError, PropProblem } from '../core/errors';
import { Duration } from '../core/duration';
import { Size } from '../core/size';
import { amounts, renderResources, ResolvedResources, resolveResources, resourceProblems, withStorage } from '../private/resources';
import { checkEnvVarName, checkInteger, checkObjectName, checkPort } from '../private/validation';
import { renderScheduling, schedulingProblems, SchedulingOptions } from './scheduling';
import { PodSecurityOptOut, RestrictedControl } from './pod-security';
import { Probe, ProbeRole } from './probe';
import { ContainerResources } from './resources';

/** The uid and gid of the distroless `nonroot` user, which every default runs as. */
const NONROOT = 65532;

/** Capabilities Pod Security "restricted" allows a container to add. */
const RESTRICTED_ALLOWED_CAPABILITIES = ['NET_BIND_SERVICE'];

/** Props for {@link ContainerSecurityContext}. */
export interface ContainerSecurityContextProps {
  /**
   * User id the container runs as. 0 needs a {@link PodSecurityOptOut} for RUN_AS_ROOT.
   * @default 65532
   */
  readonly user?: number;
  /**
   * Group id the container runs as.
   * @default 65532
   */
  readonly group?: number;
  /**
   * Mount the root filesystem read-only.
   * @default true
   */
  readonly readOnlyRootFilesystem?: boolean;
  /**
   * Allow privilege escalation (setuid binaries). Needs a {@link PodSecurityOptOut}.
   * @default false
   */
  readonly allowPrivilegeEscalation?: boolean;
  /**
   * Linux capabilities to add after dropping ALL. "restricted" allows only
   * NET_BIND_SERVICE; anything else needs a {@link PodSecurityOptOut}.
   * @default - none
   */
  readonly addCapabilities?: string[];
}

/**
 * The security context of one container: main, sidecar or init container
 * alike. The defaults meet every Pod Security "restricted" control and set
 * each explicitly, so plans show no drift: non-root uid 65532, no privilege
 * escalation, not privileged, read-only root filesystem, all capabilities
 * dropped, RuntimeDefault seccomp. A setting that breaks "restricted" is an
 * error unless the pod carries a {@link PodSecurityOptOut} for it.
 */
export class ContainerSecurityContext {
  /** Every "restricted" control met, nothing added. */
  static restricted(): ContainerSecurityContext {
    return new ContainerSecurityContext({});
  }

  /** User id. */
  public readonly user: number;
  /** Group id. */
  public readonly group: number;
  /** Whether the root filesystem is read-only. */
  public readonly readOnlyRootFilesystem: boolean;
  /** Whether privilege escalation is allowed. */
  public readonly allowPrivilegeEscalation: boolean;
  /** Capabilities added after dropping ALL. */
  public readonly addCapabilities: string[];

  constructor(props: ContainerSecurityContextProps = {}) {
    this.user = props.user ?? NONROOT;
    this.group = props.group ?? NONROOT;
    this.readOnlyRootFilesystem = props.readOnlyRootFilesystem ?? true;
    this.allowPrivilegeEscalation = props.allowPrivilegeEscalation ?? false;
    this.addCapabilities = [...(props.addCapabilities ?? [])];
  }

  /**
   * Problems at `prop`, given the pod's opt-out.
   * @internal
   */
  _problems(prop: string, optOut: PodSecurityOptOut | undefined): PropProblem[] {
    const out: PropProblem[] = [];
    const needs = (control: RestrictedControl) => !optOut?.covers(control);
    const id = (key: string, v: number) => {
      const p = checkInteger(v, 0, 2147483647);
      if (p) out.push({ prop: `${prop}.${key}`, value: v, problem: p, fix: `Use an id such as ${NONROOT}.` });
    };
    id('user', this.user);
    id('group', this.group);
    if (this.user === 0 && needs(RestrictedControl.RUN_AS_ROOT)) {
      out.push({ prop: `${prop}.user`, value: 0, problem: 'runs the container as root, which Pod Security "restricted" forbids', fix: optOutFix(RestrictedControl.RUN_AS_ROOT, `or use a non-root uid such as ${NONROOT}`) });
    }
    if (this.allowPrivilegeEscalation && needs(RestrictedControl.PRIVILEGE_ESCALATION)) {
      out.push({ prop: `${prop}.allowPrivilegeEscalation`, value: true, problem: 'Pod Security "restricted" forbids', fix: optOutFix(RestrictedControl.PRIVILEGE_ESCALATION, 'or leave it false') });
    }
    const extra = this.addCapabilities.filter((cap) => !RESTRICTED_ALLOWED_CAPABILITIES.includes(cap));
    if (extra.length > 0 && needs(RestrictedControl.CAPABILITIES)) {
      out.push({
        prop: `${prop}.addCapabilities`,
        value: this.addCapabilities,
        problem: `adds ${extra.join(', ')}, and Pod Security "restricted" allows only NET_BIND_SERVICE`,
        fix: optOutFix(RestrictedControl.CAPABILITIES, 'or drop them'),
      });
    }
    return out;
  }

  /** @internal */
  _render() {
    return {
      runAsNonRoot: this.user !== 0,
      runAsUser: String(this.user),
      runAsGroup: String(this.group),
      allowPrivilegeEscalation: this.allowPrivilegeEscalation,
      privileged: false,
      readOnlyRootFilesystem: this.readOnlyRootFilesystem,
      capabilities: { drop: ['ALL'], add: this.addCapabilities.length > 0 ? [...this.addCapabilities] : undefined },
      seccompProfile: { type: 'RuntimeDefault' },
    };
  }
}

/** Options for {@link Volume.emptyDir}. */
export interface EmptyDirOptions {
  /**
   * Size limit; the kubelet evicts the pod above it.
   * @default Size.mebibytes(64)
   */
  readonly sizeLimit?: Size;
}

/** Options for {@link Volume.configMap} and {@link Volume.secret}. */
export interface ObjectVolumeOptions {
  /**
   * Start the pod even when the object or a listed key is missing.
   * @default false
   */
  readonly optional?: boolean;
  /**
   * Only these keys, each at the relative file path given.
   * @default - every key, as a file of its name
   */
  readonly items?: { [key: string]: string };
}

/** A pod volume: a size-limited scratch folder, or a ConfigMap's or Secret's keys as read-only files. */
export class Volume {
  /** A scratch folder that lives as long as the pod, on the node's disk. */
  static emptyDir(name: string, options: EmptyDirOptions = {}): Volume {
    return new Volume(name, 'emptyDir', options.sizeLimit ?? Size.mebibytes(64), undefined, {});
  }

  /** The keys of ConfigMap `configMapName` as files; mounted read-only. */
  static configMap(name: string, configMapName: string, options: ObjectVolumeOptions = {}): Volume {
    return new Volume(name, 'configMap', undefined, configMapName, options);
  }

  /** The keys of Secret `secretName` as files readable by the pod's group only; mounted read-only. */
  static secret(name: string, secretName: string, options: ObjectVolumeOptions = {}): Volume {
    return new Volume(name, 'secret', undefined, secretName, options);
  }

  private constructor(
    /** Volume name, unique in the pod. */
    public readonly name: string,
    private readonly kind: 'emptyDir' | 'configMap' | 'secret',
    /** Size limit of an emptyDir; undefined for ConfigMap and Secret volumes. */
    public readonly sizeLimit: Size | undefined,
    /** Name of the ConfigMap or Secret, for those volumes. */
    public readonly objectName: string | undefined,
    private readonly options: ObjectVolumeOptions,
  ) {}

  /** Whether it can only be mounted read-only (ConfigMap and Secret volumes). */
  get readOnlyOnly(): boolean {
    return this.kind !== 'emptyDir';
  }

  /** @internal */
  _problems(): PropProblem[] {
    const out: PropProblem[] = [];
    if (this.sizeLimit) out.push(...this.sizeLimit._problems(`volume "${this.name}" sizeLimit`));
    if (this.objectName !== undefined) {
      const p = checkObjectName(this.objectName);
      if (p) out.push({ prop: `volume "${this.name}" ${this.kind}`, value: this.objectName, problem: p, fix: `Use the name of a ${this.kind === 'secret' ? 'Secret' : 'ConfigMap'} in the namespace.` });
    }
    for (const [key, path] of Object.entries(this.options.items ?? {})) {
      if (typeof path !== 'string' || path === '' || path.startsWith('/') || path.split('/').includes('..')) {
        out.push({ prop: `volume "${this.name}" items["${key}"]`, value: path, problem: 'is not a relative path inside the volume', fix: 'Use a relative file name such as "config.yaml".' });
      }
    }
    return out;
  }

  /** @internal */
  _render() {
    const items = this.options.items ? Object.entries(this.options.items).map(([key, path]) => ({ key, path })) : undefined;
    if (this.kind === 'configMap') return { name: this.name, configMap: { name: this.objectName, optional: this.options.optional ?? false, defaultMode: '0444', items } };
    if (this.kind === 'secret') return { name: this.name, secret: { secretName: this.objectName, optional: this.options.optional ?? false, defaultMode: '0440', items } };
    return { name: this.name, emptyDir: { sizeLimit: (this.sizeLimit as Size).toQuantity() } };
  }
}

/** Options for {@link EnvValue.fromSecretKey} and {@link EnvValue.fromConfigMapKey}. */
export interface EnvKeyOptions {
  /**
   * Start the container even when the object or key is missing.
   * @default false
   */
  readonly optional?: boolean;
}

/** The value of one environment variable: text, or a key of a Secret or ConfigMap read at pod start. */
export class EnvValue {
  /** Literal text. */
  static fromValue(value: string): EnvValue {
    return new EnvValue('value', value, undefined, {});
  }

  /** Key `key` of Secret `secretName`; the value never enters the Terraform configuration. */
  static fromSecretKey(secretName: string, key: string, options: EnvKeyOptions = {}): EnvValue {
    return new EnvValue('secret', secretName, key, options);
  }

  /** Key `key` of ConfigMap `configMapName`. */
  static fromConfigMapKey(configMapName: string, key: string, options: EnvKeyOptions = {}): EnvValue {
    return new EnvValue('configMap', configMapName, key, options);
  }

  private constructor(
    private readonly kind: 'value' | 'secret' | 'configMap',
    private readonly text: string,
    private readonly key: string | undefined,
    private readonly options: EnvKeyOptions,
  ) {}

  /** The literal text, for values made by {@link EnvValue.fromValue}. */
  get value(): string | undefined {
    return this.kind === 'value' ? this.text : undefined;
  }

  /** @internal */
  _problems(prop: string): PropProblem[] {
    if (this.kind === 'value') {
      return typeof this.text === 'string' ? [] : [{ prop, value: this.text, problem: 'is not a string', fix: 'Quote the value, e.g. "8080".' }];
    }
    const out: PropProblem[] = [];
    const what = this.kind === 'secret' ? 'Secret' : 'ConfigMap';
    const p = checkObjectName(this.text);
    if (p) out.push({ prop: `${prop}.${this.kind}Name`, value: this.text, problem: p, fix: `Use the name of a ${what} in the namespace.` });
    if (typeof this.key !== 'string' || !/^[-._a-zA-Z0-9]{1,253}$/.test(this.key)) {
      out.push({ prop: `${prop}.key`, value: this.key, problem: `is not a ${what} key`, fix: 'Use letters, digits, "-", "_" and ".", such as "password".' });
    }
    return out;
  }

  /** @internal */
  _render(name: string) {
    if (this.kind === 'value') return { name, value: this.text };
    const ref = { name: this.text, key: this.key, optional: this.options.optional ?? false };
    return { name, valueFrom: this.kind === 'secret' ? { secretKeyRef: ref } : { configMapKeyRef: ref } };
  }
}

/** Options for {@link EnvSource.secret} and {@link EnvSource.configMap}. */
export interface EnvSourceOptions {
  /**
   * Prefix added to every variable name.
   * @default - none
   */
  readonly prefix?: string;
  /**
   * Start the container even when the object is missing.
   * @default false
   */
  readonly optional?: boolean;
}

/** Every key of a Secret or ConfigMap as environment variables (`envFrom`). */
export class EnvSource {
  /** Every key of Secret `secretName`. */
  static secret(secretName: string, options: EnvSourceOptions = {}): EnvSource {
    return new EnvSource('secret', secretName, options);
  }

  /** Every key of ConfigMap `configMapName`. */
  static configMap(configMapName: string, options: EnvSourceOptions = {}): EnvSource {
    return new EnvSource('configMap', configMapName, options);
  }

  private constructor(
    private readonly kind: 'secret' | 'configMap',
    /** Name of the Secret or ConfigMap. */
    public readonly objectName: string,
    private readonly options: EnvSourceOptions,
  ) {}

  /** @internal */
  _problems(prop: string): PropProblem[] {
    const out: PropProblem[] = [];
    const what = this.kind === 'secret' ? 'Secret' : 'ConfigMap';
    const p = checkObjectName(this.objectName);
    if (p) out.push({ prop: `${prop}.${this.kind}Name`, value: this.objectName, problem: p, fix: `Use the name of a ${what} in the namespace.` });
    const prefix = this.options.prefix;
    if (prefix !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(prefix)) {
      out.push({ prop: `${prop}.prefix`, value: prefix, problem: 'is not the start of an environment variable name', fix: 'Use letters, digits and "_", such as "DB_".' });
    }
    return out;
  }

  /** @internal */
  _key(): string {
    return `${this.kind}/${this.objectName}`;
  }

  /** @internal */
  _render() {
    const ref = { name: this.objectName, optional: this.options.optional ?? false };
    return { prefix: this.options.prefix, ...(this.kind === 'secret' ? { secretRef: ref } : { configMapRef: ref }) };
  }
}

/** Options for {@link Container.mount}. */
export interface MountOptions {
  /**
   * Mount it read-only.
   * @default - writable
   */
  readonly readOnly?: boolean;
}

/** A port a container listens on. */
export interface ContainerPort {
  /** The port number. */
  readonly number: number;
  /**
   * Port name, which Services and probes can target.
   * @default - unnamed
   */
  readonly name?: string;
  /**
   * Listens on 127.0.0.1 only: reserved in the pod, so no other container
   * takes it, but not declared in the pod spec, since nothing outside the pod
   * can reach it.
   * @default false
   */
  readonly localOnly?: boolean;
}

/** Props for {@link Container}. */
export interface ContainerProps {
  /** Container name, unique in the pod (init containers included). */
  readonly name: string;
  /** Image, pinned by digest or a GoImage `imageRef`. */
  readonly image: string;
  /**
   * Entrypoint override (exec form).
   * @default - the image's entrypoint
   */
  readonly command?: string[];
  /**
   * Arguments to the entrypoint.
   * @default - none
   */
  readonly args?: string[];
  /**
   * Ports the container listens on.
   * @default - none
   */
  readonly ports?: ContainerPort[];
  /**
   * Environment variables; more can be added with {@link Container.addEnv}.
   * @default - none
   */
  readonly env?: { [name: string]: string };
  /**
   * Environment variables from Secret or ConfigMap keys (or text); a name may not also be in `env`.
   * @default - none
   */
  readonly envValues?: { [name: string]: EnvValue };
  /**
   * Every key of these Secrets and ConfigMaps as environment variables.
   * @default - none
   */
  readonly envFrom?: EnvSource[];
  /**
   * CPU, memory and ephemeral storage.
   * @default - cpu 100m/500m, memory 64Mi/256Mi, ephemeral storage 16Mi/64Mi
   */
  readonly resources?: ContainerResources;
  /**
   * Liveness probe.
   * @default - none
   */
  readonly liveness?: Probe;
  /**
   * Readiness probe.
   * @default - none
   */
  readonly readiness?: Probe;
  /**
   * Startup probe.
   * @default - none
   */
  readonly startup?: Probe;
  /**
   * Security context.
   * @default ContainerSecurityContext.restricted()
   */
  readonly securityContext?: ContainerSecurityContext;
}

interface Mount {
  readonly path: string;
  readonly volume: Volume;
  readonly readOnly?: boolean;
}

/**
 * One container of a {@link Pod}: image, ports, environment, mounts, probes,
 * resources and a restricted security context. Rendered at synth, so
 * environment and mounts added after it joined a pod are included.
 */
export class Container {
  /** Container name. */
  public readonly name: string;
  /** Image. */
  public readonly image: string;
  /** Ports it listens on. */
  public readonly ports: ContainerPort[];
  /** Security context. */
  public readonly securityContext: ContainerSecurityContext;
  private readonly props: ContainerProps;
  private readonly envVars: Array<[string, EnvValue]> = [];
  private readonly envSources: EnvSource[] = [];
  private readonly mounts: Mount[] = [];
  /** Problems found before the container joined a pod, reported when it does, at whoever adds it. */
  private readonly pending: PropProblem[] = [];
  /** The pod it belongs to, once added. */
  private pod?: Pod;

  constructor(props: ContainerProps) {
    this.props = props;
    this.name = props.name;
    this.image = props.image;
    this.ports = [...(props.ports ?? [])];
    this.securityContext = props.securityContext ?? ContainerSecurityContext.restricted();
    const pending: Array<[string, EnvValue]> = [
      ...Object.entries(props.env ?? {}).map(([name, value]): [string, EnvValue] => [name, EnvValue.fromValue(value)]),
      ...Object.entries(props.envValues ?? {}),
    ];
    for (const [name, value] of pending) {
      if (this.envVars.some(([n]) => n === name)) {
        this.pending.push({ prop: `envValues["${name}"]`, value: name, problem: 'is also set in env', fix: `Set "${name}" once: in env or in envValues.` });
      } else this.envVars.push([name, value]);
    }
    this.envSources.push(...(props.envFrom ?? []));
  }

  /** Literal environment variables, in the order set (Secret and ConfigMap references are left out). */
  get env(): { [name: string]: string } {
    const out: { [name: string]: string } = {};
    for (const [name, v] of this.envVars) if (v.value !== undefined) out[name] = v.value;
    return out;
  }

  /** Sets an environment variable. Refuses a name the container already sets. */
  addEnv(name: string, value: string): void {
    this.addEnvValue(name, EnvValue.fromValue(value));
  }

  /** Sets an environment variable from a Secret or ConfigMap key, or text. Refuses a name the container already sets. */
  addEnvValue(name: string, value: EnvValue): void {
    const problems: PropProblem[] = [];
    const bad = checkEnvVarName(name);
    if (bad) problems.push({ prop: 'env', value: name, problem: bad, fix: 'Rename it to letters, digits and "_", such as "LOG_LEVEL".' });
    if (!(value instanceof EnvValue)) problems.push({ prop: `env["${name}"]`, value, problem: 'is not an EnvValue', fix: 'Use EnvValue.fromValue("text"), EnvValue.fromSecretKey(…) or EnvValue.fromConfigMapKey(…).' });
    else problems.push(...value._problems(`env["${name}"]`));
    if (this.envVars.some(([n]) => n === name)) {
      problems.push({ prop: 'env', value: name, problem: `is already set on ${this.describe()}`, fix: `Set "${name}" once: remove it from one of the two places that set it.` });
    }
    if (this.raise(problems)) this.envVars.push([name, value]);
  }

  /** Adds every key of a Secret or ConfigMap as environment variables. Refuses one the container already reads. */
  addEnvFrom(source: EnvSource): void {
    const problems = source._problems('envFrom');
    if (this.envSources.some((s) => s._key() === source._key())) {
      problems.push({ prop: 'envFrom', value: source.objectName, problem: `is already read by ${this.describe()}`, fix: 'Read each Secret or ConfigMap once.' });
    }
    if (this.raise(problems)) this.envSources.push(source);
  }

  /** Mounts `volume` at `path`. Refuses a path the container already mounts something at. */
  mount(path: string, volume: Volume, options: MountOptions = {}): void {
    const problems: PropProblem[] = [];
    if (typeof path !== 'string' || !path.startsWith('/')) {
      problems.push({ prop: 'mount path', value: path, problem: 'is not an absolute path', fix: 'Use a path such as "/var/run/app".' });
    }
    const clash = this.mounts.find((m) => m.path === path);
    if (clash) {
      problems.push({ prop: 'mount path', value: path, problem: `already holds volume "${clash.volume.name}" in ${this.describe()}`, fix: 'Mount each volume at its own path.' });
    }
    if (volume.readOnlyOnly && options.readOnly === false) {
      problems.push({ prop: 'mount readOnly', value: false, problem: `is refused for volume "${volume.name}": ConfigMap and Secret volumes are mounted read-only`, fix: 'Leave readOnly out; copy the files to an emptyDir if the program must write beside them.' });
    }
    if (this.raise(problems)) this.mounts.push({ path, volume, readOnly: volume.readOnlyOnly ? true : options.readOnly });
  }

  /** The volumes it mounts. */
  get volumes(): Volume[] {
    return this.mounts.map((m) => m.volume);
  }

  /**
   * Problems with the container's own props.
   * @internal
   */
  _problems(prop: string, optOut: PodSecurityOptOut | undefined, init: boolean): PropProblem[] {
    const out: PropProblem[] = [...this.pending];
    for (const [name, value] of this.envVars) {
      const bad = checkEnvVarName(name);
      if (bad) out.push({ prop: `${prop}env key`, value: name, problem: bad, fix: 'Rename it to letters, digits and "_", such as "LOG_LEVEL".' });
      out.push(...value._problems(`${prop}env["${name}"]`));
    }
    this.envSources.forEach((s, i) => out.push(...s._problems(`${prop}envFrom[${i}]`)));
    for (const [i, p] of this.ports.entries()) {
      const bad = checkPort(p.number);
      if (bad) out.push({ prop: `${prop}port${this.ports.length > 1 ? `s[${i}]` : ''}`, value: p.number, problem: bad, fix: 'Use the port the program listens on, such as 8080.' });
    }
    out.push(...resourceProblems(`${prop}resources`, resolveResources(this.props.resources)));
    if (init && (this.props.liveness || this.props.readiness || this.props.startup)) {
      out.push({ prop: `${prop}probes`, value: this.name, problem: 'are set on an init container, which Kubernetes does not probe', fix: 'Drop the probes; an init container succeeds by exiting 0.' });
    }
    const ports = this.ports.map((p) => p.number);
    const probes: Array<[string, Probe | undefined, ProbeRole]> = [
      ['liveness', this.props.liveness, ProbeRole.LIVENESS],
      ['readiness', this.props.readiness, ProbeRole.READINESS],
      ['startup', this.props.startup, ProbeRole.STARTUP],
    ];
    for (const [key, probe, role] of probes) {
      if (!probe) continue;
      out.push(...probe._problems(`${prop}${key}`, role));
      const bad = probe._portProblem(`${prop}${key}`, ports);
      if (bad) out.push(bad);
    }
    out.push(...this.securityContext._problems(`${prop}securityContext`, optOut));
    return out;
  }

  /** @internal */
  _attach(pod: Pod): void {
    this.pod = pod;
  }

  /** @internal */
  _mark(): () => void {
    const env = this.envVars.length;
    const sources = this.envSources.length;
    const mounts = this.mounts.length;
    return () => {
      this.envVars.length = env;
      this.envSources.length = sources;
      this.mounts.length = mounts;
    };
  }

  /**
   * Its resources, with `extraStorage` bytes of emptyDir it is charged for.
   * @internal
   */
  _resources(extraStorage: number): ResolvedResources {
    return withStorage(resolveResources(this.props.resources), extraStorage);
  }

  /**
   * The provider's container block.
   * @internal
   */
  _render(resources?: ResolvedResources) {
    const port = this.ports[0]?.number ?? 0;
    const declared = this.ports.filter((p) => !p.localOnly);
    return {
      name: this.name,
      image: this.image,
      imagePullPolicy: 'IfNotPresent',
      command: this.props.command ? [...this.props.command] : undefined,
      args: this.props.args ? [...this.props.args] : undefined,
      port: declared.length > 0 ? declared.map((p) => ({ name: p.name, containerPort: p.number, protocol: 'TCP' })) : undefined,
      env: this.envVars.length > 0 ? this.envVars.map(([name, value]) => value._render(name)) : undefined,
      envFrom: this.envSources.length > 0 ? this.envSources.map((s) => s._render()) : undefined,
      resources: renderResources(resources ?? this._resources(0)),
      livenessProbe: this.props.liveness?._render(port),
      readinessProbe: this.props.readiness?._render(port),
      startupProbe: this.props.startup?._render(port),
      securityContext: this.securityContext._render(),
      volumeMount: this.mounts.length > 0 ? this.mounts.map((m) => ({ name: m.volume.name, mountPath: m.path, readOnly: m.readOnly })) : undefined,
    };
  }

  private describe(): string {
    return this.pod ? this.pod._describeContainer(this) : `container "${this.name}"`;
  }

  /** Throws at the pod's current author once in a pod; before that, keeps the problems for the pod to report. Returns false when the change must not be made. */
  private raise(problems: PropProblem[]): boolean {
    if (problems.length === 0) return true;
    if (this.pod) this.pod._raise(problems);
    this.pending.push(...problems);
    return false;
  }
}

/**
 * Something that adds containers, init containers, volumes or environment to
 * a workload's pod, such as an OfflineMirror sidecar. Given to
 * `GoService.addExtension`, which calls {@link IPodExtension.bind}; any clash
 * it causes is reported at the extension's construct path and undone.
 */
export interface IPodExtension extends IConstruct {
  /** Adds what the extension needs to `pod`. */
  bind(pod: Pod): void;
}

/** Props for {@link Pod}. */
export interface PodProps {
  /**
   * Group of the pod's volumes (`fsGroup`) and default group.
   * @default 65532
   */
  readonly fsGroup?: number;
  /**
   * Explicit opt-out from named Pod Security "restricted" controls, for every container of the pod.
   * @default - none: any setting that breaks "restricted" is an error
   */
  readonly podSecurityOptOut?: PodSecurityOptOut;
  /**
   * Seconds between SIGTERM and SIGKILL.
   * @default Duration.seconds(30)
   */
  readonly terminationGracePeriod?: Duration;
  /**
   * Service account the pod runs as. Its token is never mounted.
   * @default - the namespace's `default` service account
   */
  readonly serviceAccountName?: string;
  /**
   * Secrets with registry credentials for pulling the pod's images.
   * @default - none
   */
  readonly imagePullSecrets?: string[];
  /**
   * Where the pod may and should run.
   * @default - anywhere; replicas prefer different nodes
   */
  readonly scheduling?: SchedulingOptions;
  /**
   * Labels that select the workload's pods, which the replica spread uses.
   * @default - no spread is rendered
   */
  readonly selectorLabels?: { [key: string]: string };
}

/** A container's resources as the pod charges them, for quota and LimitRange checks. */
export interface ChargedContainer {
  /** Who added it, for messages. */
  readonly who: string;
  /** Container name. */
  readonly name: string;
  /** Whether it is an init container. */
  readonly init: boolean;
  /** Its resources, emptyDir volumes included. */
  readonly resources: ResolvedResources;
}

/**
 * The pod of a workload: containers, init containers, volumes and the pod's
 * security context, rendered at synth. Every add refuses a clash (a container
 * or volume name, a port, an environment variable, a mount path) with an
 * AirgapError naming who added it, and changes nothing then.
 */
export class Pod {
  /** The opt-out the pod carries, if any. */
  public readonly podSecurityOptOut?: PodSecurityOptOut;
  private readonly props: PodProps;
  private readonly owner: IConstruct;
  private readonly ownerKind: string;
  private readonly containerList: Container[] = [];
  private readonly initContainerList: Container[] = [];
  private readonly volumeList: Volume[] = [];
  private readonly extraPullSecrets: string[] = [];
  /** Who added each container, for messages. */
  private readonly addedBy = new Map<Container, string>();
  /** The construct currently binding, whose path errors name. */
  private binder?: { readonly scope: IConstruct; readonly kind: string };

  /**
   * @param owner the construct that renders the pod; errors name its path
   * @param ownerKind its kind, for messages (`GoService`)
   */
  constructor(owner: IConstruct, ownerKind: string, props: PodProps = {}) {
    this.owner = owner;
    this.ownerKind = ownerKind;
    this.props = props;
    this.podSecurityOptOut = props.podSecurityOptOut;
  }

  /** The containers, main container first. */
  get containers(): Container[] {
    return [...this.containerList];
  }

  /** The init containers, in the order they run. */
  get initContainers(): Container[] {
    return [...this.initContainerList];
  }

  /** The volumes. */
  get volumes(): Volume[] {
    return [...this.volumeList];
  }

  /** Names of the Secrets the pod pulls its images with, the owner's included. */
  get imagePullSecrets(): string[] {
    return [...new Set([...(this.props.imagePullSecrets ?? []), ...this.extraPullSecrets])];
  }

  /** Adds a Secret of registry credentials to pull the pod's images with. */
  addImagePullSecret(secretName: string): void {
    const p = checkObjectName(secretName);
    this._raise(p ? [{ prop: 'imagePullSecrets', value: secretName, problem: p, fix: 'Use the name of a kubernetes.io/dockerconfigjson Secret in the namespace.' }] : []);
    this.extraPullSecrets.push(secretName);
  }

  /**
   * Each container with the resources the pod charges it, emptyDirs included:
   * each emptyDir's size limit goes to the first container that mounts it, or
   * to the main container when only init containers do, since the files stay
   * on the node's disk for the pod's life.
   * @internal
   */
  _charged(): ChargedContainer[] {
    const extra = new Map<Container, number>();
    for (const v of this.volumeList) {
      if (!v.sizeLimit) continue;
      const owner = this.containerList.find((c) => c.volumes.includes(v)) ?? this.containerList[0];
      if (owner) extra.set(owner, (extra.get(owner) ?? 0) + v.sizeLimit.toBytes());
    }
    const out: ChargedContainer[] = [];
    for (const c of this.containerList) out.push({ who: this._describeContainer(c), name: c.name, init: false, resources: c._resources(extra.get(c) ?? 0) });
    for (const c of this.initContainerList) out.push({ who: this._describeContainer(c), name: c.name, init: true, resources: c._resources(0) });
    return out;
  }

  /**
   * The pod's effective requests and limits as the scheduler and ResourceQuota
   * count them: the larger of the containers' sum and the largest init container.
   * @internal
   */
  _effective(): ReturnType<typeof amounts> {
    const zero = { cpu: 0, memory: 0, storage: 0 };
    const sum = { requests: { ...zero }, limits: { ...zero } };
    const init = { requests: { ...zero }, limits: { ...zero } };
    for (const c of this._charged()) {
      const a = amounts(c.resources);
      for (const side of ['requests', 'limits'] as const) {
        for (const k of ['cpu', 'memory', 'storage'] as const) {
          if (c.init) init[side][k] = Math.max(init[side][k], a[side][k]);
          else sum[side][k] += a[side][k];
        }
      }
    }
    const pick = (side: 'requests' | 'limits') => ({
      cpu: Math.max(sum[side].cpu, init[side].cpu),
      memory: Math.max(sum[side].memory, init[side].memory),
      storage: Math.max(sum[side].storage, init[side].storage),
    });
    return { requests: pick('requests'), limits: pick('limits') };
  }

  /** Adds a container that runs beside the others. */
  addContainer(container: Container): void {
    this.add(container, false);
  }

  /** Adds an init container, run to completion before the containers start, after those added before it. */
  addInitContainer(container: Container): void {
    this.add(container, true);
  }

  /** Adds a volume. Refuses a name the pod already has. */
  addVolume(volume: Volume): void {
    const problems = volume._problems();
    if (this.volumeList.some((v) => v.name === volume.name)) {
      problems.push({ prop: 'volume name', value: volume.name, problem: `is already a volume of ${this.ownerKind} ${this.owner.node.path}`, fix: 'Give the volume another name.' });
    }
    this._raise(problems);
    this.volumeList.push(volume);
  }

  /** Who listens on `port` in the pod, or undefined when nobody does. */
  portUser(port: number): string | undefined {
    for (const c of [...this.containerList, ...this.initContainerList]) {
      if (c.ports.some((p) => p.number === port)) return this.addedBy.get(c);
    }
    return undefined;
  }

  /**
   * Runs `bind` on behalf of `scope`: problems are reported at its path, and
   * everything it added is undone when it throws.
   * @internal
   */
  _bindFrom(scope: IConstruct, kind: string, bind: () => void): void {
    const marks = [...this.containerList, ...this.initContainerList].map((c) => c._mark());
    const lengths = [this.containerList.length, this.initContainerList.length, this.volumeList.length];
    this.binder = { scope, kind };
    try {
      bind();
    } catch (e) {
      marks.forEach((undo) => undo());
      for (const c of [...this.containerList.slice(lengths[0]), ...this.initContainerList.slice(lengths[1])]) this.addedBy.delete(c);
      this.containerList.length = lengths[0];
      this.initContainerList.length = lengths[1];
      this.volumeList.length = lengths[2];
      throw e;
    } finally {
      this.binder = undefined;
    }
  }

  /** @internal */
  _describeContainer(container: Container): string {
    return this.addedBy.get(container) ?? `container "${container.name}"`;
  }

  /** @internal */
  _raise(problems: PropProblem[]): void {
    if (problems.length === 0) return;
    const at = this.binder ?? { scope: this.owner, kind: this.ownerKind };
    throw new AirgapError(at.scope.node.path, at.kind, problems);
  }

  /**
   * Problems of the pod itself, for the owner to report with its props.
   * @internal
   */
  _problems(): PropProblem[] {
    const out: PropProblem[] = [];
    const grace = this.props.terminationGracePeriod;
    if (grace) out.push(...grace._problems('terminationGracePeriod', Duration.seconds(0), Duration.hours(1), 's'));
    const fsGroup = this.props.fsGroup;
    if (fsGroup !== undefined) {
      const p = checkInteger(fsGroup, 0, 2147483647);
      if (p) out.push({ prop: 'fsGroup', value: fsGroup, problem: p, fix: `Use a gid such as ${NONROOT}.` });
    }
    for (const name of this.props.imagePullSecrets ?? []) {
      const p = checkObjectName(name);
      if (p) out.push({ prop: 'imagePullSecrets', value: name, problem: p, fix: 'Use the name of a kubernetes.io/dockerconfigjson Secret in the namespace.' });
    }
    out.push(...schedulingProblems('scheduling', this.props.scheduling));
    const optOut = this.podSecurityOptOut;
    if (optOut && (typeof optOut.reason !== 'string' || optOut.reason.trim().length < 10)) {
      out.push({ prop: 'podSecurityOptOut.reason', value: optOut.reason, problem: 'is shorter than 10 characters', fix: 'Say why the workload needs to break "restricted", so reviewers can judge it.' });
    }
    return out;
  }

  /**
   * The provider's pod spec.
   * @internal
   */
  _render() {
    const main = this.containerList[0];
    const user = main?.securityContext.user ?? NONROOT;
    const group = main?.securityContext.group ?? NONROOT;
    const charged = new Map(this._charged().map((c) => [c.name, c]));
    const pullSecrets = this.imagePullSecrets;
    const scheduling = this.props.selectorLabels ? renderScheduling(this.props.scheduling, this.props.selectorLabels) : {};
    return {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      hostNetwork: false,
      hostPid: false,
      hostIpc: false,
      serviceAccountName: this.props.serviceAccountName,
      terminationGracePeriodSeconds: (this.props.terminationGracePeriod ?? Duration.seconds(30)).toSeconds(),
      securityContext: {
        runAsNonRoot: user !== 0,
        runAsUser: String(user),
        runAsGroup: String(group),
        fsGroup: String(this.props.fsGroup ?? group),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      imagePullSecrets: pullSecrets.length > 0 ? pullSecrets.map((name) => ({ name })) : undefined,
      ...scheduling,
      container: this.containerList.map((c) => c._render(charged.get(c.name)?.resources)),
      initContainer: this.initContainerList.length > 0 ? this.initContainerList.map((c) => c._render()) : undefined,
      volume: this.volumeList.length > 0 ? this.volumeList.map((v) => v._render()) : undefined,
    };
  }

  private add(container: Container, init: boolean): void {
    const who = this.binder ? `${this.binder.kind} ${this.binder.scope.node.path}` : this.containerList.length === 0 && !init ? `the main container of ${this.ownerKind} ${this.owner.node.path}` : `container "${container.name}" of ${this.ownerKind} ${this.owner.node.path}`;
    const problems = container._problems(this.containerList.length === 0 && !init && !this.binder ? '' : `container "${container.name}" `, this.podSecurityOptOut, init);
    if ([...this.containerList, ...this.initContainerList].some((c) => c.name === container.name)) {
      problems.push({ prop: 'container name', value: container.name, problem: `is already a container of ${this.ownerKind} ${this.owner.node.path}`, fix: 'Give the extension a different id or name.' });
    }
    for (const p of container.ports) {
      const user = this.portUser(p.number);
      if (user) problems.push({ prop: 'port', value: p.number, problem: `is a port ${user} already listens on; containers of one pod share its network namespace`, fix: `Pick a free port, such as ${this.freePort(p.number)}.` });
    }
    for (const v of container.volumes) {
      if (!this.volumeList.includes(v)) {
        problems.push({ prop: 'volume', value: v.name, problem: `is mounted by container "${container.name}" but is not a volume of the pod`, fix: 'Add the volume with pod.addVolume() before the container that mounts it.' });
      }
    }
    this._raise(problems);
    container._attach(this);
    this.addedBy.set(container, who);
    (init ? this.initContainerList : this.containerList).push(container);
  }

  /** The first port above `from` nobody in the pod uses, for fix hints. */
  private freePort(from: number): number {
    let p = from + 1;
    while (this.portUser(p) !== undefined) p++;
    return p;
  }
}

function optOutFix(control: RestrictedControl, alternative: string): string {
  const key = (Object.keys(RestrictedControl) as Array<keyof typeof RestrictedControl>).find((k) => RestrictedControl[k] === control) ?? control;
  return `Pass podSecurityOptOut: PodSecurityOptOut.allow("<why>", RestrictedControl.${key}) to accept that, ${alternative}.`;
}
