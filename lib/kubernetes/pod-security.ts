/** The Pod Security "restricted" controls a container setting can break. */
export enum RestrictedControl {
  /** `runAsUser: 0` needs `runAsNonRoot: false`. */
  RUN_AS_ROOT = 'runAsRoot',
  /** `allowPrivilegeEscalation: true`. */
  PRIVILEGE_ESCALATION = 'allowPrivilegeEscalation',
  /** Adding any capability other than NET_BIND_SERVICE. */
  CAPABILITIES = 'capabilities',
}

/**
 * An explicit, reasoned opt-out from named Pod Security "restricted" controls,
 * given to a {@link Pod}. Pods so configured are rejected by namespaces that
 * enforce "restricted", including every PreviewEnvironment.
 */
export class PodSecurityOptOut {
  /**
   * Allows the given controls to be broken.
   * @param reason why, at least 10 characters; it is written to the Deployment's annotations
   */
  static allow(reason: string, ...controls: RestrictedControl[]): PodSecurityOptOut {
    return new PodSecurityOptOut(reason, controls);
  }

  /** Why the opt-out is needed. */
  public readonly reason: string;
  /** The controls it allows to be broken. */
  public readonly controls: RestrictedControl[];

  private constructor(reason: string, controls: RestrictedControl[]) {
    this.reason = reason;
    this.controls = [...controls];
  }

  /** The policy rules (ids) a pod with this opt-out is exempt from. @internal */
  _ruleIds(): string[] {
    const ids: Record<RestrictedControl, string[]> = {
      [RestrictedControl.RUN_AS_ROOT]: ['PS14-run-as-non-root', 'PS15-run-as-user'],
      [RestrictedControl.PRIVILEGE_ESCALATION]: ['PS13-privilege-escalation'],
      [RestrictedControl.CAPABILITIES]: ['PS4-capabilities'],
    };
    return [...new Set(this.controls.flatMap((c) => ids[c] ?? []))].sort();
  }

  /** True when this opt-out covers `control`. */
  covers(control: RestrictedControl): boolean {
    return this.controls.includes(control);
  }
}
