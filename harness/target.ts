import type { BlockDevice } from '../src/device/block-device.ts';
import type { RecoveryProcedure } from '../recovery/procedure.ts';
import type { CrashModel } from './sim/crash-states.ts';
import type { Spec } from './spec/spec.ts';

/**
 * What the harness checks, in general terms. The replicated disk, the transactional disk,
 * the whole stack and a user's own layer are all targets; a mail-server target plugs in
 * the same way (its Op/Res/Obs are mail operations and a mailbox listing).
 *
 * The harness builds `devices` as simulated devices, calls `format` (not crash-tested),
 * opens the layer with `recovery`, runs a workload's clients concurrently through `run`,
 * and after every crash opens the layer again with `recovery` over what the crash left,
 * reads the whole state back with `readBack`, and checks the history against `spec`.
 */
export interface Target<L = any, Op = any, Res = any, Obs = any> {
  readonly name: string;
  /** One line: what is checked against which spec. */
  readonly description: string;
  /** The devices the layer sits on, in the order `recovery` takes them. */
  readonly devices: readonly DeviceSetup[];
  /** The crash models this target is checked under. */
  readonly models: readonly CrashModel[];
  /**
   * True when the layer is meant to survive a disk that drops out and later comes back
   * with stale contents (the replicated disk's epochs), so the fail model tries that too.
   */
  readonly transientFailures?: boolean;
  /** Writes the initial on-disk format onto fresh devices. Runs before the workload; not crash-tested. */
  format?(devices: BlockDevice[]): Promise<void>;
  /** Opens the layer over the devices: the layer's recovery procedure (run at start and after every crash). */
  readonly recovery: RecoveryProcedure<BlockDevice[], L>;
  /** Runs one client operation and returns its result for the history. */
  run(layer: L, op: Op): Promise<Res>;
  /** Reads the whole state back through the layer (after recovery). */
  readBack(layer: L): Promise<Obs>;
  /** The spec this target must refine under `model`. */
  spec(model: CrashModel): Spec<any, Op, Res, Obs>;
  /** The shipped small-scope workloads the default suite runs exhaustively. */
  readonly workloads: readonly Workload<Op>[];
}

export interface DeviceSetup {
  readonly numBlocks: number;
  readonly blockSize: number;
  /** A label (storeId, index; epoch starts at 0) for a device of a replicated pair. */
  readonly label?: { storeId: string; index: 0 | 1 };
}

/** Clients run concurrently; each runs its operations in order. */
export interface Workload<Op = any> {
  readonly name: string;
  readonly clients: readonly (readonly Op[])[];
  /**
   * Crash recovery at most this deep for this workload, whatever the run's depth: for a
   * workload whose operations' recovery another workload already crashes deeper, where the
   * deeper levels would only repeat that check at many times the cost.
   */
  readonly maxDepth?: number;
  /**
   * Only these of the target's crash models for this workload: for a workload whose
   * operation differs from another workload's only above what the other models test (the
   * same stack under disk failure or torn sectors), where they would repeat that check.
   */
  readonly models?: readonly CrashModel[];
}
