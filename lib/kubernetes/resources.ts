import { Cpu, Size } from '../core/size';

/** A CPU request and limit. */
export interface CpuRange {
  /**
   * What the scheduler reserves.
   * @default - the owner's default
   */
  readonly request?: Cpu;
  /**
   * The most the container may use.
   * @default - the owner's default
   */
  readonly limit?: Cpu;
}

/** A memory request and limit. */
export interface MemoryRange {
  /**
   * What the scheduler reserves.
   * @default - the owner's default
   */
  readonly request?: Size;
  /**
   * The most the container may use; above it the container is OOM-killed.
   * @default - the owner's default
   */
  readonly limit?: Size;
}

/** An ephemeral-storage request and limit: the container's logs and writable layer. */
export interface StorageRange {
  /**
   * What the scheduler reserves on the node's disk.
   * @default - the owner's default
   */
  readonly request?: Size;
  /**
   * The most the container may write; above it the kubelet evicts the pod.
   * @default - the owner's default
   */
  readonly limit?: Size;
}

/**
 * CPU, memory and ephemeral storage of one container. The emptyDir volumes of
 * a pod are added to the ephemeral storage of the first container that mounts
 * each (the main container for volumes only init containers mount), so the
 * scheduler and the quota count the disk the pod can fill.
 */
export interface ContainerResources {
  /**
   * CPU request and limit.
   * @default - request Cpu.millicores(100), limit Cpu.millicores(500)
   */
  readonly cpu?: CpuRange;
  /**
   * Memory request and limit.
   * @default - request Size.mebibytes(64), limit Size.mebibytes(256)
   */
  readonly memory?: MemoryRange;
  /**
   * Ephemeral-storage request and limit, before the emptyDir volumes the container is charged for.
   * @default - request Size.mebibytes(16), limit Size.mebibytes(64)
   */
  readonly ephemeralStorage?: StorageRange;
}
