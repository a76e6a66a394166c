import type { BlockDevice } from '../../src/device/block-device.ts';
import { ReplicatedDisk } from '../../src/replicated/replicated-disk.ts';
import { procedure, type RecoveryProcedure } from '../../recovery/procedure.ts';
import type { DiskOp } from '../spec/atomic-disk.ts';
import type { DeviceSetup, Target, Workload } from '../target.ts';
import { diskTarget } from './disk-target.ts';

export const REPLICATED_BLOCKS = 3;
const STORE_ID = '7769e1d15c0ffee00000000000000001';

export const replicatedDevices: readonly DeviceSetup[] = [
  { numBlocks: REPLICATED_BLOCKS, blockSize: 4096, label: { storeId: STORE_ID, index: 0 } },
  { numBlocks: REPLICATED_BLOCKS, blockSize: 4096, label: { storeId: STORE_ID, index: 1 } },
];

const w = (addr: number, val: number): DiskOp => ({ t: 'write', addr, val });
const r = (addr: number): DiskOp => ({ t: 'read', addr });
const f: DiskOp = { t: 'flush' };

/** Small-scope workloads: every point of each is crashed in the default suite. */
export const replicatedWorkloads: readonly Workload<DiskOp>[] = [
  { name: 'rd-sequential', clients: [[w(0, 1), w(1, 2), f, w(0, 3), r(0), f]] },
  // Two clients on the same address: what the per-address lock is for.
  { name: 'rd-same-address', clients: [[w(0, 11), f, r(1)], [w(0, 12), w(1, 13)], [r(0), w(2, 14), f]] },
  // Two writers race on one address and each reads it back: a lost lock shows as mirrors that disagree.
  { name: 'rd-write-race', clients: [[w(0, 21), r(0)], [w(0, 22), r(0)]] },
  // Several rounds of racing writers and a reader whose own writes are the points where a
  // disk can fail between its reads: without the lock the mirrors end different, and a
  // read from the survivor then contradicts an earlier read (caught under most seeds, not
  // one lucky interleaving).
  {
    name: 'rd-lost-lock',
    clients: [
      [w(0, 31), w(0, 33), w(0, 35)],
      [w(0, 32), w(0, 34), w(0, 36)],
      [r(0), w(1, 37), r(0), w(1, 38), r(0), w(1, 39), r(0)],
    ],
  },
];

/** ReplicatedDisk (or a subclass, for mutants) as a recovery procedure over two devices. */
export function replicatedRecovery(Disk: typeof ReplicatedDisk = ReplicatedDisk, name = 'replicated-disk'): RecoveryProcedure<BlockDevice[], ReplicatedDisk> {
  return procedure<BlockDevice[], ReplicatedDisk>(name, ([d0, d1]) => Disk.open(d0, d1));
}

/** The replicated disk alone over two labelled simulated devices. */
export function replicatedTarget(Disk: typeof ReplicatedDisk = ReplicatedDisk, name = 'replicated'): Target {
  return diskTarget({
    name,
    description: 'ReplicatedDisk over two devices: buffered atomic disk over buffered devices, synchronous over synchronous',
    devices: replicatedDevices,
    models: ['sync', 'buffered', 'fail'],
    numBlocks: REPLICATED_BLOCKS,
    recovery: replicatedRecovery(Disk),
    workloads: replicatedWorkloads,
    transientFailures: true,
  });
}
