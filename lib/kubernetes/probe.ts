import { Duration } from '../core/duration';
import { PropProblem } from '../core/errors';
import { checkInteger, checkPort } from '../private/validation';

/** Timing shared by every kind of probe. */
export interface ProbeOptions {
  /**
   * Time after the container starts before the first probe, in whole seconds.
   * @default Duration.seconds(0)
   */
  readonly initialDelay?: Duration;
  /**
   * Time between probes, in whole seconds.
   * @default Duration.seconds(10)
   */
  readonly period?: Duration;
  /**
   * Time before a probe attempt times out, in whole seconds.
   * @default Duration.seconds(1)
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failures before the probe counts as failed.
   * @default 3
   */
  readonly failureThreshold?: number;
  /**
   * Consecutive successes before a failed probe counts as passing again. Kubernetes
   * requires 1 for liveness and startup probes.
   * @default 1
   */
  readonly successThreshold?: number;
}

/** Options for an HTTP GET probe. */
export interface HttpProbeOptions extends ProbeOptions {
  /**
   * Container port to probe.
   * @default - the service's container port
   */
  readonly port?: number;
}

/**
 * The probe shape the kubernetes provider takes for liveness, readiness and
 * startup probes alike. Every field the API server would default is set, so a
 * plan after apply shows no drift.
 */
export interface RenderedProbe {
  readonly initialDelaySeconds: number;
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly httpGet?: { readonly path: string; readonly port: string; readonly scheme: string };
  readonly tcpSocket?: Array<{ readonly port: string }>;
  readonly exec?: { readonly command: string[] };
}

/** What a probe is for; liveness and startup probes have stricter rules. */
export enum ProbeRole {
  /** Restarts the container when it fails. */
  LIVENESS = 'liveness',
  /** Takes the pod out of the Service's endpoints when it fails. */
  READINESS = 'readiness',
  /** Holds the other probes until the container has started. */
  STARTUP = 'startup',
}

/** A container health probe. Create one with {@link Probe.http}, {@link Probe.tcp} or {@link Probe.exec}. */
export class Probe {
  /** HTTP GET `path` on the container port; 2xx and 3xx pass. */
  static http(path: string, options: HttpProbeOptions = {}): Probe {
    return new Probe('http', path, options.port, options);
  }

  /**
   * TCP connect to `port`.
   * @param port container port @default - the service's container port
   */
  static tcp(port?: number, options: ProbeOptions = {}): Probe {
    return new Probe('tcp', undefined, port, options);
  }

  /**
   * Runs `command` (exec form, no shell) in the container; exit 0 passes. For
   * servers that listen on 127.0.0.1 only, which the kubelet's HTTP and TCP
   * probes cannot reach, and for shell-less images that carry their own checker.
   */
  static exec(command: string[], options: ProbeOptions = {}): Probe {
    return new Probe('exec', undefined, undefined, options, [...command]);
  }

  /** HTTP path, for HTTP probes. */
  public readonly path?: string;
  /** Explicit container port, if any. */
  public readonly port?: number;
  /** Command, for exec probes. */
  public readonly command?: string[];
  private readonly kind: 'http' | 'tcp' | 'exec';
  private readonly options: ProbeOptions;

  private constructor(kind: 'http' | 'tcp' | 'exec', path: string | undefined, port: number | undefined, options: ProbeOptions, command?: string[]) {
    this.kind = kind;
    this.path = path;
    this.port = port;
    this.options = options;
    this.command = command;
  }

  /**
   * Checks the probe for a given role. `prop` is the prop path it sits at.
   * @internal
   */
  _problems(prop: string, role: ProbeRole): PropProblem[] {
    const out: PropProblem[] = [];
    if (this.kind === 'http') {
      const path = this.path ?? '';
      if (typeof path !== 'string' || !path.startsWith('/')) {
        out.push({ prop: `${prop}.path`, value: path, problem: 'does not start with "/"', fix: 'Give an absolute HTTP path such as "/healthz".' });
      } else if (/\s/.test(path)) {
        out.push({ prop: `${prop}.path`, value: path, problem: 'contains white space', fix: 'Percent-encode spaces, or use a path without them.' });
      }
    }
    if (this.kind === 'exec') {
      const cmd = this.command ?? [];
      if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((a) => typeof a !== 'string' || a.length === 0)) {
        out.push({ prop: `${prop}.command`, value: cmd, problem: 'is not a non-empty list of non-empty strings', fix: 'Give the program and its arguments, such as ["/usr/local/bin/app", "-healthcheck"].' });
      } else if (!cmd[0].startsWith('/')) {
        out.push({ prop: `${prop}.command`, value: cmd, problem: 'does not start with an absolute program path', fix: 'Distroless images have no shell or PATH lookup to rely on: use a path such as "/usr/local/bin/app".' });
      }
    }
    if (this.port !== undefined) {
      const p = checkPort(this.port);
      if (p) out.push({ prop: `${prop}.port`, value: this.port, problem: p, fix: 'Use the port the container listens on.' });
    }
    const times: Array<['initialDelay' | 'period' | 'timeout', number]> = [
      ['initialDelay', 0],
      ['period', 1],
      ['timeout', 1],
    ];
    for (const [key, min] of times) {
      const v = this.options[key];
      if (v !== undefined) out.push(...v._problems(`${prop}.${key}`, Duration.seconds(min), Duration.hours(1), 's'));
    }
    const numbers: Array<['failureThreshold' | 'successThreshold', number]> = [
      ['failureThreshold', 1],
      ['successThreshold', 1],
    ];
    for (const [key, min] of numbers) {
      const v = this.options[key];
      if (v === undefined) continue;
      const p = checkInteger(v, min, 3600);
      if (p) out.push({ prop: `${prop}.${key}`, value: v, problem: p, fix: `Use a whole number of at least ${min}.` });
    }
    const success = this.options.successThreshold;
    if (role !== ProbeRole.READINESS && success !== undefined && success !== 1) {
      out.push({
        prop: `${prop}.successThreshold`,
        value: success,
        problem: `is not 1, which Kubernetes requires for ${role} probes`,
        fix: 'Leave successThreshold unset or set it to 1.',
      });
    }
    return out;
  }

  /**
   * Why the probe cannot target a container listening on `ports`, if it cannot:
   * a probe on a port nothing declares fails forever, and the pod never gets ready.
   * @internal
   */
  _portProblem(prop: string, ports: readonly number[]): PropProblem | undefined {
    if (this.kind === 'exec') return undefined;
    const port = this.port ?? ports[0];
    if (port === undefined) {
      return { prop, value: this.kind, problem: 'probes a port, but the container declares none', fix: 'Declare the port the program listens on, or use Probe.exec().' };
    }
    if (!ports.includes(port)) {
      return { prop: `${prop}.port`, value: port, problem: `is not a port the container declares (${ports.join(', ')})`, fix: `Probe one of ${ports.join(', ')}, or declare ${port} on the container.` };
    }
    return undefined;
  }

  /**
   * The provider block for this probe.
   * @internal
   */
  _render(defaultPort: number): RenderedProbe {
    const port = String(this.port ?? defaultPort);
    const timing = {
      initialDelaySeconds: this.options.initialDelay?.toSeconds() ?? 0,
      periodSeconds: this.options.period?.toSeconds() ?? 10,
      timeoutSeconds: this.options.timeout?.toSeconds() ?? 1,
      failureThreshold: this.options.failureThreshold ?? 3,
      successThreshold: this.options.successThreshold ?? 1,
    };
    if (this.kind === 'http') {
      return { ...timing, httpGet: { path: this.path as string, port, scheme: 'HTTP' } };
    }
    if (this.kind === 'exec') {
      return { ...timing, exec: { command: [...(this.command ?? [])] } };
    }
    return { ...timing, tcpSocket: [{ port }] };
  }
}
