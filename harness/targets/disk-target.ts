import type { BlockDevice } from '../../src/device/block-device.ts';
import type { RecoveryProcedure } from '../../recovery/procedure.ts';
import type { CrashModel } from '../sim/crash-states.ts';
import { atomicDiskSpec, type DiskObs, type DiskOp, type DiskRes } from '../spec/atomic-disk.ts';
import type { DeviceSetup, Target, Workload } from '../target.ts';
import { blockFor, idOf } from '../values.ts';

/** Runs one atomic-disk operation on any BlockDevice-shaped layer. */
export async function runDiskOp(layer: BlockDevice, op: DiskOp): Promise<DiskRes> {
  switch (op.t) {
    case 'write':
      await layer.write(op.addr, blockFor(op.val, layer.blockSize));
      return null;
    case 'read':
      return idOf(await layer.read(op.addr));
    case 'flush':
      await layer.flush();
      return null;
  }
}

/** Reads every block of the layer, in address order. */
export async function readBackDisk(layer: BlockDevice): Promise<DiskObs> {
  const out: DiskObs = [];
  for (let a = 0; a < layer.numBlocks; a++) out.push(idOf(await layer.read(a)));
  return out;
}

export interface DiskTargetOptions<L extends BlockDevice> {
  name: string;
  description: string;
  devices: readonly DeviceSetup[];
  models: readonly CrashModel[];
  /** Blocks the layer offers upward (the spec's size). */
  numBlocks: number;
  recovery: RecoveryProcedure<BlockDevice[], L>;
  format?: (devices: BlockDevice[]) => Promise<void>;
  workloads: readonly Workload<DiskOp>[];
  transientFailures?: boolean;
  /** Which spec under which model; default: buffered atomic disk under 'buffered', synchronous otherwise. */
  buffered?: (model: CrashModel) => boolean;
}

/** A target whose layer is a block device checked against the atomic disk. */
export function diskTarget<L extends BlockDevice>(o: DiskTargetOptions<L>): Target<L, DiskOp, DiskRes, DiskObs> {
  const isBuffered = o.buffered ?? ((m: CrashModel) => m === 'buffered');
  return {
    name: o.name,
    description: o.description,
    devices: o.devices,
    models: o.models,
    transientFailures: o.transientFailures,
    format: o.format,
    recovery: o.recovery,
    run: runDiskOp,
    readBack: readBackDisk,
    spec: (model) => atomicDiskSpec(o.numBlocks, isBuffered(model)),
    workloads: o.workloads,
  };
}
