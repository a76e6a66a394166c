import type { BlockDevice } from '../../src/device/block-device.ts';
import { ReplicatedDisk } from '../../src/replicated/replicated-disk.ts';
import { formatLog } from '../../src/wal/log-format.ts';
import { LogDisk } from '../../src/wal/log-disk.ts';
import { compose } from '../../recovery/compose.ts';
import { logRecoveryOf } from '../../recovery/log-recovery.ts';
import { procedure, type RecoveryProcedure } from '../../recovery/procedure.ts';
import type { CrashModel } from '../sim/crash-states.ts';
import type { DiskObs } from '../spec/atomic-disk.ts';
import { transactionalDiskSpec, type TxOp, type TxRes } from '../spec/transactional-disk.ts';
import type { DeviceSetup, Target, Workload } from '../target.ts';
import { blockFor, idOf } from '../values.ts';
import { readBackDisk, replicatedRecovery } from './index-helpers.ts';

/** Data blocks the transactional targets offer, log blocks, and the device size that gives both. */
export const TX_DATA_BLOCKS = 3;
export const TX_LOG_BLOCKS = 6;
const TX_DEVICE_BLOCKS = 3 + TX_LOG_BLOCKS + TX_DATA_BLOCKS;
const STORE_ID = '7769e1d15c0ffee00000000000000002';

const tx = (reads: number[], writes: [number, number][]): TxOp => ({ t: 'tx', reads, writes });
const r = (addr: number): TxOp => ({ t: 'read', addr });

export const transactionalWorkloads: readonly Workload<TxOp>[] = [
  // Multi-block transactions that overlap, and enough of them to wrap the log and install.
  { name: 'tx-transfer', clients: [[tx([], [[0, 1], [1, 2]]), tx([0], [[2, 3]]), r(2)], [tx([], [[1, 4], [2, 5]]), tx([1], [[0, 6]])]] },
  // Two clients that read before they write reach the log while the first group's flush
  // runs, so the writer appends a second group with the first still in flight (its pipeline).
  { name: 'tx-pipeline', clients: [[tx([], [[0, 1]]), tx([], [[0, 2]])], [tx([1], [[1, 3]])], [tx([2], [[2, 4]])]] },
];

export async function runTxOp(layer: LogDisk, op: TxOp): Promise<TxRes> {
  if (op.t === 'read') return idOf(await layer.read(op.addr));
  return layer.transaction(async (t) => {
    const got: number[] = [];
    for (const a of op.reads) got.push(idOf(await t.read(a)));
    for (const [a, v] of op.writes) t.write(a, blockFor(v, t.blockSize));
    return got;
  });
}

function txTarget(name: string, description: string, devices: readonly DeviceSetup[], models: readonly CrashModel[], recovery: RecoveryProcedure<BlockDevice[], LogDisk>, format: (devs: BlockDevice[]) => Promise<void>, transientFailures = false): Target<LogDisk, TxOp, TxRes, DiskObs> {
  return {
    name,
    description,
    devices,
    models,
    transientFailures,
    format,
    recovery,
    run: runTxOp,
    readBack: (layer) => readBackDisk(layer),
    spec: () => transactionalDiskSpec(TX_DATA_BLOCKS),
    workloads: transactionalWorkloads,
  };
}

/** The transactional disk (write-ahead log) alone over one plain device. */
export function transactionalTarget(Disk: typeof LogDisk = LogDisk, name = 'transactional'): Target {
  return txTarget(
    name,
    'LogDisk over one device: atomic transactional disk (committed = durable) under every device model',
    [{ numBlocks: TX_DEVICE_BLOCKS, blockSize: 4096 }],
    ['sync', 'buffered', 'torn'],
    procedure<BlockDevice[], LogDisk>('log', ([d]) => logRecoveryOf(Disk).recover(d)),
    async ([d]) => void (await formatLog(d, { logBlocks: TX_LOG_BLOCKS })),
  );
}

/** The whole stack: the log over the replicated disk over two labelled devices; recovery composed. */
export function stackTarget(Disk: typeof LogDisk = LogDisk, name = 'stack'): Target {
  const devices: DeviceSetup[] = [0, 1].map((i) => ({ numBlocks: TX_DEVICE_BLOCKS, blockSize: 4096, label: { storeId: STORE_ID, index: i as 0 | 1 } }));
  return txTarget(
    name,
    'LogDisk over ReplicatedDisk over two devices, recovery = replicated-disk > log: atomic transactional disk',
    devices,
    ['sync', 'buffered', 'torn', 'fail'],
    compose(replicatedRecovery(ReplicatedDisk), logRecoveryOf(Disk)),
    async ([d0, d1]) => {
      const rd = await ReplicatedDisk.open(d0, d1);
      await formatLog(rd, { logBlocks: TX_LOG_BLOCKS });
    },
    true,
  );
}
