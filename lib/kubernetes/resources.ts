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

/** CPU and memory of one container. */
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
}
