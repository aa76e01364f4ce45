/** Pod Security "restricted", control by control, over a synthesized pod spec (snake_case, as in cdk.tf.json). */
import { dig } from './synth';

/** A container block of cdk.tf.json. */
export type Container = Record<string, unknown>;

/** Every container of a pod spec, init containers included. */
export function containersOf(spec: Record<string, unknown>): Container[] {
  return [...((spec.container as Container[]) ?? []), ...((spec.init_container as Container[]) ?? [])];
}

/** Pod Security "restricted" (which includes "baseline"), control by control, as the admission plugin checks it. */
export const RESTRICTED_CONTROLS: Array<[string, (spec: Record<string, unknown>) => boolean]> = [
  ['host namespaces: hostNetwork, hostPID, hostIPC unset or false', (s) => !s.host_network && !s.host_pid && !s.host_ipc],
  ['privileged containers: none', (s) => containersOf(s).every((c) => dig(c, 'security_context.privileged') !== true)],
  ['hostPath volumes: none', (s) => ((s.volume as Container[]) ?? []).every((v) => v.host_path === undefined)],
  ['host ports: none', (s) => containersOf(s).every((c) => ((c.port as Container[]) ?? []).every((p) => !p.host_port))],
  [
    'volume types: only configMap, csi, downwardAPI, emptyDir, ephemeral, PVC, projected, secret',
    (s) =>
      ((s.volume as Container[]) ?? []).every((v) =>
        Object.keys(v)
          .filter((k) => k !== 'name')
          .every((k) => ['config_map', 'csi', 'downward_api', 'empty_dir', 'ephemeral', 'persistent_volume_claim', 'projected', 'secret'].includes(k)),
      ),
  ],
  ['allowPrivilegeEscalation: false on every container', (s) => containersOf(s).every((c) => dig(c, 'security_context.allow_privilege_escalation') === false)],
  [
    'runAsNonRoot: true on the pod or every container',
    (s) => dig(s, 'security_context.run_as_non_root') === true || containersOf(s).every((c) => dig(c, 'security_context.run_as_non_root') === true),
  ],
  [
    'runAsUser: not 0 anywhere',
    (s) => dig(s, 'security_context.run_as_user') !== '0' && containersOf(s).every((c) => dig(c, 'security_context.run_as_user') !== '0'),
  ],
  [
    'seccomp: RuntimeDefault or Localhost',
    (s) =>
      ['RuntimeDefault', 'Localhost'].includes(dig(s, 'security_context.seccomp_profile.type') as string) &&
      containersOf(s).every((c) => [undefined, 'RuntimeDefault', 'Localhost'].includes(dig(c, 'security_context.seccomp_profile.type') as string)),
  ],
  [
    'capabilities: drop ALL, add at most NET_BIND_SERVICE',
    (s) =>
      containersOf(s).every(
        (c) =>
          ((dig(c, 'security_context.capabilities.drop') as string[]) ?? []).includes('ALL') &&
          ((dig(c, 'security_context.capabilities.add') as string[]) ?? []).every((cap) => cap === 'NET_BIND_SERVICE'),
      ),
  ],
  ['sysctls: none set', (s) => dig(s, 'security_context.sysctl') === undefined],
  ['procMount, SELinux and AppArmor left at their defaults', (s) => containersOf(s).every((c) => dig(c, 'security_context.se_linux_options') === undefined && dig(c, 'security_context.proc_mount') === undefined)],
];
